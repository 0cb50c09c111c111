"""``%vast``: the IPython side — parse, pick the key, run a command, show it.

This is the only module ``%load_ext vast_magic`` imports, and it imports
nothing IPython has not loaded already: the rest of the package (and with it
``requests``, ``keyring`` and ``prompt_toolkit``) is imported by the first
``%vast`` line that needs it.
"""

from __future__ import annotations

import math
import re

from IPython.core.magic import Magics, line_magic, magics_class
from traitlets import Bool, Enum, Float, Int, TraitError, Unicode, validate

from .constants import DEFAULT_URL, PROMPT_CHOICES


@magics_class
class VastMagics(Magics):
    """The ``%vast`` line magic.  Settings: ``%config VastMagics``."""

    url = Unicode("", help="Server REST API URL. Empty: the VAST_URL environment variable, "
                           f"else {DEFAULT_URL}. `--url` overrides it.").tag(config=True)
    retry = Int(3, help="Total attempts per request, the first included (`--retry`)."
                ).tag(config=True)
    timeout = Float(30.0, help="Seconds to wait for an answer before giving up."
                    ).tag(config=True)
    retry_after_cap = Float(30.0, help="Longest wait honoured from a Retry-After header, "
                                       "in seconds.").tag(config=True)
    deadline = Float(120.0, help="Longest a %vast line may keep trying, in seconds: every "
                                 "attempt and wait between them included.").tag(config=True)
    show_tracebacks = Bool(False, help="Show the Python traceback of an internal error (for "
                                       "debugging: it may show your key or a code)."
                           ).tag(config=True)
    code_prompt = Enum(PROMPT_CHOICES, default_value="auto",
                       help="How to ask for a 2FA code: 'auto' (a terminal prompt in IPython, "
                            "the input box in Jupyter when allowed), 'terminal', 'kernel', or "
                            "'never' (always finish in a later cell with --code)."
                       ).tag(config=True)

    @validate("retry")
    def _valid_retry(self, proposal):
        if proposal["value"] < 1:
            raise TraitError("VastMagics.retry counts attempts: it must be at least 1")
        return proposal["value"]

    @validate("timeout", "retry_after_cap", "deadline")
    def _valid_seconds(self, proposal):
        value = proposal["value"]
        if not (math.isfinite(value) and value > 0):
            raise TraitError(f"VastMagics.{proposal['trait'].name} must be a positive, finite "
                             f"number of seconds, got {value!r}")
        return value

    def __init__(self, shell=None, **kwargs):
        super().__init__(shell=shell, **kwargs)
        self._session = None
        self.raw_cell: str | None = None  # the cell being run, as typed (before $var expansion)
        self.locks: dict = {}  # the locks refusals told of, for status (context.LockMemory)
        if shell is not None:
            shell.events.register("pre_run_cell", self._remember_cell)
            completer = getattr(shell, "Completer", None)
            if completer is not None:
                completer.custom_matchers.append(complete_vast)
        # Registered in place of the bound method so that `%vast?` can show
        # the parser's full help, built only when asked for.
        self.magics["line"]["vast"] = _VastLine(self)

    # -- plumbing -----------------------------------------------------------

    @property
    def session(self):
        """One requests session per shell, reused by every cell."""
        if self._session is None:
            from .api.client import new_session  # imports requests: not at load time

            self._session = new_session()
        return self._session

    def _remember_cell(self, info) -> None:
        self.raw_cell = getattr(info, "raw_cell", None)

    def close(self) -> None:
        if self.shell is not None:
            try:
                self.shell.events.unregister("pre_run_cell", self._remember_cell)
            except ValueError:
                pass
            completer = getattr(self.shell, "Completer", None)
            if completer is not None and complete_vast in completer.custom_matchers:
                completer.custom_matchers.remove(complete_vast)
        if self._session is not None:
            self._session.close()
            self._session = None

    @line_magic
    def vast(self, line: str = ""):
        """Vast.ai account-security (2FA) commands; `%vast --help` for usage."""
        from .context import run_line  # the rest of the package loads with the first line

        return run_line(self, line)


def complete_vast(context) -> dict:
    """Tab completion for ``%vast`` lines (IPython's matcher API v2).

    On a ``%vast`` line it offers only the parser's commands, options and
    choices (other matchers are suppressed); elsewhere it stays out of the way.
    The parser is built on the first completion, not at load time.
    """
    line = context.text_until_cursor
    # "%vast ..." or "name = %vast ...", at the start of the line
    found = re.match(r"\s*(?:[\w.]+\s*=\s*)?(%vast\s.*)", line)
    if found is None:
        return {"completions": [], "suppress": False}
    from IPython.core.completer import SimpleCompletion  # loaded with the completer, later

    from .grammar import completions  # the parser is built on the first completion

    words = completions(found.group(1), context.token)
    return {"completions": [SimpleCompletion(w, type="vast") for w in words],
            "suppress": True}


complete_vast.matcher_api_version = 2  # type: ignore[attr-defined]


class _VastLine:
    """``%vast`` as registered with IPython: calls the magic; ``getdoc`` for ``%vast?``."""

    __name__ = "vast"

    def __init__(self, magics: VastMagics):
        self.magics = magics
        self.__doc__ = VastMagics.vast.__doc__

    def __call__(self, line: str = ""):
        return self.magics.vast(line)

    def getdoc(self) -> str:
        from .grammar import full_help  # built when %vast? asks, not at load time

        return full_help()
