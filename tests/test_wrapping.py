"""Text at the terminal's width: the demo at 80 columns under tmux (as in
test_terminal.py), and the wrapping rules on their own."""

from __future__ import annotations

import re
import shutil

import pytest
from test_terminal import CODE_IN_INBOX, Tmux

from vast_magic.wrap import wrap

COMMAND = "%vast tfa auth-new --code CODE"


def test_wrap_breaks_at_words_and_never_inside_a_code_command_or_path():
    text = ("Your Vast.ai verification code is 217641. When you have it, finish with: "
            f"{COMMAND} or verify another way: `--method-id 103` (sms); the key file is "
            "~/.config/vastai/vast_api_key-and-a-long-name.")
    path = "~/.config/vastai/vast_api_key-and-a-long-name."
    lines = wrap(text, 30, indent="  ").splitlines()
    assert [line.strip() for line in lines if len(line) > 30] == [COMMAND, path]  # unbroken
    assert all(line.startswith("  ") for line in lines[1:])
    assert any("217641." in line for line in lines)
    assert any("`--method-id 103`" in line for line in lines)
    assert " ".join(line.strip() for line in lines) == text
    assert wrap(text, 300) == text


@pytest.fixture(params=[80, 200])
def narrow(request, tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    term = Tmux(tmp_path, columns=request.param)
    term.columns = request.param
    try:
        term.wait_for(r"In \[1\]:")
        yield term
    finally:
        term.kill()


def test_the_demo_at_80_and_200_columns(narrow):
    narrow.type("%vast tfa auth-new --code 000000")  # a UsageError, "UsageError: " included
    narrow.keys("Enter")
    narrow.wait_for(r"In \[2\]:")
    narrow.type("%vast tfa auth-new")
    narrow.keys("Enter")
    screen = narrow.wait_for(r"Enter the 2FA code")
    narrow.keys("C-c")
    screen = narrow.wait_for(r"still pending")
    # -J joins what the terminal itself wrapped: a line over 80 was never wrapped by us
    assert max(len(line) for line in screen.splitlines()) <= narrow.columns, screen
    inbox = screen.split("[demo inbox]")[1].split("Enter the 2FA code")[0]
    assert re.search(r"(^|\s)\d{6}\.?(\s|$)", inbox), inbox  # the code, whole
    if narrow.columns == 200:  # room enough: nothing is wrapped
        assert CODE_IN_INBOX.search(screen) and f"finish with: {COMMAND}" in screen, screen
    assert any(COMMAND in line for line in screen.splitlines()), screen
    banner = screen.split("In [1]:")[0]
    for word in ("emulator", "involved).", "VAST_API_KEY.", "authenticator", "Ctrl-D):"):
        assert re.search(rf"(^|\s){re.escape(word)}(\s|$)", banner, re.M), (word, banner)


def test_jupyter_gets_a_fixed_readable_width_and_captured_output_none(ip, monkeypatch):
    import sys

    from vast_magic import wrap as wrapping

    assert wrapping.width() is None  # output captured: left as it is
    monkeypatch.setitem(sys.modules, "ipykernel", sys.modules.get("ipykernel") or object())
    monkeypatch.setattr(ip.shell, "kernel", object(), raising=False)
    assert wrapping.width() == wrapping.JUPYTER_WIDTH
