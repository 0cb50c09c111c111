"""Asking for the 2FA code, picked by where the magic runs.

* a terminal IPython: a prompt_toolkit prompt that shows the method and the
  time left and accepts only 6 digits (a typo never reaches the server,
  where it would count towards a lockout).  It runs ``in_thread=True`` as
  IPython's own debugger does, so it works inside the running shell, also
  when the cell awaited something.
* a Jupyter kernel: the kernel's input box, when the front end allows stdin: a
  password box (``getpass``), since a backup code may be typed there and a
  plain box is saved into the notebook with what was typed;
* no stdin (nbval, nbclient) or ``--no-prompt``: nothing is asked.

Every asker returns the code, or None when the user put it off (Ctrl-C, EOF,
an empty answer, or no way to ask): the challenge is kept and the magic says
how to finish in a later cell.  An interrupt (Stop) while the kernel's box
waits raises Stopped instead: the front end leaves the box on screen, and
what is said next must tell the user to ignore it.
"""

from __future__ import annotations

import getpass
import sys
from typing import Callable, Optional

from IPython.core.error import StdinNotImplementedError

from .api.challenge import Challenge, bad_code_message, clock, normalize_code
from .wrap import wrap

#: An asker: the code for a challenge, or None when the user put it off.
AskCode = Callable[[Challenge], Optional[str]]


class NobodyToAsk(Exception):
    """The front end turned out to have no input (a kernel without stdin): nobody
    was asked, so nothing was put off."""


class Stopped(Exception):
    """An interrupt (Stop, or Ctrl-C in `jupyter console`) while the kernel's input
    box waited.  The browser front ends leave the box on screen, and typing into it
    then sends nothing: whoever catches this says so (BOX_LEFT)."""


#: Said after Stopped, wherever a box may stay on screen.
BOX_LEFT = "An input box left on screen can be ignored: nothing typed into it is sent."


def ask_once(asker: AskCode | None, challenge: Challenge) -> tuple[str, str | None]:
    """Ask once, and how it went: ("code", CODE); ("put off", None) after Ctrl-C,
    EOF or an empty answer; ("stopped", None) after Stop while a kernel box
    waited (the box may stay on screen: say BOX_LEFT); ("nobody", None) when
    nobody could be asked (no asker, or a kernel without stdin)."""
    if asker is None:
        return "nobody", None
    try:
        code = asker(challenge)
    except NobodyToAsk:
        return "nobody", None
    except Stopped:
        return "stopped", None
    return ("code", code) if code is not None else ("put off", None)


def prompt_text(challenge: Challenge) -> str:
    left = challenge.seconds_left()
    state = f"{clock(left)} left" if left else "expired"
    return f"Enter the 2FA code ({challenge.label}, {state}): "


def terminal_asker() -> AskCode:
    """A prompt_toolkit prompt (uses the current app session's input/output)."""

    def ask(challenge: Challenge) -> str | None:
        from prompt_toolkit import PromptSession  # ~50 ms: only when a code is asked for
        from prompt_toolkit.validation import Validator

        validator = Validator.from_callable(
            lambda text: normalize_code(text) is not None,
            error_message="A code is 6 digits; nothing was sent. (Ctrl-C: finish later)",
            move_cursor_to_end=True)
        session = PromptSession(validator=validator, validate_while_typing=False,
                                reserve_space_for_menu=0)  # no menu: errors stay by the line
        try:
            text = session.prompt(lambda: prompt_text(challenge), refresh_interval=1.0,
                                  in_thread=True)
        except (KeyboardInterrupt, EOFError):
            return None
        return normalize_code(text)

    return ask


def line_asker(read_line: Callable[[str], str], say: Callable[[str], None], *,
               box: bool = False) -> AskCode:
    """Ask with a plain line reader (the kernel's input box, or input() under
    ``--simple-prompt``), checking the code here since keystrokes cannot be;
    None when the answer is empty or put off, NobodyToAsk when there is no stdin.
    ``box``: the reader is the kernel's input box, so an interrupt raises Stopped."""

    def ask(challenge: Challenge) -> str | None:
        while True:
            try:
                text = read_line(prompt_text(challenge))
            except StdinNotImplementedError:
                raise NobodyToAsk() from None
            except KeyboardInterrupt:
                if box:
                    raise Stopped() from None
                return None
            except EOFError:
                return None
            if not text.strip():
                return None
            code = normalize_code(text)
            if code:
                return code
            say(bad_code_message(text))

    return ask


def _terminal(shell) -> str | None:
    """"full" for a prompt_toolkit terminal IPython, "simple" under --simple-prompt."""
    if getattr(shell, "simple_prompt", False):
        return "simple"
    return "full" if getattr(shell, "pt_app", None) is not None else None


def where(shell, setting: str) -> str | None:
    """Where a person can be asked: "terminal" (prompt_toolkit), "line" (a plain
    line reader: --simple-prompt on a terminal), "kernel" (the input box of a
    front end that allows input), or None (nobody: nbval, a pipe, "never")."""
    if setting == "never":
        return None
    kernel = getattr(shell, "kernel", None)
    if setting == "kernel" or (setting == "auto" and kernel is not None):
        # ipykernel sets _allow_stdin per request; other kernels: try, and see
        return "kernel" if kernel is not None and getattr(kernel, "_allow_stdin", True) \
            else None
    terminal = _terminal(shell)
    if setting == "terminal" or (setting == "auto" and terminal == "full"):
        return "terminal"
    if setting == "auto" and terminal == "simple" and _stdin_is_a_terminal():
        return "line"
    return None  # e.g. `ipython < script.ipy`: the next lines are code, not answers


def choose(shell, setting: str, say: Callable[[str], None]) -> AskCode | None:
    """The asker for this shell, or None when nothing should be asked."""
    place = where(shell, setting)
    if place == "kernel":
        # a password box: a plain one is saved into the notebook with the answer
        read = getattr(shell.kernel, "getpass", None)
        return line_asker(read, say, box=True) if read is not None else None
    if place == "terminal":
        return terminal_asker()
    if place == "line":
        return line_asker(input, say)
    return None


def ask_line(shell, setting: str, message: str) -> str | None:
    """One plain line from the person (Enter to go on, "y"), or None if nobody is
    there or it was put off.  Not for secrets: the kernel's plain box is saved
    into the notebook with the answer.  After an interrupt in the kernel it says
    that the box left on screen can be ignored (BOX_LEFT), then returns None."""
    place = where(shell, setting)
    try:
        if place == "kernel":
            try:
                return shell.kernel.raw_input(message)
            except KeyboardInterrupt:
                print(wrap(f"Interrupted. {BOX_LEFT}"))
                return None
        if place == "terminal":
            from prompt_toolkit import PromptSession  # only when a person is asked

            return PromptSession().prompt(message, in_thread=True)
        if place == "line":
            return input(message)
    except (StdinNotImplementedError, KeyboardInterrupt, EOFError):
        return None
    return None


def _stdin_is_a_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def ask_hidden(shell, setting: str, message: str) -> str | None:
    """Ask for a secret without echo; None when it cannot be asked or was put off,
    Stopped after an interrupt while the kernel's box waited."""
    kernel = getattr(shell, "kernel", None)
    try:
        if kernel is not None and setting in ("auto", "kernel"):
            try:
                return kernel.getpass(message)
            except KeyboardInterrupt:
                raise Stopped() from None
        if setting == "terminal" or (setting == "auto" and _terminal(shell) == "full"):
            from prompt_toolkit import PromptSession  # only when a secret is asked for

            return PromptSession().prompt(message, is_password=True, in_thread=True)
        if setting == "never" or not _stdin_is_a_terminal():
            return None  # `ipython < script.ipy`: the next line is code, never a secret
        return getpass.getpass(message)
    except (StdinNotImplementedError, KeyboardInterrupt, EOFError):
        return None
