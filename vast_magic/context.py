"""One ``%vast`` line: parse it, build its context, run its command, show the outcome.

Imported by the first ``%vast`` line, not by ``%load_ext``.  A command gets a
:class:`Context` — the line's options, the settings, a client, the pending
challenges, and ways to say and show things — never the Magics object.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

from IPython.core.error import UsageError

from . import advice, credentials, grammar, prompt, waiting
from .wrap import wrap
from .api.challenge import Challenge
from .api.client import Client, redact
from .api.errors import SESSION_REQUIRED, BadKey, Locked, Refusal, VastError, WrongCode
from .render import RawAnswer
from .constants import DEFAULT_URL, LOCK_MINUTES, PENDING


@dataclass(frozen=True)
class Settings:
    """``%config VastMagics`` as this line sees it."""

    url: str = ""
    retry: int = 3
    timeout: float = 30.0
    retry_after_cap: float = 30.0
    deadline: float = 120.0
    code_prompt: str = "auto"
    show_tracebacks: bool = False


@dataclass
class Result:
    """What a command did: the server's answer and the lines to show."""

    data: dict
    lines: list[str] = field(default_factory=list)


class PendingStore:
    """Pending challenges in the user namespace, one name per purpose
    (:data:`~vast_magic.constants.PENDING`), hidden from ``%who``."""

    def __init__(self, shell):
        self.shell = shell

    def get(self, purpose: str) -> Challenge | None:
        value = self.shell.user_ns.get(PENDING[purpose][0])
        return value if getattr(value, "secret", None) else None

    def keep(self, challenge: Challenge) -> None:
        self.shell.push({PENDING[challenge.purpose][0]: challenge}, interactive=False)

    def drop(self, purpose: str, secret: str | None = None) -> bool:
        """Forget the purpose's challenge (only the one with that secret, if given)."""
        current = self.get(purpose)
        if current is None or (secret is not None and current.secret != secret):
            return False
        self.shell.drop_by_id({PENDING[purpose][0]: current})
        return True


class LockMemory:
    """The locks refusals told of in this session, by server, key and method, so
    that status can show those its table has no row for (email has none).

    ``seen`` maps (url, key fingerprint, method, method id) to when the lock ends.
    """

    def __init__(self, seen: dict):
        self.seen = seen

    def remember(self, where: tuple[str, str], exc: VastError, now: float | None = None):
        locked = isinstance(exc, Locked) or (isinstance(exc, WrongCode) and exc.locked())
        if not locked:
            return
        now = time.time() if now is None else now
        until = exc.locked_until or now + LOCK_MINUTES * 60  # no end said: the documented one
        self.seen[(*where, exc.method, exc.method_id)] = until

    def unshown(self, where: tuple[str, str], methods: list,
                now: float | None = None) -> list[tuple[str, float]]:
        """(what is locked, until when) for the current locks of this server and key
        that no row of ``methods`` (the status answer's) stands for."""
        now = time.time() if now is None else now
        for entry, until in list(self.seen.items()):
            if until <= now:
                del self.seen[entry]
        rows = [(m.get("method"), m.get("id")) for m in methods if isinstance(m, dict)]
        return [(_locked_name(kind, mid), until)
                for (url, key_id, kind, mid), until in self.seen.items()
                if (url, key_id) == where
                and not any(mid == rid if mid is not None else kind == rkind
                            for rkind, rid in rows)]


def _locked_name(kind: str | None, method_id: int | None) -> str:
    if method_id is not None:
        return f"method {method_id}"
    return {"email": "email verification", "sms": "your SMS method",
            "totp": "your authenticator app"}.get(kind or "", "a 2FA method")


class Context:
    """Everything a command may use for one line."""

    def __init__(self, opts, settings: Settings, *, shell, session: Callable[[], object],
                 raw_cell: str | None = None, locks: dict | None = None):
        self.opts = opts
        self.settings = settings
        self.shell = shell
        self.pending = PendingStore(shell)
        self.locks = LockMemory({} if locks is None else locks)
        self.where: tuple[str, str] | None = None  # this line's server and key fingerprint
        self._session = session
        self._raw_cell = raw_cell
        self.key: credentials.Key | None = None  # the key this line's client sends
        self.url_from: str | None = None  # where the server address came from (None: default)

    # -- saying and showing ------------------------------------------------------

    @staticmethod
    def say(text: str) -> None:
        print(wrap(text))

    def show(self, result: Result):
        """The cell's value for --raw (the answer as a dict), else print the lines."""
        if self.opts.raw:
            return RawAnswer(result.data)
        self.say("\n".join(result.lines))
        return None

    def warn_if_typed(self, key: str, what: str) -> None:
        """A key written literally on the line is now in the history and the notebook."""
        raw = self._raw_cell
        if raw is not None and key not in raw:
            return  # it came from $var or {var}
        print(f"Warning: the API key typed on this line ({what}) is now in this session's "
              "input history, and in the notebook file if this is a notebook. Prefer "
              "`%vast set api-key` with no KEY (a hidden prompt), and clear this cell.",
              file=sys.stderr)

    # -- asking ----------------------------------------------------------------------

    def person(self) -> str | None:
        """Where a person can be asked and shown things ("terminal", "line",
        "kernel"), or None: nobody (nbval, a pipe, --no-prompt)."""
        if getattr(self.opts, "no_prompt", False):
            return None
        return prompt.where(self.shell, self.settings.code_prompt)

    def code_asker(self):
        """How to ask for a code here (None: finish in a later cell)."""
        if getattr(self.opts, "no_prompt", False):
            return None
        return prompt.choose(self.shell, self.settings.code_prompt, self.say)

    def ask_line(self, message: str) -> str | None:
        return prompt.ask_line(self.shell, self.settings.code_prompt, message)

    def ask_hidden(self, message: str) -> str | None:
        return prompt.ask_hidden(self.shell, self.settings.code_prompt, message)

    # -- the server ------------------------------------------------------------------

    def server_url(self) -> str:
        """The server for this line: --url, %config VastMagics.url, VAST_URL, the default."""
        for url, source in ((self.opts.url, "--url"), (self.settings.url,
                                                         "%config VastMagics.url"),
                            (os.environ.get("VAST_URL"), "VAST_URL")):
            if url:
                check_url(url, f"(from {source})")
                self.url_from = source
                return url
        return DEFAULT_URL

    def client(self, url: str | None = None):
        """A Client for this line: the key, the server, attempts, --explain output."""
        opts = self.opts
        key = credentials.resolve(opts.api_key)
        if key is None:
            raise credentials.no_key_error()
        if opts.api_key:
            self.warn_if_typed(opts.api_key, "--api-key")
        self.key = key
        url = url or self.server_url()
        self.where = (url, credentials.fingerprint(key.value))
        out = sys.stderr if opts.raw else sys.stdout
        return Client(self._session(), url, key.value,
                      attempts=opts.retry or self.settings.retry,
                      timeout=self.settings.timeout,
                      retry_after_cap=self.settings.retry_after_cap,
                      line_deadline=self.settings.deadline, key_source=key.source,
                      explain=(lambda text: print(text, file=out)) if opts.explain else None,
                      notice=lambda text: print(wrap(text), file=sys.stderr, flush=True),
                      waiting=waiting.for_shell(self.shell, lambda: _host(url) or url,
                                                sys.stderr))


def check_url(url: str, where: str) -> None:
    """Refuse an address the key must not travel to; UsageError says why."""
    if not url.lower().startswith(("https://", "http://")):
        raise UsageError(f"The server address {url!r} {where} must start with https:// "
                         f"(default {DEFAULT_URL}).")
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


def _host(url: str) -> str | None:
    """The host requests will connect to (parsed as requests parses it), or None."""
    try:
        from urllib3.util import parse_url  # urllib3 loads with requests, on first use

        return parse_url(url).host or None
    except ValueError:  # urllib3's LocationParseError is a ValueError
        return None


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run_line(magics, line: str):
    """Run one ``%vast`` line for a :class:`~vast_magic.magic.VastMagics`.

    Only IPython's UsageError and VastError leave it: anything else is a bug,
    shown as one short line (never the frames, whose locals hold secrets)
    unless ``VastMagics.show_tracebacks`` is on.
    """
    settings = Settings(**{name: getattr(magics, name) for name in Settings.__dataclass_fields__})
    try:
        return _run(magics, line, settings)
    except UsageError as exc:  # IPython prints "UsageError: " and it as it is: wrapped here
        lead = "UsageError: "
        text = wrap(lead + str(exc))[len(lead):]
        if text == str(exc):
            raise
        raise UsageError(text) from None
    except VastError:
        raise
    except KeyboardInterrupt:
        raise VastError("Interrupted before an answer came.", code="interrupted") from None
    except Exception as exc:
        if settings.show_tracebacks:
            raise
        raise internal_error(exc) from None


def _run(magics, line: str, settings: Settings):
    try:
        opts = grammar.parse(grammar.split(line))
    except grammar.HelpShown:
        return None
    def new_context():
        return Context(opts, settings, shell=magics.shell, session=lambda: magics.session,
                       raw_cell=magics.raw_cell, locks=magics.locks)

    ctx = new_context()
    try:
        try:
            return opts.vast_command.run(ctx, opts)
        except BadKey:
            if ctx.key is None or not credentials.is_session(ctx.key.source):
                raise
            _session_ended(opts)  # as the CLI does: forget it, and once more with the API key
            ctx = new_context()
            return opts.vast_command.run(ctx, opts)
    except VastError as exc:
        if isinstance(exc, Refusal) and ctx.where is not None:
            ctx.locks.remember(ctx.where, exc)
        if exc.code == SESSION_REQUIRED:
            from .commands.login import session_required_hints  # commands import this module

            exc.advise(*session_required_hints(ctx))
        if not exc.hints:
            exc.advise(*advice.generic(exc, ctx.key, ctx.url_from))
        if opts.raw and exc.data is not None:
            print(json.dumps(redact(exc.data)))
        raise


def _session_ended(opts) -> None:
    """The 2FA session key was refused: forget it, and say which key is sent now."""
    gone = ", ".join(credentials.forget_session()) or "nowhere"
    now = credentials.describe(credentials.resolve(opts.api_key))
    print(f"Your 2FA session has ended (the server no longer accepts its key): the key was "
          f"forgotten ({gone}) and this line runs again with {now}. `%vast tfa login` "
          "starts a new session.", file=sys.stderr)


def internal_error(exc: BaseException) -> VastError:
    return VastError(
        f"Internal error in vast-magic ({type(exc).__name__}); nothing secret is shown here. "
        "A pending challenge is kept.",
        ["Please report it to the vast-magic maintainers with the line you ran. "
         "`%config VastMagics.show_tracebacks = True` shows the Python traceback (it may "
         "include your key or a code: do not paste it publicly)."],
        code="internal_error")
