"""`jupyter console` under tmux: a real console front end and its kernel, typed into.

The kernel asks for the code through the console's line prompt, hidden (the kernel asks
as for a password, so a browser front end shows a password box): a code typed there
finishes the line; Ctrl-C at that prompt keeps the authorization pending and a later
line finishes it with --code.  (With prompt_toolkit < 3.0.42, Ctrl-C there left the
console stuck: upstream prompt_toolkit#1822; hence the floor in pyproject.toml.)
Skipped, with the reason, where tmux or jupyter_console is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from test_terminal import Tmux
from vast_magic.emulator import DEMO_KEYS, Emulator

KEY = DEMO_KEYS["multi"]
CONSOLE = Path(sys.executable).parent / "jupyter-console"

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not CONSOLE.exists(),
                       reason=f"jupyter_console is not installed ({CONSOLE} missing)"),
]


class Console(Tmux):
    """`jupyter console` in a tmux server of its own, its kernel this interpreter."""

    def __init__(self, home: Path, emu):
        self.name = f"vast-test-{uuid.uuid4().hex[:8]}"
        env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "TERM": "xterm-256color", "LANG": "C.UTF-8",
               "JUPYTER_PATH": "", "JUPYTER_DATA_DIR": str(home / "jupyter"),
               "VAST_URL": emu.url, "VAST_API_KEY": KEY,
               "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
        subprocess.run(["tmux", "-L", self.name, "new-session", "-d", "-s", self.name,
                        "-x", "160", "-y", "50", f"{CONSOLE} --kernel python3"],
                       check=True, env=env, cwd=str(home))
        self.socket = self.socket_path()
        self.kernel_pid = None

    def line(self, text: str, prompt_number: int) -> str:
        """Type a line, press Enter, and wait for the next numbered prompt."""
        self.type(text)
        self.keys("Enter")
        return self.wait_for(rf"In \[{prompt_number}\]:")


@pytest.fixture
def console(tmp_path):
    with Emulator() as emu:
        term = Console(tmp_path, emu)
        term.emu = emu
        try:
            term.wait_for(r"In \[1\]:", timeout=60)
            # The kernel is this environment's Python; its pid lets teardown make sure it ends.
            screen = term.line("import os, sys; print('kernel', os.getpid(), sys.prefix)", 2)
            pid, prefix = re.search(r"kernel (\d+) (\S+)", screen).groups()
            term.kernel_pid = int(pid)
            assert prefix == sys.prefix, screen
            term.line("%load_ext vast_magic", 3)
            yield term
        finally:
            term.kill()
            assert not term.alive()
            _end(term.kernel_pid)


def _end(pid: int | None) -> None:
    """The kernel ends with its console; if it lingers, stop it (it is ours)."""
    if pid is None:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, 9)


def _puts(emu) -> list:
    return [r for r in emu.log if r.method == "PUT"]


def test_code_entered_at_the_console_prompt(console):
    emu = console.emu
    console.type("%vast tfa auth-new")
    console.keys("Enter")
    console.wait_for(r"Enter the 2FA code \(email, \d+:\d\d left\)")
    code = emu.last_code(KEY, channel="email")
    console.type(code[:5])  # a typo: refused locally, asked again
    console.keys("Enter")
    console.wait_for(r"Enter the 2FA code \(email", count=2)
    assert _puts(emu) == []
    console.type(code)
    time.sleep(0.3)
    assert code not in console.screen()  # not echoed: typed as into a password box
    console.keys("Enter")
    screen = console.wait_for(r"Authorized: you may add a new 2FA method")
    assert "Traceback" not in screen
    console.wait_for(r"In \[4\]:")
    [put] = _puts(emu)
    assert put.json["code"] == code


def test_ctrl_c_at_the_console_prompt_then_code_later(console):
    emu = console.emu
    console.type("%vast tfa auth-new")
    console.keys("Enter")
    console.wait_for(r"Enter the 2FA code \(email")
    console.keys("C-c")
    screen = console.wait_for(r"still pending")
    assert "%vast tfa auth-new --code CODE" in screen
    assert "nothing typed into it is sent" in " ".join(screen.split())
    console.wait_for(r"In \[4\]:")  # the console is not stuck (prompt_toolkit#1822)
    assert _puts(emu) == []
    code = emu.last_code(KEY, channel="email")
    screen = console.line(f"%vast tfa auth-new --code {code}", 5)
    assert "Authorized: you may add a new 2FA method" in screen
    assert "Traceback" not in screen
    [put] = _puts(emu)
    assert put.json["code"] == code
