"""The live line while a request waits: its text and timing on their own, against
a slow emulator fault through the client, in a terminal IPython under tmux, and
in a Jupyter kernel as a display updated in place."""

from __future__ import annotations

import re
import shutil
import threading
import time

import pytest
from helpers import assert_clean_failure
from test_kernel import emu, kernel  # noqa: F401 - the module's own kernel and emulator

from vast_magic.api.client import Client, new_session
from vast_magic.emulator import DEMO_KEYS
from vast_magic.waiting import KernelBoard, TerminalBoard, Waiting, for_shell


class Board:
    """Records what is drawn, as a screen line would hold it."""

    inline = True

    def __init__(self):
        self.lock = threading.Lock()
        self.drawn: list[str] = []
        self.line = ""
        self.cleared = 0

    def draw(self, text):
        with self.lock:
            self.drawn.append(text)
            self.line = text

    def clear(self):
        with self.lock:
            self.line = ""
            self.cleared += 1


def test_the_line_says_elapsed_attempt_and_how_to_stop():
    now = [100.0]
    waiting = Waiting(Board(), "console.vast.ai", "Ctrl-C to stop.", clock=lambda: now[0])
    waiting._started = 100.0
    waiting.attempt(1, 3)
    now[0] = 104.4
    assert waiting.text() == ("Waiting for console.vast.ai: 4 s, attempt 1 of 3. "
                              "Ctrl-C to stop.")
    waiting.pause(5.0, 2, 3)
    now[0] = 106.0
    assert waiting.text() == ("Waiting for console.vast.ai: 6 s, trying again in 3 s "
                              "(attempt 2 of 3). Ctrl-C to stop.")
    waiting.attempt(1, 1)
    assert "one attempt" in waiting.text()


def test_quick_calls_show_nothing_and_slow_ones_are_erased_when_done():
    board = Board()
    waiting = Waiting(board, "host", "Ctrl-C to stop.", show_after=0.3, tick=0.1)
    with waiting.watch():
        time.sleep(0.05)
    assert board.drawn == [] and board.cleared == 0
    with waiting.watch():
        waiting.attempt(1, 3)
        time.sleep(0.65)
    assert len(board.drawn) >= 2 and board.line == "" and board.cleared == 1
    assert all(text.startswith("Waiting for host: ") for text in board.drawn)


def test_printing_above_clears_the_line_first():
    board = Board()
    waiting = Waiting(board, "host", "Ctrl-C to stop.", show_after=0.0, tick=0.05)
    with waiting.watch():
        time.sleep(0.15)
        with waiting.above():
            assert board.line == ""  # room for the notice
        time.sleep(0.15)
        assert board.line.startswith("Waiting for host")  # back below it
    assert board.line == ""


def test_a_broken_board_never_breaks_the_call():
    class Broken(Board):
        def draw(self, text):
            raise OSError("closed")

    waiting = Waiting(Broken(), "host", "", show_after=0.0, tick=0.05)
    with waiting.watch():
        time.sleep(0.12)


def test_where_the_line_goes(ip):
    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    assert for_shell(ip.shell, lambda: "h", Stream(False)) is None  # a pipe: nobody watches
    terminal = for_shell(ip.shell, lambda: "h", Stream(True))
    assert isinstance(terminal.board, TerminalBoard) and "Ctrl-C" in terminal.stop_hint
    ip.shell.kernel = object()
    try:
        kernel = for_shell(ip.shell, lambda: "h", Stream(False))
    finally:
        del ip.shell.kernel
    assert isinstance(kernel.board, KernelBoard) and "Interrupt the kernel" in kernel.stop_hint
    ip.shell.kernel = type("NoInput", (), {"_allow_stdin": False})()  # nbclient, nbval
    try:
        assert for_shell(ip.shell, lambda: "h", Stream(True)) is None
    finally:
        del ip.shell.kernel


def test_kernel_board_updates_one_display_and_empties_it():
    sent = []

    class Handle:
        def update(self, bundle, raw):
            sent.append(("update", bundle["text/plain"]))

    def display(bundle, raw, display_id):
        assert raw and display_id is True
        sent.append(("display", bundle["text/plain"]))
        return Handle()

    board = KernelBoard(display)
    board.draw("one")
    board.draw("two")
    board.clear()
    board.draw("three")  # the next wait (step 2 after step 1): a display of its own, below
    assert sent == [("display", "one"), ("update", "two"), ("update", ""), ("display", "three")]


def test_the_client_shows_the_wait_on_a_slow_server_then_erases_it(emu):
    board = Board()
    waiting = Waiting(board, "127.0.0.1", "Ctrl-C to stop.", show_after=0.2, tick=0.1)
    client = Client(new_session(), emu.url, DEMO_KEYS["multi"], waiting=waiting)
    emu.fail_next(1, delay=0.8)
    assert client.call("GET", "/tfa/status/")["tfa_enabled"] in (True, False)
    assert board.drawn and board.line == ""
    assert re.fullmatch(r"Waiting for 127\.0\.0\.1: \d s, attempt 1 of 3\. Ctrl-C to stop\.",
                        board.drawn[-1])


def test_a_timeout_says_the_total_time_and_no_longer_wait(vast):
    vast.magics.timeout = 0.4
    vast.emu.fail_next(3, delay=1.5)
    ran = vast.run("%vast tfa status")
    assert_clean_failure(ran, "No answer from", "within 0.4 s. Tried 3 times over ",
                         "overloaded or down")
    assert "VastMagics.timeout" not in ran.text  # a longer timeout would only wait longer


def test_an_unknown_host_is_not_called_refused(vast, monkeypatch):
    """A name that does not resolve is told apart from a refusal, also by --explain.
    The resolver's answer is played here (no DNS server is asked)."""
    import socket

    def unknown(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    ran = vast.run("%vast --url https://vast.invalid --retry 1 --explain tfa status")
    assert_clean_failure(ran, "host name was not found", "host name not found (DNS)")
    assert "refused" not in ran.text


# -- a terminal IPython: the line on screen while it waits, gone after --------------

@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_terminal_shows_a_live_line_while_the_server_is_slow(tmp_path):
    from test_terminal import Tmux

    term = Tmux(tmp_path)
    try:
        term.wait_for(r"In \[1\]:")
        term.type("import json, os, urllib.request as u; u.urlopen(u.Request(os.environ["
                  "'VAST_URL'] + '/_emulator/fail-next', data=json.dumps({'n': 1, 'delay': "
                  "4.5}).encode(), method='POST')).status")
        term.keys("Enter")
        term.wait_for(r"Out\[1\]: 200")
        term.type("%vast tfa status")
        term.keys("Enter")
        screen = term.wait_for(r"Waiting for 127\.0\.0\.1: [23] s, attempt 1 of 3\. "
                               r"Ctrl-C to stop\.")
        assert "2FA" not in screen.split("%vast tfa status")[-1]  # still waiting
        screen = term.wait_for(r"In \[3\]:")
        assert "Waiting for" not in screen, screen  # erased once the answer came
    finally:
        term.kill()


# -- a Jupyter kernel: one display, updated, emptied at the end ---------------------

def test_kernel_shows_an_updating_display_that_empties(kernel, emu):
    messages = []
    emu.fail_next(1, delay=4.5)
    reply = kernel.execute_interactive("%vast tfa status", timeout=60,
                                       output_hook=messages.append)
    assert reply["content"]["status"] == "ok"
    live = [(m["msg_type"], m["content"]["data"].get("text/plain"),
             m["content"]["transient"]["display_id"])
            for m in messages if m["msg_type"] in ("display_data", "update_display_data")]
    kinds = [kind for kind, _, _ in live]
    assert kinds[0] == "display_data" and set(kinds[1:]) == {"update_display_data"}, live
    assert len({display_id for _, _, display_id in live}) == 1  # one display, in place
    assert all(re.fullmatch(r"Waiting for 127\.0\.0\.1: \d s, attempt 1 of 3\. Interrupt "
                            r"the kernel to stop\.", text) for _, text, _ in live[:-1])
    assert live[-1][1] == ""  # gone when done
    assert any(m["msg_type"] == "execute_result" for m in messages)  # then the table


def test_an_answer_after_retries_says_how_many_and_how_long(vast):
    vast.emu.fail_next(3, status=503)
    ran = vast.run("%vast tfa status")
    assert_clean_failure(ran, "503", "Tried 3 times.")
    vast.emu.fail_next(1, status=503)
    ran = vast.run("%vast tfa status --retry 1")
    assert_clean_failure(ran, "503")
    assert "Tried" not in ran.text


def test_a_kernel_run_without_input_shows_no_line(kernel, emu):
    """nbclient, nbval, papermill: nobody watches, and the saved output must not depend
    on how fast the server was."""
    messages = []
    emu.fail_next(1, delay=3)
    reply = kernel.execute_interactive("%vast tfa status", timeout=60, allow_stdin=False,
                                       output_hook=messages.append)
    assert reply["content"]["status"] == "ok"
    assert not [m for m in messages if m["msg_type"] in ("display_data", "update_display_data")]


def test_an_interrupted_watch_draws_nothing_more():
    board = Board()
    waiting = Waiting(board, "host", "", show_after=0.0, tick=0.05)
    with pytest.raises(KeyboardInterrupt):
        with waiting.watch():
            time.sleep(0.12)
            raise KeyboardInterrupt
    drawn = len(board.drawn)
    time.sleep(0.2)
    assert len(board.drawn) == drawn and board.line == ""


def test_stop_during_a_slow_wait_empties_the_display(kernel, emu):
    """Stop (SIGINT) while the line waits: a one-line message, no traceback, and the
    live display emptied on the way out."""
    import os
    import signal

    from test_kernel import _kernel_pid

    pid = _kernel_pid(kernel)
    messages = []
    emu.fail_next(1, delay=8)
    timer = threading.Timer(3.5, os.kill, (pid, signal.SIGINT))
    timer.start()
    try:
        reply = kernel.execute_interactive("%vast tfa status", timeout=60,
                                           output_hook=messages.append)
    finally:
        timer.cancel()
    assert reply["content"]["status"] == "error"
    live = [m["content"]["data"].get("text/plain") for m in messages
            if m["msg_type"] in ("display_data", "update_display_data")]
    assert live and live[0].startswith("Waiting for") and live[-1] == "", live
    [error] = [m["content"] for m in messages if m["msg_type"] == "error"]
    shown = "\n".join(error["traceback"])
    assert "Interrupted before an answer came." in shown and "Traceback" not in shown


def test_a_wrong_code_after_a_retried_503_says_nothing_of_tries(vast):
    """Step 2 after a 503 that was tried again: the refusal is about the code."""
    vast.run("%vast tfa auth-new")
    vast.emu.fail_next(1, status=503)
    ran = vast.run("%vast tfa auth-new --code 000000")
    assert_clean_failure(ran, "Wrong code (1 failed attempt")
    assert "Tried" not in ran.text
