"""%vast tfa auth-new end to end: a real InteractiveShell, real HTTP to the emulator."""

from __future__ import annotations

import json

from helpers import assert_clean_failure

from vast_magic.emulator import DEMO_KEYS
from vast_magic.constants import PENDING_NAME

AUTHORIZE = "/api/v0/tfa/authorize-new-method/"


def api_requests(emu):
    """The logged requests to the API (not the emulator's side door)."""
    return [r for r in emu.log if r.path.startswith("/api/")]


def test_email_flow_finished_in_a_later_cell(vast):
    emu = vast.emu
    ran = vast.run("%vast tfa auth-new")
    assert ran.success, ran.text
    assert "emailed" in ran.out and "--code CODE" in ran.out
    pending = vast.user_ns[PENDING_NAME]
    # the secret is nowhere in what the cell showed
    assert pending.secret not in ran.text
    assert pending.secret not in repr(pending) and pending.secret not in pending._repr_html_()
    [step1] = api_requests(emu)
    assert (step1.method, step1.path, step1.json) == ("POST", AUTHORIZE, {"tfa_method": "email"})
    assert step1.headers["Authorization"] == f"Bearer {DEMO_KEYS['multi']}"

    code = emu.last_code(DEMO_KEYS["multi"], channel="email")
    ran = vast.run(f"%vast tfa auth-new --code {code}")
    assert ran.success, ran.text
    assert "Authorized" in ran.out and "%vast tfa totp-setup" in ran.out
    assert PENDING_NAME not in vast.user_ns
    step2 = api_requests(emu)[-1]
    assert (step2.method, step2.json) == ("PUT", {"code": code, "secret": pending.secret})
    assert pending.secret not in ran.text
    ran = vast.run("%vast --raw tfa status")
    assert ran.value["new_method_authorized"] is True


def test_pending_is_hidden_from_who(vast):
    vast.run("%vast tfa auth-new")
    ran = vast.run("%who")
    assert PENDING_NAME not in ran.out


def test_step1_and_step2_share_one_connection(vast):
    vast.run("%vast tfa auth-new")
    code = vast.emu.last_code(DEMO_KEYS["multi"])
    assert vast.run(f"%vast tfa auth-new --code {code}").success
    pools = vast.magics.session.get_adapter(vast.emu.url).poolmanager.pools
    [pool] = [pools[k] for k in pools.keys()]
    assert pool.num_connections == 1


def test_method_id_is_sent_as_an_integer(vast):
    sms = [m for m in vast.emu.account(DEMO_KEYS["multi"]).methods if m.method == "sms"][0]
    vast.user_ns["mid"] = sms.id
    ran = vast.run("%vast tfa auth-new --method-id $mid")  # $var expansion
    assert ran.success, ran.text
    posts = [r for r in api_requests(vast.emu) if r.method == "POST"]
    assert posts[0].json == {"tfa_method_id": sms.id}
    ran = vast.run("%vast tfa auth-new -id {mid}")  # {var} expansion
    assert ran.success, ran.text
    assert isinstance(api_requests(vast.emu)[-1].json["tfa_method_id"], int)


def test_method_id_learns_the_type_for_prompts_and_limits(vast):
    ran = vast.run("%vast tfa auth-new --method-id 102")
    assert "with SMS (method 102): a 6-digit code was texted" in ran.out
    assert vast.user_ns[PENDING_NAME].label == "sms, id 102"
    ran = vast.run("%vast tfa auth-new --code 000000")
    assert_clean_failure(ran, "(1 failed attempt; 2 left before this SMS method")
    ran = vast.run("%vast tfa auth-new --method-id 101")
    assert "authenticator app (method 101)" in ran.out
    ran = vast.run("%vast tfa auth-new --code 000000")
    assert_clean_failure(ran, "(1 failed attempt; 4 left")


def test_backup_code_finishes_in_one_request(vast):
    code = vast.emu.account(DEMO_KEYS["multi"]).backup_codes[0]
    ran = vast.run(f"%vast tfa auth-new --backup-code {code}")
    assert ran.success, ran.text
    assert "Backup code accepted" in ran.out and "Authorized" in ran.out
    assert [r.json for r in api_requests(vast.emu)] == [{"backup_code": code}]
    assert PENDING_NAME not in vast.user_ns
    ran = vast.run(f"%vast tfa auth-new -bc {code}")  # used once already
    assert_clean_failure(ran, "already used")


def test_totp_with_a_computed_code(vast):
    emu = vast.emu
    acct = emu.account(DEMO_KEYS["multi"])
    totp = [m for m in acct.methods if m.method == "totp"][0]
    assert vast.run("%vast tfa auth-new -t totp").success
    assert emu.messages(DEMO_KEYS["multi"]) == []  # the app shows the code: nothing is sent
    ran = vast.run(f"%vast tfa auth-new --code {emu.totp_now(totp)}")
    assert ran.success, ran.text


def test_code_without_anything_pending_is_refused_without_a_request(vast):
    ran = vast.run("%vast tfa auth-new --code 123456")
    assert_clean_failure(ran, "Nothing is pending", "%vast tfa auth-new")
    assert api_requests(vast.emu) == []


def test_secret_without_code_is_refused(vast):
    ran = vast.run("%vast tfa auth-new --secret abc")
    assert_clean_failure(ran, "--secret needs a code", "--code CODE --secret SECRET")
    assert api_requests(vast.emu) == []


def test_malformed_code_is_refused_before_any_request(vast):
    vast.run("%vast tfa auth-new")
    for bad in ("12345", "12a456", "1234567"):
        ran = vast.run(f"%vast tfa auth-new --code {bad}")
        assert_clean_failure(ran, "6 digits", "Nothing was sent")
    assert len(api_requests(vast.emu)) == 1
    assert PENDING_NAME in vast.user_ns


def test_wrong_code_keeps_the_challenge_and_counts_attempts(one_sms):
    vast = one_sms
    vast.run("%vast tfa auth-new -t sms")
    ran = vast.run("%vast tfa auth-new --code 000000")
    assert_clean_failure(ran, "(1 failed attempt; 2 left")
    assert PENDING_NAME in vast.user_ns
    ran = vast.run("%vast tfa auth-new --code 000000")
    assert_clean_failure(ran, "(2 failed attempts; 1 left")
    ran = vast.run("%vast tfa auth-new --code 000000")  # the third locks the method
    assert_clean_failure(ran, "locked", "min")
    assert "-" not in ran.text.split("locked")[1].split("min")[0]  # never negative
    assert PENDING_NAME in vast.user_ns
    ran = vast.run("%vast tfa auth-new --code 000000")
    assert_clean_failure(ran, "locked")
    # a lock answer is never re-sent
    puts = [r for r in api_requests(vast.emu) if r.method == "PUT"]
    assert len(puts) == 4


def test_lock_ends_with_the_clock(one_sms):
    vast = one_sms
    emu = vast.emu
    vast.run("%vast tfa auth-new -t sms")
    for _ in range(3):
        vast.run("%vast tfa auth-new --code 000000")
    ran = vast.run("%vast tfa auth-new -t sms")  # refused while locked
    assert_clean_failure(ran, "locked")
    emu.clock.advance(15 * 60 + 1)
    assert vast.run("%vast tfa auth-new -t sms").success  # a new challenge after the lock
    code = emu.last_code(vast.acct.api_key, channel="sms")
    assert vast.run(f"%vast tfa auth-new --code {code}").success


def test_expired_challenge_is_cleared(vast):
    vast.run("%vast tfa auth-new")
    code = vast.emu.last_code(DEMO_KEYS["multi"])
    vast.emu.clock.advance(601)
    ran = vast.run(f"%vast tfa auth-new --code {code}")
    assert_clean_failure(ran, "expired", "Start again: %vast tfa auth-new")
    assert PENDING_NAME not in vast.user_ns


def test_unknown_secret_says_start_again(vast):
    ran = vast.run("%vast tfa auth-new --secret nosuchsecret --code 123456")
    assert_clean_failure(ran, "no pending authorization", "Start again")


def test_secret_overrides_the_pending_one(vast):
    vast.run("%vast tfa auth-new")
    first = vast.user_ns[PENDING_NAME]
    code1 = vast.emu.last_code(DEMO_KEYS["multi"])
    vast.run("%vast tfa auth-new")  # a second challenge replaces the pending one
    assert vast.user_ns[PENDING_NAME].secret != first.secret
    ran = vast.run(f"%vast tfa auth-new --secret {first.secret} --code {code1}")
    assert ran.success, ran.text
    assert PENDING_NAME in vast.user_ns  # the other challenge is untouched


def test_server_refusals_have_their_own_messages(vast):
    emu = vast.emu
    assert_clean_failure(vast.run("%vast tfa auth-new --method-id 999999"),
                         "no 2FA method with id 999999", "%vast tfa status")
    assert_clean_failure(vast.run("%vast tfa auth-new -bc AAAA-BBBB-CCCC"), "backup code")
    assert_clean_failure(vast.run("%vast tfa auth-new --api-key wrong-key"),
                         "did not accept your API key", "--api-key comes before every other key")
    assert_clean_failure(vast.run(f"%vast tfa auth-new --api-key {DEMO_KEYS['unverified']}"),
                         "email address is not verified")
    fresh = DEMO_KEYS["fresh"]
    ran = vast.run(f"%vast tfa auth-new -t totp --api-key {fresh}")  # no method: email forced
    assert ran.success, ran.text
    assert emu.last_code(fresh, channel="email")
    assert PENDING_NAME in vast.user_ns


def test_two_sms_methods_need_an_id(vast):
    ran = vast.run("%vast tfa auth-new -t sms")
    assert_clean_failure(ran, "--method-id", "%vast tfa status")


def test_raw_returns_the_answer_and_prints_nothing(vast):
    code = vast.emu.account(DEMO_KEYS["multi"]).backup_codes[0]
    ran = vast.run(f"r = %vast --raw tfa auth-new --backup-code {code}")
    assert ran.success and ran.out == "" and ran.err == ""
    assert vast.user_ns["r"] == {"success": True, "msg": "Authorization successful."}
    ran = vast.run("%vast tfa auth-new --raw")  # global option after the command
    assert ran.success
    assert vast.user_ns[PENDING_NAME].secret not in ran.out  # displayed, but masked
    assert ran.value["secret"] == vast.user_ns[PENDING_NAME].secret


def test_raw_error_is_json_and_fails_the_cell(vast):
    ran = vast.run("%vast --raw tfa auth-new --code 000000 --secret nosuch")
    assert not ran.success
    first = ran.out.splitlines()[0]
    assert json.loads(first)["error"] in ("no_pending_authorization", "challenge_not_found")
    assert "Traceback" not in ran.text


def test_explain_redacts_key_and_secrets(vast):
    ran = vast.run("%vast --explain tfa auth-new")
    secret = vast.user_ns[PENDING_NAME].secret
    assert "POST" in ran.out and "/api/v0/tfa/authorize-new-method/" in ran.out
    assert "<redacted>" in ran.out and "200" in ran.out
    assert DEMO_KEYS["multi"] not in ran.text and secret not in ran.text
    code = vast.emu.last_code(DEMO_KEYS["multi"])
    ran = vast.run(f"%vast tfa auth-new --code {code} --explain")
    assert "PUT" in ran.out and secret not in ran.text and DEMO_KEYS["multi"] not in ran.text


def test_status_text_html_and_raw(vast):
    ran = vast.run("%vast tfa status")
    assert ran.success
    text = repr(ran.value)
    assert "2FA is on" in text and "backup code" in text
    for col in ("id", "type", "label", "primary", "phone", "failures", "lock", "last used"):
        assert col in text
    html = ran.value._repr_html_()
    assert "<table>" in html and "<th>phone</th>" in html
    ran = vast.run("%vast --raw tfa status")
    assert isinstance(ran.value, dict) and len(ran.value["methods"]) == 3


def test_reload_ext_keeps_the_pending_challenge(vast):
    vast.run("%vast tfa auth-new")
    secret = vast.user_ns[PENDING_NAME].secret
    vast.run("%reload_ext vast_magic")
    vast.magics.code_prompt = "never"
    code = vast.emu.last_code(DEMO_KEYS["multi"])
    ran = vast.run(f"%vast tfa auth-new --code {code}")
    assert ran.success, ran.text
    assert vast.emu.log[-1].json["secret"] == secret


def test_load_ext_twice_is_harmless(vast):
    vast.run("%load_ext vast_magic")
    assert vast.run("%vast tfa auth-new").success


def test_code_goes_to_the_server_step1_went_to(vast, monkeypatch):
    from vast_magic.emulator import Emulator

    with Emulator() as other:
        ran = vast.run(f"%vast --url {other.url} tfa auth-new")
        assert ran.success, ran.text
        code = other.last_code(DEMO_KEYS["multi"])
        ran = vast.run(f"%vast tfa auth-new --url {vast.emu.url} --code {code}")
        assert_clean_failure(ran, "was started at", "it is kept")
        assert PENDING_NAME in vast.user_ns
        ran = vast.run(f"%vast tfa auth-new --code {code}")  # VAST_URL is vast.emu: not used
        assert ran.success, ran.text
    assert [r for r in api_requests(vast.emu) if r.method == "PUT"] == []


def test_code_with_another_api_key_is_refused_and_kept(vast, monkeypatch):
    vast.run("%vast tfa auth-new")
    monkeypatch.setenv("VAST_API_KEY", DEMO_KEYS["fresh"])
    ran = vast.run("%vast tfa auth-new --code 123456")
    assert_clean_failure(ran, "another API key", "VAST_API_KEY", "kept")
    assert DEMO_KEYS["fresh"] not in ran.text
    assert PENDING_NAME in vast.user_ns
    assert [r for r in api_requests(vast.emu) if r.method == "PUT"] == []


def test_a_200_that_says_no_is_not_a_success(vast):
    vast.run("%vast tfa auth-new")
    vast.emu.fail_next(1, status=200, body='{"success": false, "msg": "Invalid code"}',
                       content_type="application/json")
    ran = vast.run("%vast tfa auth-new --code 123456")
    assert_clean_failure(ran, "Invalid code")
    assert "Authorized" not in ran.text
    assert PENDING_NAME in vast.user_ns


def test_malformed_status_answer_is_a_message(vast):
    vast.emu.fail_next(1, status=200, body='{"success": true, "methods": "x"}',
                       content_type="application/json")
    assert_clean_failure(vast.run("%vast tfa status"), "unexpected shape")


def test_api_key_on_the_line_warns_but_a_variable_does_not(vast):
    ran = vast.run(f"%vast tfa status --api-key {DEMO_KEYS['multi']}", store_history=True)
    assert ran.success and "Warning" in ran.err and "history" in ran.err
    assert DEMO_KEYS["multi"] not in ran.err
    vast.user_ns["k"] = DEMO_KEYS["multi"]
    ran = vast.run("%vast tfa status --api-key $k", store_history=True)
    assert ran.success and "Warning" not in ran.err


def test_account_without_methods_is_told_the_code_was_emailed(vast, monkeypatch):
    monkeypatch.setenv("VAST_API_KEY", DEMO_KEYS["fresh"])
    ran = vast.run("%vast tfa auth-new -t totp")
    assert ran.success, ran.text
    assert "no 2FA method yet, so the server emailed the code" in ran.out
    assert vast.user_ns[PENDING_NAME].method == "email"
    ran = vast.run("%vast tfa auth-new --code 000000")
    assert_clean_failure(ran, "(1 failed attempt; 4 left before email verification")
    assert "SMS" not in ran.text and "authenticator" not in ran.text


def test_email_lock_names_email_and_offers_only_other_ways(vast):
    """The demo account's other ways: its app, its two SMS methods by id (one -t sms
    would not do), its backup codes; never email itself."""
    vast.run("%vast tfa auth-new")
    for _ in range(5):
        ran = vast.run("%vast tfa auth-new --code 000000")
    assert_clean_failure(ran, "email verification is locked", "start again", "-t totp",
                         "`-t totp`, `--method-id 102` (sms), `--method-id 103` (sms) or "
                         "`--backup-code CODE`.")
    assert "`-t email`" not in ran.text
    assert "-t sms" not in ran.text and "-t email" not in ran.text
    ran = vast.run("%vast tfa auth-new")  # step 1 while email is locked
    assert_clean_failure(ran, "email verification is locked", "When the lock ends, start again")


def test_unreadable_method_list_is_not_taken_for_no_methods(vast):
    vast.emu.fail_next(1, status=200, content_type="application/json",
                       body='{"success": true, "methods": [{"id": "101", "method": "totp"}]}')
    ran = vast.run("%vast tfa auth-new -t totp")
    assert ran.success, ran.text
    assert "no 2FA method yet" not in ran.out
    assert vast.user_ns[PENDING_NAME].method == "totp"


def test_status_with_null_methods(vast):
    vast.emu.fail_next(1, status=200, content_type="application/json",
                       body='{"success": true, "tfa_enabled": false, "methods": null}')
    ran = vast.run("%vast tfa status")
    assert ran.success and "2FA is off" in repr(ran.value)


def test_unverified_email_with_sms_points_only_to_what_works(vast, monkeypatch):
    acct = vast.emu.add_account(email_verified=False)
    acct.add_sms(phone="+15550002222", label="phone", is_primary=True)
    monkeypatch.setenv("VAST_API_KEY", acct.api_key)
    ran = vast.run("%vast tfa auth-new -t sms")
    assert_clean_failure(ran, "not verified", "--backup-code")
    assert "-t sms" not in ran.text and "-t totp" not in ran.text  # it has neither


def test_challenges_of_other_purposes_are_kept_apart(vast, monkeypatch):
    """Each purpose has its own slot: auth-new's step 1 leaves another's challenge alone."""
    from vast_magic import constants
    from vast_magic.api.challenge import Challenge
    from vast_magic.context import PendingStore

    monkeypatch.setitem(constants.PENDING, "setup", ("_vast_pending_setup", "setup"))
    store = PendingStore(vast.shell)
    other = Challenge(secret="other-secret", method="totp", purpose="setup")
    store.keep(other)
    assert vast.run("%vast tfa auth-new").success
    code = vast.emu.last_code(DEMO_KEYS["multi"])
    assert vast.run(f"%vast tfa auth-new --code {code}").success
    assert store.get("setup") is other and store.get("authorize") is None
    assert "pending 2FA setup" in repr(other)
    assert "_vast_pending_setup" not in vast.run("%who").out
    store.drop("setup")
