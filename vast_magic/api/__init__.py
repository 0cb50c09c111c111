"""The Vast 2FA API as plain Python: no IPython in here (a test holds it).

- :mod:`.client`    the HTTP client: URL rules, retries, timeouts, --explain
- :mod:`.errors`    what went wrong, as error types
- :mod:`.tfa`       one function per REST endpoint
- :mod:`.challenge` the challenge a step 1 opened, and what a code looks like
"""
