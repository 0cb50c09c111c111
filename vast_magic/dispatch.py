"""What one ``%vast`` line does: parse → key → command → show.

Imported by the first ``%vast`` line, not by ``%load_ext``.  The commands
themselves (:mod:`vast_magic.tfa`) know nothing of IPython; this module is
the glue: it owns the pending challenge in the user namespace, picks how to
ask for a code, and turns results into what the cell shows or returns.
"""

from __future__ import annotations

import json
import os
import sys

from IPython.core.error import UsageError

from . import credentials, grammar, prompt, tfa
from .errors import AUTH_NEW, CODE_LIFE_MINUTES, VastError
from .pending import PendingChallenge
from .render import RawAnswer, StatusView

# Server answers after which the pending challenge is worthless.
CLEARS_PENDING = frozenset({"2fa_expired", "no_pending_authorization", "challenge_not_found"})


def run_line(magics, line: str):
    """Run one ``%vast`` line for a :class:`~vast_magic.magic.VastMagics`."""
    try:
        opts = grammar.parse(grammar.split(line))
    except grammar.HelpShown:
        return None
    command = COMMANDS[(opts.command, opts.subcommand)]
    try:
        return command(magics, opts)
    except VastError as exc:
        if opts.raw and exc.data is not None:
            from .client import redact

            print(json.dumps(redact(exc.data)))
        raise
    except KeyboardInterrupt:
        pending = magics.pending()
        hint = (["The pending authorization is kept."]
                + tfa.finish_later_hint(pending).splitlines()) if pending else []
        raise VastError("Interrupted before an answer came.", hint,
                        code="interrupted") from None


def warn_if_typed(magics, key: str, what: str) -> None:
    """A key written literally on the line is now in the history and the notebook."""
    raw = magics.raw_cell
    if raw is not None and key not in raw:
        return  # it came from $var or {var}
    print(f"Warning: the API key typed on this line ({what}) is now in this session's input "
          "history, and in the notebook file if this is a notebook. Prefer `%vast set api-key` "
          "with no KEY (a hidden prompt), and clear this cell.", file=sys.stderr)


def server_url(magics, opts) -> str:
    """The server for this line: --url, %config VastMagics.url, VAST_URL, the default."""
    url = opts.url or magics.url or os.environ.get("VAST_URL") or grammar.DEFAULT_URL
    where = "(from --url, %config VastMagics.url or VAST_URL)"
    if not url.lower().startswith(("https://", "http://")):
        raise UsageError(f"The server address {url!r} {where} must start with https:// "
                         f"(default {grammar.DEFAULT_URL}).")
    if any(ch in url for ch in "\\@") or not url.isprintable() or " " in url:
        raise UsageError(f"The server address {url!r} {where} has characters a server "
                         "address does not need (\\, @, spaces): give just "
                         "https://host[:port].")
    host = _host(url)
    if host is None:
        raise UsageError(f"The server address {url!r} {where} is not a valid URL: give "
                         "https://host[:port].")
    if url.lower().startswith("http://") and not _loopback(host):
        raise UsageError(f"The server address {url!r} {where} is plain http: your API key "
                         "would travel unencrypted. Use https:// (plain http is accepted "
                         "only for a server on this machine, such as the emulator).")
    return url


def _host(url: str) -> str | None:
    """The host requests will connect to (parsed as requests parses it), or None."""
    try:
        from urllib3.util import parse_url

        return parse_url(url).host or None
    except ValueError:  # urllib3's LocationParseError is a ValueError
        return None


def _loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def client_for(magics, opts, url: str | None = None):
    """A Client for this line: the key, URL, attempts and explain output."""
    from .client import Client

    key = credentials.resolve(opts.api_key)
    if key is None:
        raise VastError(credentials.NO_KEY_HELP[0], credentials.NO_KEY_HELP[1:],
                        code="no_api_key")
    if opts.api_key:
        warn_if_typed(magics, opts.api_key, "--api-key")
    out = sys.stderr if opts.raw else sys.stdout
    url = url or server_url(magics, opts)
    return Client(magics.session, url, key.value, attempts=opts.retry or magics.retry,
                  timeout=magics.timeout, retry_after_cap=magics.retry_after_cap,
                  key_source=key.source,
                  explain=(lambda text: print(text, file=out)) if opts.explain else None)


def show(result: tfa.Result, opts):
    if opts.raw:
        return RawAnswer(result.data)
    print("\n".join(result.lines))
    return None


def started_message(pending: PendingChallenge) -> str:
    with_id = f" (method {pending.method_id})" if pending.method_id is not None else ""
    if pending.method == "email" and pending.asked not in ("", "email"):
        return ("This account has no 2FA method yet, so the server emailed the code instead "
                f"(valid {CODE_LIFE_MINUTES} minutes).")
    if pending.method == "email":
        return ("Authorization started: a 6-digit code was emailed to you "
                f"(valid {CODE_LIFE_MINUTES} minutes).")
    if pending.method == "sms":
        return (f"Authorization started with SMS{with_id}: a 6-digit code was texted to you "
                f"(valid {CODE_LIFE_MINUTES} minutes).")
    if pending.method == "totp":
        return (f"Authorization started with your authenticator app{with_id}: use the code "
                "it shows now.")
    return (f"Authorization started with {pending.method}: a code was sent to it, or read it "
            "from your authenticator app if that is what it is.")


def auth_new(magics, opts):
    finishing = opts.code is not None or opts.secret is not None
    starting = (opts.method_type is not None or opts.method_id is not None
                or opts.backup_code is not None)
    if finishing and starting:
        raise UsageError("--code/--secret finish a pending authorization, while "
                         "-t/--method-id/--backup-code start one: use one or the other.")
    if finishing:
        return auth_new_finish(magics, opts)

    client = client_for(magics, opts)
    try:
        outcome = tfa.start(client, method_type=opts.method_type, method_id=opts.method_id,
                            backup_code=opts.backup_code)
    except KeyboardInterrupt:
        spent = ("the backup code may be used up" if opts.backup_code is not None
                 else "a code may arrive, but without its secret it cannot be used")
        raise VastError("Interrupted before step 1 answered.",
                        [f"If the request reached the server, {spent}. Start again: "
                         f"{AUTH_NEW}"], code="interrupted") from None
    if isinstance(outcome, tfa.Result):  # a backup code: done in one request
        return show(outcome, opts)
    pending = outcome
    magics.keep(pending)
    if opts.raw:
        return RawAnswer({"success": True, "secret": pending.secret})
    print(started_message(pending))
    asker = None if opts.no_prompt else prompt.choose(magics.shell, magics.code_prompt, print)
    if asker is None:
        print(tfa.finish_later_hint(pending))
        return None
    try:
        result = tfa.complete(client, pending, asker, print)
    except VastError as exc:
        if exc.code in CLEARS_PENDING:
            magics.drop(pending.secret)
        raise
    if result is None:
        print("No code entered; the authorization is still pending.\n"
              + tfa.finish_later_hint(pending))
        return None
    magics.drop(pending.secret)
    return show(result, opts)


def auth_new_finish(magics, opts):
    if opts.code is None:
        raise UsageError(f"--secret needs --code: `{AUTH_NEW} --secret SECRET --code CODE`.")
    code = tfa.normalize_code(opts.code)
    if code is None:
        raise UsageError(tfa.bad_code_message(opts.code))
    pending = magics.pending()
    secret = opts.secret or (pending.secret if pending else None)
    if not secret:
        raise UsageError(
            "Nothing is pending, so --code has nothing to finish (no request was sent). "
            f"Start with `{AUTH_NEW}` (add -t sms, -t totp or --method-id ID to choose how), "
            f"then finish with `{AUTH_NEW} --code CODE`.")
    ours = pending is not None and pending.secret == secret
    client = client_for(magics, opts, url=_pending_server(magics, opts, pending) if ours else None)
    if ours and pending.key_id and credentials.fingerprint(client.api_key) != pending.key_id:
        raise UsageError(
            f"The pending authorization was started with another API key; finish it with "
            f"that key (this one is from {client.key_source}). It is kept.")
    try:
        result = tfa.finish(client, secret=secret, code=code,
                            method=pending.method_type if ours else None)
    except VastError as exc:
        if exc.code in CLEARS_PENDING:
            magics.drop(secret)
        raise
    magics.drop(secret)
    return show(result, opts)


def _pending_server(magics, opts, pending) -> str:
    """Finish where step 1 went: its server, unless --url names the same or another."""
    started = (pending.url or "").rstrip("/")
    if not opts.url:
        return pending.url or server_url(magics, opts)
    if started and opts.url.rstrip("/") != started:
        raise UsageError(f"The pending authorization was started at {pending.url}, not at "
                         f"{opts.url}; finish it without --url (it is kept).")
    return server_url(magics, opts)


def status(magics, opts):
    data = tfa.status(client_for(magics, opts))
    return RawAnswer(data) if opts.raw else StatusView(data)


def set_api_key(magics, opts):
    key = opts.key
    if key is None:
        key = prompt.ask_hidden(magics.shell, magics.code_prompt, "Vast.ai API key: ")
        if key is None:
            raise UsageError("No key entered; nothing was stored. (If this front end cannot "
                             "ask for input, set VAST_API_KEY in the kernel's environment.)")
    key = credentials.clean(key)
    if not key:
        raise UsageError("The key is empty; nothing was stored.")
    if not credentials.sendable(key):
        raise UsageError("That key contains characters an API key cannot have (non-ASCII or "
                         "control characters); nothing was stored. Copy it again.")
    if opts.key is not None:
        warn_if_typed(magics, key, "%vast set api-key KEY")
    where = credentials.store(key)
    if opts.raw:
        return RawAnswer({"success": True, "msg": where})
    print(where)
    return None


COMMANDS = {
    ("tfa", "auth-new"): auth_new,
    ("tfa", "status"): status,
    ("set", "api-key"): set_api_key,
}
