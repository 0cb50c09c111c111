"""The terminal prompt for the code: prompt_toolkit's pipe input, a real shell, the emulator."""

from __future__ import annotations

import pytest
from helpers import BoxKernel, assert_clean_failure

from vast_magic.emulator import DEMO_KEYS
from vast_magic.constants import PENDING_NAME
from vast_magic.api.challenge import Challenge
from vast_magic.prompt import prompt_text

KEY = DEMO_KEYS["multi"]


def _type_code_when_sent(shell, channel, keys_before="", keys_after="\r"):
    """Type into the prompt once the emulator has 'sent' the code."""
    emu = shell.emu

    def on_send(message):
        shell.type(keys_before + message.code + keys_after)

    emu.on_send = on_send


def test_prompt_text_shows_method_and_time_left():
    pending = Challenge(secret="s", method="sms")
    assert prompt_text(pending).startswith("Enter the 2FA code (sms, 9:5")
    pending.expires_at = pending.sent_at - 1
    assert "expired" in prompt_text(pending)


def test_typo_is_refused_then_the_code_succeeds(terminal):
    emu = terminal.emu
    acct = emu.account(KEY)
    totp = [m for m in acct.methods if m.method == "totp"][0]
    code = emu.totp_now(totp)
    # five digits and Enter: refused by the prompt, never sent; then the sixth digit.
    terminal.type(code[:5] + "\r" + code[5] + "\r")
    ran = terminal.run("%vast tfa auth-new -t totp")
    assert ran.success, ran.text
    assert "Authorized" in ran.out
    puts = [r for r in emu.log if r.method == "PUT"]
    assert [p.json["code"] for p in puts] == [code]
    assert PENDING_NAME not in terminal.user_ns


def test_email_code_typed_at_the_prompt(terminal):
    _type_code_when_sent(terminal, "email")
    ran = terminal.run("%vast tfa auth-new")
    assert ran.success, ran.text
    assert "Authorized" in ran.out


def test_wrong_code_at_the_prompt_asks_again(terminal):
    _type_code_when_sent(terminal, "sms", keys_before="000000\r")
    ran = terminal.run(f"%vast tfa auth-new --method-id {_sms_id(terminal)}")
    assert ran.success, ran.text
    assert "1 failed attempt" in ran.out and "Authorized" in ran.out


def _sms_id(shell):
    return [m for m in shell.emu.account(KEY).methods if m.method == "sms"][0].id


def test_ctrl_c_keeps_the_challenge_and_says_how_to_finish(terminal):
    terminal.type("\x03")
    ran = terminal.run("%vast tfa auth-new")
    assert ran.success, ran.text
    assert "still pending" in ran.out and "%vast tfa auth-new --code CODE" in ran.out
    assert PENDING_NAME in terminal.user_ns
    code = terminal.emu.last_code(KEY)
    ran = terminal.run(f"%vast tfa auth-new --code {code}")
    assert ran.success, ran.text


def test_eof_keeps_the_challenge(terminal):
    terminal.type("\x04")
    ran = terminal.run("%vast tfa auth-new")
    assert ran.success and "still pending" in ran.out
    assert PENDING_NAME in terminal.user_ns


def test_prompt_works_in_a_cell_that_awaited(terminal):
    _type_code_when_sent(terminal, "email")
    ran = terminal.run("import asyncio\nawait asyncio.sleep(0)\n"
                       "get_ipython().run_line_magic('vast', 'tfa auth-new')")
    assert ran.success, ran.text
    assert "Authorized" in ran.out


def test_no_prompt_flag_skips_the_prompt(terminal):
    ran = terminal.run("%vast tfa auth-new --no-prompt")
    assert ran.success and "--code CODE" in ran.out
    assert PENDING_NAME in terminal.user_ns


def test_expiry_at_the_prompt_clears_the_challenge(terminal):
    emu = terminal.emu

    def on_send(message):
        emu.clock.advance(601)
        terminal.type(message.code + "\r")

    emu.on_send = on_send
    ran = terminal.run("%vast tfa auth-new")
    assert_clean_failure(ran, "expired", "Start again")
    assert PENDING_NAME not in terminal.user_ns


def test_simple_prompt_reads_a_line_and_checks_it(vast, monkeypatch):
    """`ipython --simple-prompt` (Emacs, IDEs, piped stdin): input(), typos refused here."""
    emu = vast.emu
    totp = [m for m in emu.account(KEY).methods if m.method == "totp"][0]
    vast.magics.code_prompt = "auto"
    monkeypatch.setattr(vast.shell, "simple_prompt", True, raising=False)
    monkeypatch.setattr("vast_magic.prompt._stdin_is_a_terminal", lambda: True)
    answers = iter(["12345", emu.totp_now(totp)])
    asked = []

    def fake_input(prompt):
        asked.append(prompt)
        return next(answers)

    monkeypatch.setattr("builtins.input", fake_input)
    ran = vast.run("%vast tfa auth-new -t totp")
    assert ran.success, ran.text
    assert "is not a 2FA code" in ran.out and "Authorized" in ran.out
    assert "12345" not in ran.out  # what was typed is never echoed into the saved output
    assert len(asked) == 2 and asked[0].startswith("Enter the 2FA code (totp")
    assert len([r for r in emu.log if r.method == "PUT"]) == 1


def test_piped_ipython_does_not_read_the_script_as_codes(vast, monkeypatch):
    """`ipython < script.ipy` turns simple_prompt on with stdin not a terminal: the
    following lines are code, so nothing is asked and the challenge waits."""
    vast.magics.code_prompt = "auto"
    monkeypatch.setattr(vast.shell, "simple_prompt", True, raising=False)
    monkeypatch.setattr("vast_magic.prompt._stdin_is_a_terminal", lambda: False)
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail("input() was called"))
    ran = vast.run("%vast tfa auth-new")
    assert ran.success and "--code CODE" in ran.out
    assert PENDING_NAME in vast.user_ns


# -- the kernel's input box: a password box for codes; Stop while a box waits -------------

def _shell(*answers):
    from types import SimpleNamespace

    return SimpleNamespace(kernel=BoxKernel(*answers))


def test_the_kernel_asks_for_the_code_with_getpass():
    from vast_magic.prompt import choose

    said = []
    shell = _shell("12 34", "123456")
    asker = choose(shell, "auto", said.append)
    assert asker(Challenge(secret="s", method="email")) == "123456"
    assert [password for _, password in shell.kernel.asked] == [True, True]
    assert len(said) == 1 and "12 34" not in said[0]  # refused here, never repeated


def test_a_kernel_without_getpass_is_not_asked_for_a_code():
    from types import SimpleNamespace

    from vast_magic.prompt import choose

    kernel = SimpleNamespace(raw_input=lambda prompt: pytest.fail("a plain box was used"))
    assert choose(SimpleNamespace(kernel=kernel), "auto", print) is None


def test_stop_in_the_kernel_box_is_stopped_not_no_code():
    from vast_magic.prompt import Stopped, choose

    asker = choose(_shell(KeyboardInterrupt), "auto", print)
    with pytest.raises(Stopped):
        asker(Challenge(secret="s", method="email"))
    for answer in ("", EOFError):  # an empty answer, Ctrl-D: no code entered, as before
        assert choose(_shell(answer), "auto", print)(Challenge(secret="s", method="email")) is None


def test_ctrl_c_at_a_plain_line_is_still_no_code():
    from vast_magic.prompt import line_asker

    def interrupted(prompt):
        raise KeyboardInterrupt

    assert line_asker(interrupted, print)(Challenge(secret="s", method="email")) is None


def test_stop_at_a_plain_kernel_box_says_it_can_be_ignored(capsys):
    from vast_magic.prompt import BOX_LEFT, ask_line

    shell = _shell(KeyboardInterrupt, "")
    assert ask_line(shell, "auto", "Press Enter: ") is None
    assert " ".join(capsys.readouterr().out.split()) == f"Interrupted. {BOX_LEFT}"
    assert ask_line(shell, "auto", "Press Enter: ") == ""  # Enter: nothing said
    assert capsys.readouterr().out == ""
    assert [password for _, password in shell.kernel.asked] == [False, False]


def test_stop_at_the_hidden_kernel_box_is_stopped():
    from vast_magic.prompt import Stopped, ask_hidden

    shell = _shell("k3y", KeyboardInterrupt)
    assert ask_hidden(shell, "auto", "Vast.ai API key: ") == "k3y"
    with pytest.raises(Stopped):
        ask_hidden(shell, "auto", "Vast.ai API key: ")
    assert [password for _, password in shell.kernel.asked] == [True, True]
