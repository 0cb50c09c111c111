"""Adding a 2FA method: totp-setup, activate, send-sms, resend-sms — through a real
shell against the emulator: the terminal prompt, no stdin, and the errors."""

from __future__ import annotations

import os
import stat

import pytest
from helpers import assert_clean_failure

from vast_magic.constants import KEEPSAKE_NAME, PENDING
from vast_magic.emulator import DEMO_KEYS

FRESH = DEMO_KEYS["fresh"]
TOTP_SETUP = PENDING["totp_setup"][0]
SMS_SETUP = PENDING["sms_setup"][0]


@pytest.fixture
def fresh(vast, monkeypatch):
    """The shell on the demo account that has no 2FA method yet."""
    monkeypatch.setenv("VAST_API_KEY", FRESH)
    return vast


def _authorize(shell, key=FRESH):
    assert shell.run("%vast tfa auth-new").success
    assert shell.run(f"%vast tfa auth-new --code {shell.emu.last_code(key)}").success


def _methods(shell):
    return shell.run("%vast --raw tfa status").value["methods"]


# -- nobody to ask (nbval, a pipe, --no-prompt) ---------------------------------------

def test_totp_setup_with_nobody_to_ask_sets_up_only(fresh):
    ran = fresh.run("%vast tfa totp-setup -l myapp")
    assert ran.success, ran.text
    setup = fresh.user_ns[TOTP_SETUP]
    assert setup.secret not in ran.text and setup.secret not in repr(setup)
    assert "auth-new" in ran.out and "%vast tfa activate CODE" in ran.out
    assert fresh.emu.messages(FRESH) == []  # never an email on its own
    assert [r.path for r in fresh.api_requests()] == ["/api/v0/tfa/status/",
                                                      "/api/v0/tfa/totp-setup/"]
    _authorize(fresh)
    ran = fresh.run(f"%vast tfa activate {fresh.emu.totp_now(setup.secret)}")
    assert ran.success, ran.text
    assert "now a 2FA method" in ran.out
    assert TOTP_SETUP not in fresh.user_ns
    codes = fresh.user_ns[KEEPSAKE_NAME]
    assert len(codes.codes) == 10 and codes.codes[0] not in ran.text + repr(codes)
    [method] = _methods(fresh)
    assert (method["method"], method["label"]) == ("totp", "myapp")


def test_activate_wrong_code_keeps_the_setup_and_expiry_drops_it(fresh):
    _authorize(fresh)
    fresh.run("%vast tfa totp-setup")
    ran = fresh.run("%vast tfa activate 000000")
    assert_clean_failure(ran, "(1 failed attempt; 4 left", "kept", "%vast tfa activate CODE")
    assert TOTP_SETUP in fresh.user_ns
    fresh.emu.clock.advance(11 * 60)
    ran = fresh.run("%vast tfa activate 000000")
    assert TOTP_SETUP not in fresh.user_ns, ran.text
    assert_clean_failure(ran, "Start again: %vast tfa totp-setup")


def test_activate_outside_the_window_says_how_to_open_it(fresh):
    fresh.run("%vast tfa totp-setup")
    secret = fresh.user_ns[TOTP_SETUP].secret
    ran = fresh.run(f"%vast tfa activate {fresh.emu.totp_now(secret)}")
    assert_clean_failure(ran, "needs a recent authorization", "%vast tfa auth-new")
    assert TOTP_SETUP in fresh.user_ns


def test_activate_with_nothing_pending_sends_nothing(fresh):
    ran = fresh.run("%vast tfa activate 123456")
    assert_clean_failure(ran, "Nothing to activate", "totp-setup")
    assert fresh.api_requests() == []


def test_a_label_over_30_characters_is_refused_before_sending(fresh):
    ran = fresh.run(f"%vast tfa totp-setup -l {'x' * 31}")
    assert_clean_failure(ran, "at most 30 characters")
    assert fresh.api_requests() == []


def test_backup_codes_go_to_a_new_private_file(fresh, tmp_path):
    _authorize(fresh)
    fresh.run("%vast tfa totp-setup")
    secret = fresh.user_ns[TOTP_SETUP].secret
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    ran = fresh.run(f"%vast tfa activate 123456 --backup-codes-file {taken}")
    assert_clean_failure(ran, "already exists", "nothing was sent")
    assert taken.read_text() == "mine" and fresh.api_requests("POST")[-1].path.endswith(
        "/totp-setup/")
    target = tmp_path / "codes.txt"
    ran = fresh.run(f"%vast tfa activate {fresh.emu.totp_now(secret)} "
                    f"--backup-codes-file {target}")
    assert ran.success, ran.text
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    codes = target.read_text().split()
    assert len(codes) == 10 and not any(c in ran.text for c in codes)
    assert str(target) in ran.out and KEEPSAKE_NAME not in fresh.user_ns


def test_sms_setup_resend_keeps_the_original_secret(fresh):
    _authorize(fresh)
    ran = fresh.run("%vast tfa send-sms -p +15550009999")
    assert ran.success, ran.text
    setup = fresh.user_ns[SMS_SETUP]
    assert setup.secret not in ran.text and "activate CODE -t sms" in ran.out
    assert fresh.run("%vast tfa resend-sms").success
    resend = fresh.api_requests("POST")[-1]
    assert resend.json == {"secret": setup.secret, "phone_number": "+15550009999"}
    assert fresh.user_ns[SMS_SETUP] is setup
    code = fresh.emu.last_code(FRESH, channel="sms")
    ran = fresh.run(f"%vast tfa activate {code}")  # -t from the most recent setup: sms
    assert ran.success, ran.text
    confirm = fresh.api_requests("POST")[-1]
    assert confirm.json == {"tfa_method": "sms", "code": code, "secret": setup.secret,
                            "phone_number": "+15550009999"}
    assert "+15550009999 is now a 2FA method" in ran.out


def test_resend_with_nothing_pending_sends_nothing(fresh):
    ran = fresh.run("%vast tfa resend-sms")
    assert_clean_failure(ran, "No SMS challenge is pending", "send-sms")
    assert fresh.api_requests() == []


@pytest.mark.parametrize("phone, words", [
    ("+15005550001", "could not be sent"),       # twilio_error
    ("+15005550002", "could not be sent"),       # sms_blocked_number
    ("+15005550003", "Too many SMS"),            # sms_rate_limited
    ("+15005550004", "Too many SMS"),            # twilio_rate_limited
    ("+15005550005", "Too many SMS"),            # preauth_phone_cap
    ("+15005550006", "SMS is disabled"),         # sms_fraud_detected
])
def test_sms_errors_have_messages(fresh, phone, words):
    _authorize(fresh)
    ran = fresh.run(f"%vast tfa send-sms -p {phone}")
    assert_clean_failure(ran, words)
    if words == "could not be sent":  # the server says what we say: not twice
        assert ran.text.count(words) == 1, ran.text
    assert SMS_SETUP not in fresh.user_ns


def test_an_sms_sent_moments_ago_points_to_resend(fresh):
    _authorize(fresh)
    assert fresh.run("%vast tfa send-sms -p +15550009999").success
    ran = fresh.run("%vast tfa send-sms -p +15550009999")
    assert_clean_failure(ran, "moments ago", "%vast tfa resend-sms")


def test_duplicate_method(vast):
    """The multi account already has an authenticator: a second one is refused."""
    _authorize(vast, DEMO_KEYS["multi"])
    vast.run("%vast tfa totp-setup")
    secret = vast.user_ns[TOTP_SETUP].secret
    vast.emu.fail_next(1, error="duplicate_tfa_method")
    ran = vast.run(f"%vast tfa activate {vast.emu.totp_now(secret)}")
    assert_clean_failure(ran, "already set up", "%vast tfa status")


def test_raw_totp_setup_returns_the_answer_masked(fresh):
    ran = fresh.run("r = %vast --raw tfa totp-setup")
    assert ran.success and ran.out == "", ran.text
    answer = fresh.user_ns["r"]
    assert answer["secret"] == fresh.user_ns[TOTP_SETUP].secret
    assert answer["secret"] not in repr(answer)


# -- a person at a terminal: the whole way in one line -----------------------------------

@pytest.fixture
def terminal(terminal, monkeypatch):
    """conftest's terminal, on the account with no method yet."""
    monkeypatch.setenv("VAST_API_KEY", FRESH)
    return terminal


def test_totp_setup_goes_all_the_way_from_a_fresh_account(terminal, monkeypatch):
    """auth-new (email code typed), the QR code read by 'the app', its code typed,
    activated, backup codes printed once and never the cell's value."""
    from vast_magic import render

    emu = terminal.emu
    emu.on_send = lambda message: terminal.type(message.code + "\r")
    drawn = []
    real = render.TotpKey.terminal_text

    def scanned(key):
        drawn.append(key.secret)
        terminal.type(emu.totp_now(key.secret) + "\r")  # the person reads the app's code
        return real(key)

    monkeypatch.setattr(render.TotpKey, "terminal_text", scanned)
    ran = terminal.run("%vast tfa totp-setup -l phone-app")
    assert ran.success, ran.text
    assert ran.value is None  # nothing secret in Out or _
    assert "emailed" in ran.out and "\x1b[30;107m" in ran.out  # the QR, black on white
    assert "now a 2FA method" in ran.out and "Your 10 backup codes" in ran.out
    [secret] = drawn
    [method] = _methods(terminal)
    assert (method["method"], method["label"]) == ("totp", "phone-app")
    assert TOTP_SETUP not in terminal.user_ns and KEEPSAKE_NAME not in terminal.user_ns
    assert all(secret not in repr(v) for v in terminal.user_ns.values())


def test_ctrl_c_at_the_code_prompt_keeps_the_setup(terminal):
    terminal.emu.on_send = lambda message: terminal.type(message.code + "\r")
    assert terminal.run("%vast tfa auth-new").success  # the window is open: no auth-new now
    terminal.type("\x03")
    ran = terminal.run("%vast tfa totp-setup")
    assert ran.success, ran.text
    assert "still pending" in ran.out and "%vast tfa activate CODE" in ran.out
    assert TOTP_SETUP in terminal.user_ns


def test_the_terminal_qr_code_holds_the_uri():
    """The half-block drawing decodes back to segno's matrix, so it scans as the URI."""
    import re

    import segno

    from vast_magic.render import TotpKey

    key = TotpKey("JBSWY3DPEHPK3PXP", "otpauth://totp/Vast.ai:me?secret=JBSWY3DPEHPK3PXP")
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in key.terminal_text().splitlines()
             if line.startswith("\x1b[30;107m")]
    halves = {" ": (0, 0), "▀": (1, 0), "▄": (0, 1), "█": (1, 1)}
    rows = []
    for line in lines:
        pairs = [halves[ch] for ch in line]
        rows += [[p[0] for p in pairs], [p[1] for p in pairs]]
    expected = [list(r) for r in segno.make(key.uri, error="m").matrix_iter(border=4)]
    assert rows[:len(expected)] == [[int(bool(m)) for m in r] for r in expected]
