"""delete, regen-codes and update: the confirmation rules, the backup codes'
hand-over, the CLI's words and the errors — a real shell against the emulator,
the terminal prompt through a pipe."""

from __future__ import annotations

import stat

import pytest
from helpers import assert_clean_failure

from vast_magic.constants import KEEPSAKE_NAME, PENDING
from vast_magic.emulator import DEMO_KEYS

KEY = DEMO_KEYS["multi"]
VERIFY = PENDING["verify"][0]


def totp_code(vast) -> str:
    app = next(m for m in vast.emu.account(KEY).methods if m.method == "totp")
    return vast.emu.totp_now(app)


def method_ids(vast) -> list[int]:
    return [m.id for m in vast.emu.account(KEY).methods]


# -- delete ----------------------------------------------------------------------------

def test_delete_with_yes_and_a_totp_code(vast):
    ran = vast.run(f"%vast tfa delete -id 103 -t totp -c {totp_code(vast)} --yes")
    assert ran.success, ran.text
    assert "103 removed; 2 methods left" in ran.out
    assert method_ids(vast) == [101, 102]
    [req] = vast.api_requests("DELETE")
    assert req.json["target_id"] == 103 and req.json["tfa_method"] == "totp"


def test_delete_the_cli_long_option_and_method_id(vast):
    ran = vast.run(f"%vast tfa delete --id-to-delete 103 --method-id 101 -c {totp_code(vast)} "
                   "--yes")
    assert ran.success, ran.text
    assert vast.api_requests("DELETE")[0].json["tfa_method_id"] == 101


def test_delete_without_yes_where_nobody_can_be_asked_sends_nothing(vast):
    ran = vast.run("%vast tfa delete -id 103 -bc DEMO-CODE-0001")
    assert_clean_failure(ran, "needs your confirmation", "--yes", "nothing was sent")
    assert vast.api_requests() == []


def test_delete_the_last_method_turns_2fa_off(vast, monkeypatch):
    acct = vast.emu.add_account()
    app = acct.add_totp()
    monkeypatch.setenv("VAST_API_KEY", acct.api_key)
    ran = vast.run(f"%vast tfa delete -id {app.id} -t totp -c {vast.emu.totp_now(app)} --yes")
    assert ran.success, ran.text
    assert "2FA is now off" in ran.out and not acct.methods


def test_delete_an_unknown_target(vast):
    ran = vast.run(f"%vast tfa delete -id 999 -t totp -c {totp_code(vast)} --yes")
    assert_clean_failure(ran, "no 2FA method with id 999.", "%vast tfa status")
    # the account's methods tell it is the target that is missing: no other way offered
    assert "or none like" not in ran.text and "(email)" not in ran.text


def test_delete_confirmed_at_the_terminal(terminal):
    terminal.type("y\r")
    terminal.type(totp_code(terminal) + "\r")
    ran = terminal.run("%vast tfa delete -id 103 -t totp")
    assert ran.success, ran.text
    assert method_ids(terminal) == [101, 102]


def test_delete_declined_at_the_terminal_sends_nothing(terminal):
    terminal.type("n\r")
    ran = terminal.run("%vast tfa delete -id 103 -t totp")
    assert ran.success, ran.text
    assert "Not confirmed" in ran.out and terminal.api_requests() == []


def test_delete_with_an_emailed_code_finishes_in_a_later_cell(vast):
    ran = vast.run("%vast tfa delete -id 103 --yes")
    assert ran.success, ran.text
    assert "%vast tfa delete -id 103 --yes -c CODE" in ran.out
    code = vast.emu.last_code(KEY, channel="email")
    ran = vast.run(f"%vast tfa delete -id 103 --yes -c {code}")
    assert ran.success, ran.text
    assert VERIFY not in vast.user_ns and method_ids(vast) == [101, 102]


# -- regen-codes ------------------------------------------------------------------------

def test_regen_codes_to_a_file_0600(vast, tmp_path):
    target = tmp_path / "codes.txt"
    ran = vast.run(f"%vast tfa regen-codes -t totp -c {totp_code(vast)} --yes "
                   f"--backup-codes-file {target}")
    assert ran.success, ran.text
    codes = target.read_text().split()
    assert len(codes) == 10 and codes == vast.emu.account(KEY).backup_codes
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not any(c in ran.text for c in codes)


def test_regen_codes_answer_without_codes_is_a_message(vast):
    vast.emu.fail_next(1, status=200, content_type="application/json",
                       body='{"msg": "success"}')
    ran = vast.run(f"%vast tfa regen-codes -t totp -c {totp_code(vast)} --yes")
    assert_clean_failure(ran, "sent no backup codes back")
    assert "Internal error" not in ran.text


def test_regen_codes_with_nobody_to_show_keeps_them_hidden(vast):
    ran = vast.run("%vast tfa regen-codes -bc DEMO-CODE-0001 --yes")
    assert ran.success, ran.text
    kept = vast.user_ns[KEEPSAKE_NAME]
    assert kept.codes == vast.emu.account(KEY).backup_codes
    assert not any(c in ran.text for c in kept.codes)
    # the old codes are dead
    assert_clean_failure(vast.run("%vast tfa login -bc DEMO-CODE-0002"), "backup code")


def test_regen_codes_refuses_an_existing_file_before_sending(vast, tmp_path):
    target = tmp_path / "codes.txt"
    target.write_text("mine")
    ran = vast.run(f"%vast tfa regen-codes -bc DEMO-CODE-0001 --yes --backup-codes-file {target}")
    assert_clean_failure(ran, "already exists")
    assert vast.api_requests() == [] and target.read_text() == "mine"


def test_regen_codes_needs_confirmation(vast):
    ran = vast.run("%vast tfa regen-codes -bc DEMO-CODE-0001")
    assert_clean_failure(ran, "Replacing your backup codes needs your confirmation")
    assert vast.api_requests() == []


def test_regen_codes_at_the_terminal_shows_them_once(terminal):
    terminal.type("yes\r")
    terminal.type(totp_code(terminal) + "\r")
    ran = terminal.run("%vast tfa regen-codes -t totp")
    assert ran.success, ran.text
    codes = terminal.emu.account(KEY).backup_codes
    assert all(c in ran.out for c in codes) and ran.value is None


def test_regen_codes_wrong_code_keeps_the_old_codes(vast):
    ran = vast.run("%vast tfa regen-codes -t totp -c 000000 --yes")
    assert_clean_failure(ran, "Wrong code", "Try again: %vast tfa regen-codes --yes -t totp")
    assert "DEMO-CODE-0001" in vast.emu.account(KEY).backup_codes


# -- update -------------------------------------------------------------------------

def test_update_label_and_primary(vast):
    ran = vast.run("%vast tfa update 101 -l phone-app -p")
    assert ran.success, ran.text
    app = vast.emu.account(KEY).method(101)
    assert app.label == "phone-app" and app.is_primary
    assert vast.api_requests("PUT")[0].json == {"tfa_method_id": 101, "label": "phone-app",
                                                "is_primary": True}


@pytest.mark.parametrize("words, primary", [("-p false", False), ("--set-primary t", True),
                                            ("-p", True)])
def test_update_set_primary_values(vast, words, primary):
    assert vast.run(f"%vast tfa update 102 {words}").success
    assert vast.api_requests("PUT")[0].json["is_primary"] is primary


@pytest.mark.parametrize("line, words", [
    ("%vast tfa update 101", "Nothing to change"),
    ("%vast tfa update 101 -l " + "x" * 31, "at most 30 characters"),
    ("%vast tfa update 101 -p maybe", "expected true or false"),
    ("%vast tfa update -l x", "METHOD_ID"),
])
def test_update_usage_errors_send_nothing(vast, line, words):
    assert_clean_failure(vast.run(line), words)
    assert vast.api_requests() == []


def test_update_unknown_method(vast):
    ran = vast.run("%vast tfa update 999 -l x")
    assert_clean_failure(ran, "no 2FA method with id 999", "%vast tfa status")
