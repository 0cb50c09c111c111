"""A real terminal: the demo (emulator + terminal IPython) under tmux, typed into.

The test types as a person would — a typo, then the code read off the screen —
and reads what the terminal shows.  Skipped where tmux is missing (.ci/run
installs it).
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

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

CODE_IN_INBOX = re.compile(r"\[demo inbox\] (?:email|SMS) to \S+: .*?(\d{6})")


class Tmux:
    def __init__(self, home, columns: int = 160):
        self.name = f"vast-test-{uuid.uuid4().hex[:8]}"
        env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "TERM": "xterm-256color", "LANG": "C.UTF-8",
               "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
        command = f"{sys.executable} -m vast_magic.demo"
        subprocess.run(["tmux", "-L", self.name, "new-session", "-d", "-s", self.name,
                        "-x", str(columns), "-y", "50", command],
                       check=True, env=env, cwd=str(home))
        self.socket = self.socket_path()

    def socket_path(self) -> str:
        """The server's socket file (asked while it runs: after it exits, tmux cannot say)."""
        return subprocess.run(["tmux", "-L", self.name, "display-message", "-p",
                               "#{socket_path}"], capture_output=True, text=True).stdout.strip()

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.name, "send-keys", "-t", self.name, *keys],
                       check=True)

    def type(self, text: str) -> None:
        self.keys("-l", text)

    def screen(self) -> str:
        out = subprocess.run(["tmux", "-L", self.name, "capture-pane", "-p", "-J", "-S", "-200",
                              "-t", self.name], capture_output=True, text=True)
        return out.stdout

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30.0) -> str:
        """Wait until the screen shows the pattern `count` times; return the screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if len(re.findall(pattern, screen)) >= count:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never saw {pattern!r} x{count}; the screen:\n{screen}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.name, "has-session", "-t", self.name],
                              capture_output=True).returncode == 0

    def kill(self) -> None:
        """Stop the server and remove its socket (tmux leaves the file behind)."""
        subprocess.run(["tmux", "-L", self.name, "kill-server"], capture_output=True)
        if self.socket:  # also when the server had already exited (the `exit` test)
            Path(self.socket).unlink(missing_ok=True)


@pytest.fixture
def demo(tmp_path):
    term = Tmux(tmp_path)
    try:
        term.wait_for(r"In \[1\]:")
        yield term
    finally:
        term.kill()
        assert not term.alive()


def _codes(screen: str) -> list[str]:
    return CODE_IN_INBOX.findall(screen)


def test_typo_then_code_at_the_prompt(demo):
    demo.type("%vast tfa auth-new")
    demo.keys("Enter")
    screen = demo.wait_for(r"Enter the 2FA code \(email, \d+:\d\d left\)")
    [code] = _codes(screen)
    demo.type(code[:5])  # a typo: one digit short
    demo.keys("Enter")
    demo.wait_for(r"A code is 6 digits")
    demo.type(code[5])
    demo.keys("Enter")
    screen = demo.wait_for(r"Authorized: you may add a new 2FA method")
    assert "Traceback" not in screen
    demo.wait_for(r"In \[2\]:")


def test_ctrl_c_at_the_prompt_then_finish_with_code(demo):
    demo.type("%vast tfa auth-new")
    demo.keys("Enter")
    screen = demo.wait_for(r"Enter the 2FA code")
    [code] = _codes(screen)
    demo.keys("C-c")
    screen = demo.wait_for(r"still pending")
    assert "%vast tfa auth-new --code CODE" in screen
    demo.wait_for(r"In \[2\]:")
    demo.type(f"%vast tfa auth-new --code {code}")
    demo.keys("Enter")
    screen = demo.wait_for(r"Authorized: you may add a new 2FA method")
    assert "Traceback" not in screen


def test_leaving_ipython_stops_the_emulator(demo):
    import socket

    port = int(re.search(r"local emulator .* at http://127\.0\.0\.1:(\d+)", demo.screen()).group(1))
    socket.create_connection(("127.0.0.1", port), timeout=5).close()  # serving
    demo.type("exit")
    demo.keys("Enter")
    deadline = time.monotonic() + 20
    while demo.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not demo.alive(), demo.screen()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


APP_CODE = re.compile(r"\[demo app\] your authenticator app: .*?(\d{6})")


def test_totp_setup_all_the_way_in_the_demo(demo):
    """The fresh account: auth-new's emailed code, then the QR code and the app's
    code (the demo prints it as an inbox line), activated, backup codes shown."""
    fresh = re.search(r"%env VAST_API_KEY=(\S+)\s+\(no 2FA method yet\)", demo.screen()).group(1)
    demo.type(f"%env VAST_API_KEY={fresh}")
    demo.keys("Enter")
    demo.wait_for(r"In \[2\]:")
    demo.type("%vast tfa totp-setup")
    demo.keys("Enter")
    screen = demo.wait_for(r"Enter the 2FA code \(email")
    [code] = _codes(screen)
    demo.type(code)
    demo.keys("Enter")
    screen = demo.wait_for(r"Enter the 2FA code \(totp")
    assert "Scan it with your authenticator app" in screen
    [app_code] = APP_CODE.findall(screen)
    demo.type(app_code)
    demo.keys("Enter")
    screen = demo.wait_for(r"Your 10 backup codes")
    assert "now a 2FA method" in screen and "Traceback" not in screen
    demo.wait_for(r"In \[3\]:")


def test_the_demo_app_code_finishes_auth_new_with_totp(demo):
    demo.type("%vast tfa auth-new -t totp")
    demo.keys("Enter")
    screen = demo.wait_for(r"Enter the 2FA code \(totp")
    [app_code] = APP_CODE.findall(screen)
    demo.type(app_code)
    demo.keys("Enter")
    screen = demo.wait_for(r"Authorized: you may add a new 2FA method")
    assert "Traceback" not in screen
