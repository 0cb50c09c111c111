"""login, delete and regen-codes in a real Jupyter kernel: with stdin (the input
box asks) and without (as under nbval: a later cell, or nothing sent)."""

from __future__ import annotations

from test_kernel import KEY, emu, kernel, run  # noqa: F401 - the module's kernel fixtures


def test_login_asks_in_the_input_box(kernel, emu):  # noqa: F811
    def answer(prompt):
        assert "Enter the 2FA code (email" in prompt
        return emu.last_code(KEY, channel="email")

    status, text = run(kernel, "%vast tfa login", allow_stdin=True, answer=answer)
    assert status == "ok", text
    assert "Logged in" in text and "tfa-session-" not in text


def test_login_without_stdin_finishes_in_a_later_cell(kernel, emu):  # noqa: F811
    status, text = run(kernel, "%vast tfa login -t email")
    assert status == "ok" and "%vast tfa login -c CODE" in text, text
    status, text = run(kernel, f"%vast tfa login -c {emu.last_code(KEY, channel='email')}")
    assert status == "ok" and "Logged in" in text, text


def test_regen_codes_confirmed_in_the_input_box(kernel, emu):  # noqa: F811
    def answer(prompt):
        if "[y/N]" in prompt:
            return "y"
        if "Enter the 2FA code" in prompt:
            app = next(m for m in emu.account(KEY).methods if m.method == "totp")
            return emu.totp_now(app)
        return ""  # "Press Enter once you have stored them"

    status, text = run(kernel, "%vast tfa regen-codes -t totp", allow_stdin=True,
                       answer=answer)
    assert status == "ok", text
    assert "New backup codes issued" in text


def test_delete_without_stdin_or_yes_fails_and_sends_nothing(kernel, emu):  # noqa: F811
    before = len(emu.log)
    status, text = run(kernel, "%vast tfa delete -id 103 -t totp -c 123456")
    assert status == "error" and "needs your confirmation" in text
    assert "Traceback" not in text and len(emu.log) == before
