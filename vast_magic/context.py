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
from dataclasses import dataclass, field
from typing import Callable

from IPython.core.error import UsageError

from . import advice, credentials, grammar, prompt
from .api.challenge import Challenge
from .api.client import Client, redact
from .api.errors import SESSION_REQUIRED, BadKey, VastError
from .render import RawAnswer
from .constants import DEFAULT_URL, PENDING


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


class Context:
    """Everything a command may use for one line."""

    def __init__(self, opts, settings: Settings, *, shell, session: Callable[[], object],
                 raw_cell: str | None = None):
        self.opts = opts
        self.settings = settings
        self.shell = shell
        self.pending = PendingStore(shell)
        self._session = session
        self._raw_cell = raw_cell
        self.key: credentials.Key | None = None  # the key this line's client sends

    # -- saying and showing ------------------------------------------------------

    @staticmethod
    def say(text: str) -> None:
        print(text)

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
        url = (self.opts.url or self.settings.url or os.environ.get("VAST_URL")
               or DEFAULT_URL)
        check_url(url, "(from --url, %config VastMagics.url or VAST_URL)")
        return url

    def client(self, url: str | None = None):
        """A Client for this line: the key, the server, attempts, --explain output."""
        opts = self.opts
        key = credentials.resolve(opts.api_key)
        if key is None:
            raise VastError(credentials.NO_KEY_HELP[0], credentials.NO_KEY_HELP[1:],
                            code="no_api_key")
        if opts.api_key:
            self.warn_if_typed(opts.api_key, "--api-key")
        self.key = key
        out = sys.stderr if opts.raw else sys.stdout
        return Client(self._session(), url or self.server_url(), key.value,
                      attempts=opts.retry or self.settings.retry,
                      timeout=self.settings.timeout,
                      retry_after_cap=self.settings.retry_after_cap,
                      line_deadline=self.settings.deadline, key_source=key.source,
                      explain=(lambda text: print(text, file=out)) if opts.explain else None,
                      notice=lambda text: print(text, file=sys.stderr, flush=True))


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
    except (VastError, UsageError):
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
                       raw_cell=magics.raw_cell)

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
        if exc.code == SESSION_REQUIRED:
            from .commands.login import session_required_hints  # commands import this module

            exc.advise(*session_required_hints(ctx))
        if not exc.hints:
            exc.advise(*advice.generic(exc))
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
