"""2FA sessions: login, logout, send-email, the session key's place in the key order,
the expired-session fallback and the 401 that needs a session — a real shell
against the emulator."""

from __future__ import annotations

import json
import stat

import pytest
from helpers import assert_clean_failure

from vast_magic import credentials
from vast_magic.constants import PENDING
from vast_magic.emulator import DEMO_KEYS
from vast_magic.render import RawAnswer

KEY = DEMO_KEYS["multi"]
VERIFY = PENDING["verify"][0]


def totp_code(vast) -> str:
    app = next(m for m in vast.emu.account(KEY).methods if m.method == "totp")
    return vast.emu.totp_now(app)


def session_file(home):
    return home / ".config" / "vastai" / "vast_tfa_key"


@pytest.fixture
def stored(vast, home, monkeypatch, memory_keyring):
    """The API key stored in the keyring and no VAST_API_KEY: a session key, once
    there, is what later lines send."""
    monkeypatch.delenv("VAST_API_KEY")
    memory_keyring.set_password("vast.ai", "api_key", KEY)
    vast.home = home
    return vast


def bearer(request) -> str:
    return request.headers["Authorization"].removeprefix("Bearer ")


# -- login ------------------------------------------------------------------------

def test_login_with_totp_stores_the_session_key_0600_and_never_shows_it(vast, home):
    ran = vast.run(f"%vast tfa login -t totp -c {totp_code(vast)}")
    assert ran.success, ran.text
    path = session_file(home)
    key = path.read_text()
    assert key.startswith("tfa-session-") and key not in ran.text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "~/.config/vastai/vast_tfa_key" in ran.out and "%vast tfa logout" in ran.out
    # VAST_API_KEY comes first, as in the CLI: said plainly
    assert "VAST_API_KEY comes first" in ran.out
    [login] = vast.api_requests("POST")
    assert login.json == {"code": login.json["code"], "tfa_method": "totp"}


def test_later_lines_send_the_session_key_and_status_says_so(stored):
    assert stored.run(f"%vast tfa login -t totp -c {totp_code(stored)}").success
    key = session_file(stored.home).read_text()
    ran = stored.run("%vast tfa status")
    assert ran.success, ran.text
    text = repr(ran.value)
    assert "sends the 2FA session key from ~/.config/vastai/vast_tfa_key" in text
    assert key not in text and key not in ran.value._repr_html_()
    assert bearer(stored.api_requests("GET")[-1]) == key
    # --api-key still comes first
    ran = stored.run(f"%vast tfa status --api-key {KEY}")
    assert "your API key from --api-key" in repr(ran.value)


def test_login_again_in_a_session_says_refreshed(stored):
    assert stored.run(f"%vast tfa login -t totp -c {totp_code(stored)}").success
    stored.emu.clock.advance(31)  # a new TOTP step
    ran = stored.run(f"%vast tfa login -t totp -c {totp_code(stored)}")
    assert ran.success, ran.text
    assert "refreshed" in ran.out and "Later %vast lines send it" in ran.out


def test_raw_login_returns_the_key_masked_on_display(vast, home):
    ran = vast.run(f"%vast --raw tfa login -t totp -c {totp_code(vast)}")
    assert ran.success, ran.text
    assert isinstance(ran.value, RawAnswer)
    key = session_file(home).read_text()
    assert ran.value["session_key"] == key
    assert key not in repr(ran.value) and key not in ran.text


def test_login_with_a_backup_code_counts_what_is_left(vast):
    ran = vast.run("%vast tfa login -bc DEMO-CODE-0001")
    assert ran.success, ran.text
    assert "Backup code accepted" in ran.out and "9 left" in ran.out
    for n in range(2, 8):
        vast.run(f"%vast tfa login -bc DEMO-CODE-{n:04d}")
    assert "Few are left" in vast.run("%vast tfa login -bc DEMO-CODE-0008").out


def test_login_emails_a_code_then_a_later_cell_finishes(vast, home):
    ran = vast.run("%vast tfa login")
    assert ran.success, ran.text
    assert "emailed" in ran.out and "%vast tfa login -c CODE" in ran.out
    assert vast.user_ns[VERIFY].method == "email"
    code = vast.emu.last_code(KEY, channel="email")
    ran = vast.run(f"%vast tfa login -c {code}")
    assert ran.success, ran.text
    assert VERIFY not in vast.user_ns and session_file(home).exists()
    login = vast.api_requests("POST")[-1]
    assert login.json["tfa_method"] == "email" and login.json["secret"]


def test_send_email_then_login_with_its_code(vast):
    ran = vast.run("%vast tfa send-email")
    assert ran.success, ran.text
    assert VERIFY in ran.out and "%vast tfa login -c CODE" in ran.out
    secret = vast.user_ns[VERIFY].secret
    assert secret not in ran.text
    ran = vast.run(f"%vast tfa login -c {vast.emu.last_code(KEY, channel='email')}")
    assert ran.success, ran.text
    assert vast.api_requests("POST")[-1].json["secret"] == secret


def test_send_sms_then_login_t_sms_with_the_kept_secret(one_sms):
    assert one_sms.run("%vast tfa send-sms").success
    code = one_sms.emu.last_code(one_sms.acct.api_key, channel="sms")
    ran = one_sms.run(f"%vast tfa login -t sms -c {code}")
    assert ran.success, ran.text
    assert VERIFY not in one_sms.user_ns


def test_login_t_sms_sends_the_code_first(one_sms):
    ran = one_sms.run("%vast tfa login -t sms")
    assert ran.success, ran.text
    assert "texted" in ran.out
    assert [r.path for r in one_sms.api_requests("POST")] == ["/api/v0/tfa/sms/"]


def test_login_t_sms_with_two_sms_methods_says_use_method_id(vast, monkeypatch):
    acct = vast.emu.add_account()
    acct.add_totp(is_primary=True)
    acct.add_sms(phone="+15550001111")
    acct.add_sms(phone="+15550002222")
    monkeypatch.setenv("VAST_API_KEY", acct.api_key)
    ran = vast.run("%vast tfa login -t sms")
    assert_clean_failure(ran, "several SMS methods", "--method-id")


def test_an_sms_code_without_its_secret_is_refused_locally(vast):
    ran = vast.run("%vast tfa login -t sms -c 123456")
    assert_clean_failure(ran, "needs the secret", "nothing was sent")
    assert vast.api_requests() == []


def test_unknown_method_id_is_refused_before_any_code_is_sent(vast):
    ran = vast.run("%vast tfa login --method-id 999")
    assert_clean_failure(ran, "no 2FA method with id 999", "%vast tfa status")
    assert vast.api_requests("POST") == []


def test_nobody_to_ask_for_an_app_code_sends_nothing(vast):
    ran = vast.run("%vast tfa login -t totp")
    assert_clean_failure(ran, "%vast tfa login -t totp -c CODE", "nothing was sent")
    assert vast.api_requests() == []


# -- errors: the pending verification survives every failure but success and gone ---

def test_wrong_code_keeps_the_pending_verification(vast):
    vast.run("%vast tfa login --no-prompt")
    ran = vast.run("%vast tfa login -c 000000")
    assert_clean_failure(ran, "Wrong code", "is kept", "%vast tfa login -c CODE")
    assert VERIFY in vast.user_ns


def test_expired_code_drops_it(vast):
    vast.run("%vast tfa login --no-prompt")
    code = vast.emu.last_code(KEY, channel="email")
    vast.emu.clock.advance(11 * 60)
    ran = vast.run(f"%vast tfa login -c {code}")
    assert_clean_failure(ran, "expired", "cleared", "Start again: %vast tfa login")
    assert VERIFY not in vast.user_ns


def test_challenge_not_found_drops_it(vast):
    vast.run("%vast tfa login --no-prompt")
    vast.emu.fail_next(error="challenge_not_found")
    ran = vast.run("%vast tfa login -c 123456")
    assert_clean_failure(ran, "no pending verification", "cleared")
    assert VERIFY not in vast.user_ns


def test_lock_says_the_time_left_and_other_ways(vast):
    for _ in range(4):
        vast.run("%vast tfa login -t totp -c 000000")
    ran = vast.run("%vast tfa login -t totp -c 000000")
    assert_clean_failure(ran, "locked", "min", "-t email")
    ran = vast.run(f"%vast tfa login -t totp -c {totp_code(vast)}")
    assert_clean_failure(ran, "locked", "more")


@pytest.mark.parametrize("error, words", [
    ("invalid_backup_code", ("backup code is unknown", "Check it for typos")),
    ("missing_auth_value", ("a value is missing",)),
    ("team_user_forbidden", ("team context", "personal API key")),
    ("2fa_expired", ("expired",)),
])
def test_documented_errors_are_clean_failures(vast, error, words):
    vast.run("%vast tfa login --no-prompt")
    vast.emu.fail_next(error=error)
    ran = vast.run("%vast tfa login -c 123456")
    assert_clean_failure(ran, *words)
    assert (VERIFY in vast.user_ns) == (error != "2fa_expired")


def test_bad_backup_code(vast):
    ran = vast.run("%vast tfa login -bc NOPE-NOPE-NOPE")
    assert_clean_failure(ran, "backup code is unknown", "-t totp")


# -- logout --------------------------------------------------------------------------

def test_logout_forgets_the_file_and_the_keyring_and_says_what_is_sent(stored,
                                                                       memory_keyring):
    assert stored.run(f"%vast tfa login -t totp -c {totp_code(stored)}").success
    memory_keyring.set_password("vast.ai", "tfa_session_key", "tfa-session-other")
    ran = stored.run("%vast tfa logout")
    assert ran.success, ran.text
    assert not session_file(stored.home).exists()
    assert ("vast.ai", "tfa_session_key") not in memory_keyring.store
    assert "your API key from the keyring" in ran.out
    assert stored.run("%vast tfa logout").out.startswith("No 2FA session key was stored")
    assert bearer(stored.api_requests()[-1]) != "tfa-session-other"


# -- the expired session: forgotten, and the line once more with the API key ----------

def test_expired_session_falls_back_to_the_api_key(stored):
    assert stored.run(f"%vast tfa login -t totp -c {totp_code(stored)}").success
    stored.emu.clock.advance(stored.emu.session_ttl + 1)
    ran = stored.run("%vast tfa status")
    assert ran.success, ran.text
    assert "session has ended" in ran.err and "%vast tfa login" in ran.err
    assert not session_file(stored.home).exists()
    first, again = stored.api_requests("GET")[-2:]
    assert bearer(first).startswith("tfa-session-") and bearer(again) == KEY


def test_unknown_session_key_falls_back_once(stored):
    path = session_file(stored.home)
    credentials.store_session("tfa-session-revoked")
    assert path.exists()
    ran = stored.run("%vast tfa status")
    assert ran.success and "session has ended" in ran.err
    assert "your API key from the keyring" in repr(ran.value)


def test_a_refused_api_key_is_not_retried(vast, monkeypatch):
    monkeypatch.setenv("VAST_API_KEY", "not-a-key")
    ran = vast.run("%vast tfa status")
    assert_clean_failure(ran, "did not accept your API key")
    assert len(vast.api_requests()) == 1


def test_a_401_needing_2fa_names_the_login_lines(vast):
    body = json.dumps({"msg": "This endpoint requires Two Factor Authentication."})
    vast.emu.fail_next(status=401, body=body, content_type="application/json")
    ran = vast.run("%vast tfa update 101 -l x")
    assert_clean_failure(ran, "needs a 2FA session", "%vast tfa login -t totp",
                         "%vast tfa login --method-id 102", "%vast tfa login -t email")


# -- the session key's storage, as functions -------------------------------------------

def test_store_and_forget_session(home, memory_keyring):
    env = {"HOME": str(home)}
    path = credentials.store_session("tfa-session-x", env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    key = credentials.resolve(None, env)
    assert credentials.is_session(key.source, env)
    assert credentials.describe(key, env) == \
        "the 2FA session key from ~/.config/vastai/vast_tfa_key"
    assert credentials.forget_session(env) == ["~/.config/vastai/vast_tfa_key"]
    assert credentials.forget_session(env) == [] and credentials.resolve(None, env) is None


def test_a_session_file_that_cannot_be_removed_is_a_clean_failure(vast, home):
    credentials.store_session("tfa-session-x")
    folder = session_file(home).parent
    folder.chmod(0o500)
    try:
        ran = vast.run("%vast tfa logout")
    finally:
        folder.chmod(0o700)
    if ran.success:  # root may remove it anyway
        pytest.skip("running as root: the folder's mode does not stop removal")
    assert_clean_failure(ran, "could not be removed", "Delete that file yourself")
