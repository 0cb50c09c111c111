"""The one HTTP client: base URL, auth header, retries, timeouts, --explain.

Commands never touch ``requests``; they call an endpoint function of
:mod:`vast_magic.api.tfa`, which calls :meth:`Client.call` and gets the
answer's JSON or a :class:`~vast_magic.api.errors.VastError`.  ``requests`` is
imported on first use (it costs tens of milliseconds), not when the extension
loads.

:meth:`Client.call` is a short loop; what it decides is in small functions
that are tested on their own: :func:`outcome_of_exception` (what a failure
means), :func:`should_retry` (may this outcome be tried again?) and
:func:`retry_wait` (how long to wait first).
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Callable

from .. import __version__
from .errors import BadAnswer, TransportError, VastError, from_answer

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Answers that must never be repeated: the code was judged, or the server
# throttles on purpose.  Re-sending would count towards a lockout.
NO_RETRY_CODES = frozenset({"tfa_locked", "2fa_verification_failed", "sms_rate_limited",
                            "twilio_rate_limited", "preauth_phone_cap"})
SECRET_FIELDS = frozenset({"secret", "code", "backup_code", "backup_codes", "session_key",
                           "provisioning_uri", "api_key"})
REDACTED = "<redacted>"
FIRST_WAIT = 0.15   # seconds before the first retry without Retry-After
WAIT_GROWTH = 1.5   # each further wait is this much longer
CONNECT_TIMEOUT_MAX = 10.0


def new_session():
    """A requests.Session for the life of one shell (connections are reused)."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = f"vast-magic/{__version__}"
    return session


def redact(value):
    """A copy of a JSON value with secret fields replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_FIELDS and v not in (None, "") else redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def api_url(base: str, path: str) -> str:
    """``https://host`` + ``/tfa/status/`` → ``https://host/api/v0/tfa/status/``."""
    base = base.rstrip("/")
    if not base.endswith("/api/v0"):
        base += "/api/v0"
    return base + "/" + path.lstrip("/")


# -- policy: small pure functions ---------------------------------------------

@dataclass
class Outcome:
    """What one attempt came to.

    ``kind`` is ``answer`` (``status`` and ``data`` set), or a transport
    failure: ``refused`` (nothing was sent), ``connect_timeout`` (no
    connection), ``lost`` (the connection broke), ``read_timeout``.
    """

    kind: str
    status: int | None = None
    data: object = None
    retry_after: float | None = None

    @property
    def app_code(self) -> str | None:
        return self.data.get("error") if isinstance(self.data, dict) else None


def should_retry(outcome: Outcome, *, unsafe: bool) -> bool:
    """May this outcome be tried again?

    ``unsafe`` marks a request the server may already have acted on (one that
    emails or texts a code, or spends a code): it is repeated only when the
    server cannot have acted — no connection was made, or a gateway answered
    503 (or a rate limiter 429) before reaching the service.
    """
    if outcome.kind in ("refused", "connect_timeout"):
        return True
    if outcome.kind in ("lost", "read_timeout"):
        return not unsafe
    if outcome.status not in RETRY_STATUSES or outcome.app_code in NO_RETRY_CODES:
        return False
    return not unsafe or outcome.status == 503 or (outcome.status == 429
                                                   and outcome.app_code is None)


def retry_wait(attempt: int, retry_after: float | None, cap: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...):
    the server's Retry-After up to ``cap``, else a growing pause."""
    if retry_after is not None:
        return min(retry_after, cap)
    return FIRST_WAIT * WAIT_GROWTH ** (attempt - 1)


def parse_retry_after(headers) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), or None."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _refused(exc: BaseException) -> bool:
    """Did the connection fail before anything was sent (refused, no route)?"""
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError):
            return True
        if type(e).__name__ in ("NewConnectionError", "NameResolutionError"):
            return True
        stack.extend([getattr(e, "reason", None), e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return False


def outcome_of_exception(exc: Exception, url: str) -> Outcome:
    """A failure that may be retried, as an Outcome; raises TransportError for
    those that never are (TLS, proxy, a bad URL)."""
    import requests.exceptions as rex

    if isinstance(exc, rex.ConnectTimeout):
        return Outcome("connect_timeout")
    if isinstance(exc, rex.Timeout):
        return Outcome("read_timeout")
    if isinstance(exc, rex.SSLError):
        raise TransportError(f"No secure (TLS) connection to {url} could be made: its "
                             "certificate was not accepted, or something in between "
                             "intercepts the connection.", code="tls_error")
    if isinstance(exc, rex.ProxyError):
        raise TransportError("The HTTP proxy (HTTPS_PROXY / HTTP_PROXY) did not pass the "
                             f"request on to {url}.", code="proxy_error")
    if isinstance(exc, rex.ConnectionError):
        return Outcome("refused" if _refused(exc) else "lost")
    if isinstance(exc, (rex.InvalidURL, rex.InvalidSchema, rex.MissingSchema)):
        raise TransportError(f"The server address {url!r} is not a valid URL "
                             f"({type(exc).__name__}).", code="bad_url")
    raise TransportError(f"The request to {url} failed: {type(exc).__name__}.",
                         code="request_failed")


_EXPLAIN_FAILURE = {"connect_timeout": "← no connection (timed out)",
                    "refused": "← connection refused", "lost": "← connection lost"}


class Client:
    """Speaks to the Vast REST API for one magic call, over a shared session."""

    def __init__(self, session, url: str, api_key: str | None, *, attempts: int = 3,
                 timeout: float = 30.0, retry_after_cap: float = 30.0,
                 explain: Callable[[str], None] | None = None, key_source: str | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.session = session
        self.url = url
        self.api_key = api_key
        self.attempts = max(1, int(attempts))
        self.timeout = float(timeout)
        self.retry_after_cap = float(retry_after_cap)
        self.explain = explain
        self.key_source = key_source
        self.sleep = sleep

    def _say(self, text: str) -> None:
        if self.explain is not None:
            self.explain(text)

    def call(self, method: str, path: str, body: dict | None = None, *, unsafe: bool = False,
             context: dict | None = None, attempts: int | None = None) -> dict:
        """Send one request (with retries, see :func:`should_retry`) and return
        the JSON answer; ``context`` goes to the error (method, step, noun)."""
        url = api_url(self.url, path)
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        payload = None if body is None else json.dumps(body).encode()
        if payload is not None:
            headers["Content-Type"] = "application/json"
        attempts = self.attempts if attempts is None else attempts
        for attempt in range(1, attempts + 1):
            if self.explain is not None:
                self._explain_request(method, url, body, attempt, attempts)
            outcome = self._attempt(method, url, payload, headers)
            if attempt < attempts and should_retry(outcome, unsafe=unsafe):
                pause = retry_wait(attempt, outcome.retry_after, self.retry_after_cap)
                if outcome.kind == "answer":
                    self._say(f"  retrying in {pause:.2f} s")
                self.sleep(pause)
                continue
            return self._result(outcome, unsafe, context)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, method: str, url: str, payload, headers) -> Outcome:
        import requests

        started = time.perf_counter()
        try:
            resp = self.session.request(method, url, data=payload, headers=headers,
                                        timeout=(self.connect_timeout, self.timeout))
        except requests.exceptions.RequestException as exc:
            try:
                outcome = outcome_of_exception(exc, self.url)
            except TransportError as err:
                self._say({"tls_error": "← no secure connection",
                           "proxy_error": "← proxy refused"}.get(err.code, "← failed"))
                raise err from None
            self._say(_EXPLAIN_FAILURE.get(outcome.kind)
                      or f"← no answer within {self.timeout:g} s")
            return outcome
        elapsed = (time.perf_counter() - started) * 1000
        self._say(f"← {resp.status_code} {resp.reason} in {elapsed:.0f} ms")
        self._response = resp
        return Outcome("answer", resp.status_code, _json(resp), parse_retry_after(resp.headers))

    @property
    def connect_timeout(self) -> float:
        return min(CONNECT_TIMEOUT_MAX, self.timeout)

    def _result(self, outcome: Outcome, unsafe: bool, context: dict | None) -> dict:
        """The answer's data, or the error the outcome stands for."""
        kind, data = outcome.kind, outcome.data
        if kind == "connect_timeout":
            raise TransportError(f"Could not connect to {self.url} within "
                                 f"{self.connect_timeout:g} s.", code="timeout")
        if kind == "read_timeout":
            raise TransportError(f"No answer from {self.url} within {self.timeout:g} s.",
                                 code="timeout", may_have_acted=unsafe)
        if kind == "refused":
            raise TransportError(f"Could not connect to {self.url}: the connection was "
                                 "refused or the host is unknown.", code="connection_refused")
        if kind == "lost":
            raise TransportError(f"The connection to {self.url} broke before an answer came.",
                                 code="connection_lost", may_have_acted=unsafe)
        status = outcome.status
        if isinstance(data, dict) and (status >= 400 or data.get("error")
                                       or data.get("success") is False):
            raise from_answer(status, data, key_source=self.key_source, **(context or {}))
        if status >= 400 or not isinstance(data, dict):
            raise self._bad_answer(status, data)
        return data

    def _bad_answer(self, status: int, data) -> BadAnswer:
        resp = self._response
        kind = resp.headers.get("Content-Type", "").split(";")[0] or "no content type"
        what = f"{status} {resp.reason}".strip()
        body = f"with {kind} instead of JSON" if data is None else "with JSON of an unknown shape"
        if status >= 500:
            why = "a problem on the server's side, not with your input"
        elif status == 429:
            why = "too many requests"
        elif status < 400:
            why = "an answer that is not the API's JSON"
        else:
            why = "not an API answer"
        return BadAnswer(f"The server answered {what} {body} ({why}).", code="bad_answer",
                         status=status,
                         data={"error": "bad_answer", "status": status, "content_type": kind})

    def _explain_request(self, method: str, url: str, body: dict | None, attempt: int,
                         attempts: int) -> None:
        shown = "" if body is None else " " + json.dumps(redact(body))
        auth = " (Authorization: Bearer <redacted>)" if self.api_key else " (no API key)"
        again = f"  [attempt {attempt} of {attempts}]" if attempt > 1 else ""
        self._say(f"→ {method} {url}{shown}{auth}{again}")


def _json(resp):
    try:
        return resp.json()
    except ValueError:
        return None


__all__ = ["Client", "Outcome", "VastError", "api_url", "new_session", "parse_retry_after",
           "redact", "retry_wait", "should_retry"]
