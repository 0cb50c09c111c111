"""A live line while a request waits on the server.

From :data:`SHOW_AFTER` seconds into a call, a line says how long it has
waited, which attempt is under way (or when the next one starts) and how to
stop; it is redrawn every second and goes away when the call ends, answered
or not.  Where it is drawn (a *board*):

* a terminal: one line on stderr, rewritten in place and erased at the end;
* a Jupyter kernel whose front end allows input: a display updated in place
  and emptied at the end (``jupyter console`` shows only its first text);
* anywhere else (a pipe; nbconvert, nbval, papermill): nowhere, as nobody watches.

The client reports what it does (:meth:`Waiting.attempt`,
:meth:`Waiting.pause`) from the line's thread; one daemon thread, shared by
all, draws.  It draws in a copy of the watching call's context, so a kernel
that keeps the cell's identity in a context variable (ipykernel 7) routes the
display to the cell that waits.
"""

from __future__ import annotations

import contextvars
import shutil
import threading
import time
from contextlib import contextmanager
from typing import Callable

SHOW_AFTER = 2.0  # seconds of silence before the line appears
TICK = 1.0        # seconds between redraws


class TerminalBoard:
    """One line of a terminal, rewritten in place."""

    inline = True  # shares the screen line with other output: clear it before printing

    def __init__(self, stream):
        self.stream = stream

    def draw(self, text: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r" + text[:max(20, width - 1)] + "\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


class KernelBoard:
    """A display in the cell's output, updated in place and emptied when done."""

    inline = False  # other output goes below it

    def __init__(self, display: Callable | None = None):
        self._display = display
        self._handle = None

    def draw(self, text: str) -> None:
        bundle = {"text/plain": text}
        if self._handle is None:
            display = self._display
            if display is None:
                from IPython.display import display
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def clear(self) -> None:
        if self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
            self._handle = None  # the next wait gets a display of its own, below


class _Ticker:
    """One daemon thread, started once, that draws every live line that is due.

    A thread per call would cost more than a warm request's tenth; this one
    sleeps until the next line is due, and watching a call only adds it to a set.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._due: dict = {}  # Waiting -> when it is next drawn (time.monotonic())
        self._thread: threading.Thread | None = None

    def add(self, waiting: Waiting, when: float) -> None:
        with self._cond:
            self._due[waiting] = when
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="vast-magic-waiting",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def remove(self, waiting: Waiting) -> None:
        with self._cond:
            self._due.pop(waiting, None)

    def _run(self) -> None:
        while True:
            with self._cond:  # held only to pick what is due, never while drawing
                now = time.monotonic()
                due = []
                for waiting, when in list(self._due.items()):
                    if not waiting._watching:
                        del self._due[waiting]  # its call ended without removing it
                    elif when <= now:
                        self._due[waiting] = now + waiting.tick
                        due.append(waiting)
                if not due:
                    wakes = min(self._due.values(), default=None)
                    self._cond.wait(None if wakes is None else max(0.0, wakes - now))
                    continue
            for waiting in due:
                waiting._draw()


_TICKER = _Ticker()


class Waiting:
    """The live line of one client: :meth:`watch` a call, report its attempts."""

    def __init__(self, board, host: str, stop_hint: str, *, show_after: float = SHOW_AFTER,
                 tick: float = TICK, clock: Callable[[], float] = time.monotonic):
        self.board = board
        self.host = host
        self.stop_hint = stop_hint
        self.show_after = show_after
        self.tick = tick
        self.clock = clock
        self._lock = threading.RLock()
        self._watching = False
        self._context: contextvars.Context | None = None  # the cell's, for the display
        self._started = 0.0
        self._attempt = (1, 1)
        self._resumes_at: float | None = None  # while waiting between attempts
        self._shown = False

    # -- reported by the client -------------------------------------------------------

    @contextmanager
    def watch(self):
        """Around one call: the line shows after a while and is gone at the end
        (also when the call is interrupted: nothing is drawn once it has ended)."""
        try:
            with self._lock:
                self._started = self.clock()
                self._attempt, self._resumes_at, self._shown = (1, 1), None, False
                self._context = contextvars.copy_context()
                self._watching = True
            _TICKER.add(self, time.monotonic() + self.show_after)
            yield self
        finally:
            self._watching = False  # first: from here on the ticker draws nothing
            _TICKER.remove(self)
            with self._lock:
                if self._shown:
                    self._safely(self.board.clear)
                self._shown = False

    def attempt(self, number: int, of: int) -> None:
        with self._lock:
            self._attempt, self._resumes_at = (number, of), None

    def pause(self, seconds: float, next_attempt: int, of: int) -> None:
        with self._lock:
            self._attempt, self._resumes_at = (next_attempt, of), self.clock() + seconds

    @contextmanager
    def above(self):
        """Print something (a notice, --explain) without the line in the way."""
        with self._lock:
            if self._shown and self.board.inline:
                self._safely(self.board.clear)
                self._shown = False
            yield

    # -- drawn by the ticker ----------------------------------------------------------

    def text(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        number, of = self._attempt
        tries = f"attempt {number} of {of}" if of > 1 else "one attempt"
        if self._resumes_at is not None and self._resumes_at > now:
            doing = f"trying again in {self._resumes_at - now:.0f} s ({tries})"
        else:
            doing = tries
        return (f"Waiting for {self.host}: {now - self._started:.0f} s, {doing}. "
                f"{self.stop_hint}")

    def _draw(self) -> None:
        """Draw the line now, in the watched call's context (a kernel routes the
        display by it); nothing once the call has ended."""
        with self._lock:
            if self._watching and self._context is not None:
                drawn = self._safely(self._context.run, self.board.draw, self.text())
                self._shown = drawn or self._shown

    @staticmethod
    def _safely(action, *args) -> bool:
        """Drawing never breaks a call (a closed stream, a kernel going away)."""
        try:
            action(*args)
        except Exception:  # noqa: BLE001 - the line is a courtesy
            return False
        return True


def for_shell(shell, host: Callable[[], str], stream) -> Waiting | None:
    """The live line for where this shell shows things, or None (nobody watches:
    a pipe, or a kernel run without input, as under nbclient, nbval or
    papermill, whose saved output must not change with the server's speed);
    ``host`` names the server (asked only when there is a line to show)."""
    kernel = getattr(shell, "kernel", None)
    if kernel is not None:
        if not getattr(kernel, "_allow_stdin", True):  # ipykernel says so per request
            return None
        return Waiting(KernelBoard(), host(), "Interrupt the kernel to stop.")
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty:
        return Waiting(TerminalBoard(stream), host(), "Ctrl-C to stop.")
    return None
