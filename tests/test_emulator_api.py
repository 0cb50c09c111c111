"""The emulator's 2FA endpoints over real HTTP: every endpoint, every error code."""

from __future__ import annotations

import re

import pyotp
import pytest
import requests

from vast_magic.emulator import (
    DEMO_BACKUP_CODES,
    DEMO_KEYS,
    DEMO_PHONES,
    DEMO_TOTP_SECRET,
    ERRORS,
    SPECIAL_PHONES,
)

FRESH, MULTI, UNVERIFIED = DEMO_KEYS["fresh"], DEMO_KEYS["multi"], DEMO_KEYS["unverified"]
BACKUP_RE = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")


def call(emu, method, path, body=None, key=None, *, raw=None, headers=None):
    """One request; ``path`` is relative to /api/v0/tfa/ unless it starts with '/'."""
    h = {"Authorization": f"Bearer {key}"} if key else {}
    h.update(headers or {})
    url = emu.url + (path if path.startswith("/") else "/api/v0/tfa/" + path)
    if raw is not None:
        return requests.request(method, url, data=raw, headers=h, timeout=5)
    return requests.request(method, url, json=body, headers=h, timeout=5)


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    return r.json()


def err(r, status, code):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["error"] == code, body
    assert isinstance(body["msg"], str) and body["msg"], body
    return body


def step1(emu, key, **body):
    return call(emu, "POST", "authorize-new-method/", body, key)


def step2(emu, key, code, secret):
    return call(emu, "PUT", "authorize-new-method/", {"code": code, "secret": secret}, key)


def status(emu, key):
    return ok(call(emu, "GET", "status/", key=key))


def totp_at(secret, emu):
    return pyotp.TOTP(secret).at(emu.clock.now())


def authorize(emu, key):
    """Open the add-method window through the API (email code)."""
    secret = ok(step1(emu, key, tfa_method="email"))["secret"]
    ok(step2(emu, key, emu.last_code(key, "email"), secret))


# -- demo accounts, paths, auth ---------------------------------------------------


def test_demo_accounts_as_status_shows_them(vast_emulator):
    emu = vast_emulator
    multi = status(emu, MULTI)
    assert multi["success"] is True and multi["tfa_enabled"] is True
    assert multi["backup_codes_remaining"] == 10 and multi["new_method_authorized"] is False
    by_id = {m["id"]: m for m in multi["methods"]}
    assert set(by_id) == {101, 102, 103}
    assert by_id[101]["method"] == "totp" and by_id[101]["phone_number"] is None
    assert by_id[102]["method"] == "sms" and by_id[102]["is_primary"] is True
    assert by_id[102]["phone_number"] == "+1******0102"  # masked
    assert by_id[103]["is_primary"] is False
    for m in multi["methods"]:
        assert set(m) == {"id", "user_id", "method", "label", "phone_number", "is_primary",
                          "fail_count", "locked_until", "created_at", "last_used"}
        assert m["fail_count"] == 0 and m["locked_until"] is None
    for key in (FRESH, UNVERIFIED):
        s = status(emu, key)
        assert s["tfa_enabled"] is False and s["methods"] == [] and s["backup_codes_remaining"] == 0
    assert emu.account(MULTI).backup_codes == DEMO_BACKUP_CODES
    assert emu.account(MULTI).method(101).secret == DEMO_TOTP_SECRET
    assert emu.account(UNVERIFIED).email_verified is False


@pytest.mark.parametrize("path", ["/api/v0/tfa/status/", "/api/v0/tfa/status", "/tfa/status/",
                                  "/tfa/status"])
def test_paths_with_or_without_api_prefix_and_trailing_slash(vast_emulator, path):
    assert ok(call(vast_emulator, "GET", path, key=MULTI))["tfa_enabled"] is True


def test_auth_errors(vast_emulator):
    emu = vast_emulator
    assert "Authorization" in err(call(emu, "GET", "status/"), 401, "auth_error")["msg"]
    # an unknown or deleted key: 401 "Invalid user key", the words the CLI looks for
    assert err(call(emu, "GET", "status/", key="no-such-key"), 401, "auth_error")["msg"] == \
        "Invalid user key"
    err(call(emu, "GET", "status/", headers={"Authorization": f"Token {MULTI}"}), 401, "auth_error")
    err(call(emu, "GET", "status/", headers={"Authorization": "Bearer "}), 401, "auth_error")
    # auth is checked before the body
    err(call(emu, "POST", "authorize-new-method/", raw=b"{nope"), 401, "auth_error")
    # the scheme is case-insensitive
    ok(call(emu, "GET", "status/", headers={"Authorization": f"bearer {MULTI}"}))


def test_team_context_is_refused_everywhere(vast_emulator):
    acct = vast_emulator.add_account(team=True)
    err(call(vast_emulator, "GET", "status/", key=acct.api_key), 403, "team_user_forbidden")
    err(step1(vast_emulator, acct.api_key, tfa_method="email"), 403, "team_user_forbidden")


def test_the_requests_the_cli_makes_besides_2fa(vast_emulator):
    """/users/current (before every CLI command) and the GPU names (at its import):
    answered minimally, logged, and never given a fault meant for a 2FA call."""
    emu = vast_emulator
    team = emu.add_account(team=True)
    emu.fail_next(1, error="service_unavailable")
    user = ok(call(emu, "GET", "/api/v0/users/current", key=MULTI))
    assert user == {"id": 1002, "username": "multi", "email": "multi@example.com",
                    "email_verified": True, "tfa_enabled": True}
    assert ok(call(emu, "GET", "/api/v0/users/current/", key=team.api_key))["id"] == team.user_id
    assert ok(call(emu, "GET", "/api/v0/gpu_names/unique/")) == {"gpu_names": []}  # no key needed
    assert err(call(emu, "GET", "/api/v0/users/current", key="no-such-key"), 401,
               "auth_error")["msg"] == "Invalid user key"
    assert emu.pending_faults == 1
    err(call(emu, "GET", "status/", key=MULTI), 503, "service_unavailable")
    assert [r.path for r in emu.log][:3] == ["/api/v0/users/current", "/api/v0/users/current/",
                                             "/api/v0/gpu_names/unique/"]


# -- step 1 ------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{"tfa_method": "sms"}, {"tfa_method": "totp"},
                                  {"tfa_method": "email"}, {"tfa_method_id": 999}])
def test_step1_forces_email_when_no_method(vast_emulator, body):
    emu = vast_emulator
    answer = ok(step1(emu, FRESH, **body))
    assert set(answer) == {"success", "secret"} and answer["success"] is True
    assert re.fullmatch(r"[0-9a-f]{32}", answer["secret"])
    [msg] = emu.outbox
    assert (msg.channel, msg.to, msg.api_key) == ("email", "fresh@example.com", FRESH)
    assert re.fullmatch(r"\d{6}", msg.code)
    assert f"Your Vast.ai verification code is {msg.code}" in msg.text


def test_each_step1_gets_a_fresh_secret_and_code(vast_emulator):
    emu = vast_emulator
    s1 = ok(step1(emu, FRESH, tfa_method="email"))["secret"]
    s2 = ok(step1(emu, FRESH, tfa_method="email"))["secret"]
    assert s1 != s2 and len(emu.outbox) == 2
    # both challenges stay valid, each with its own code
    ok(step2(emu, FRESH, emu.outbox[0].code, s1))
    ok(step2(emu, FRESH, emu.outbox[1].code, s2))


def test_email_flow_opens_the_window_for_30_minutes(vast_emulator):
    emu = vast_emulator
    secret = ok(step1(emu, FRESH, tfa_method="email"))["secret"]
    assert status(emu, FRESH)["new_method_authorized"] is False
    answer = ok(step2(emu, FRESH, emu.last_code(FRESH, "email"), secret))
    assert answer == {"success": True, "msg": "Authorization successful."}
    assert status(emu, FRESH)["new_method_authorized"] is True
    emu.clock.advance(1799)
    assert status(emu, FRESH)["new_method_authorized"] is True
    emu.clock.advance(2)
    assert status(emu, FRESH)["new_method_authorized"] is False


def test_email_must_be_verified(vast_emulator):
    emu = vast_emulator
    for body in ({"tfa_method": "email"}, {"tfa_method": "sms"}, {"tfa_method_id": 1}):
        err(step1(emu, UNVERIFIED, **body), 400, "email_not_verified")
    err(call(emu, "POST", "email/", {}, UNVERIFIED), 400, "email_not_verified")
    # an SMS sends a code too: it also needs a verified email
    acct = emu.add_account(email_verified=False)
    sms = acct.add_sms("+15557654321")
    err(step1(emu, acct.api_key, tfa_method="sms"), 400, "email_not_verified")
    err(call(emu, "POST", "sms/", {"tfa_method_id": sms.id}, acct.api_key), 400, "email_not_verified")
    assert len(emu.outbox) == 0
    # a TOTP sends nothing
    acct.add_totp()
    ok(step1(emu, acct.api_key, tfa_method="totp"))


@pytest.mark.parametrize("body, code", [
    ({}, "bad_request"),
    ({"tfa_method": None}, "bad_request"),
    ({"tfa_method": "email", "backup_code": "AAAA-BBBB-CCCC"}, "bad_request"),
    ({"tfa_method": "sms", "tfa_method_id": 102}, "bad_request"),
    ({"tfa_method": "push"}, "invalid_tfa_method"),
    ({"tfa_method": ""}, "invalid_tfa_method"),
    ({"tfa_method": 5}, "bad_request"),
    ({"tfa_method_id": "abc"}, "bad_request"),
    ({"tfa_method_id": "102.0"}, "bad_request"),
    ({"tfa_method_id": " 102"}, "bad_request"),
    ({"tfa_method_id": ""}, "bad_request"),
    ({"tfa_method_id": True}, "bad_request"),
    ({"tfa_method_id": 102.0}, "bad_request"),
    ({"backup_code": 1234}, "bad_request"),
    ({"backup_code": ["DEMO-CODE-0001"]}, "bad_request"),
])
def test_step1_validation(vast_emulator, body, code):
    err(step1(vast_emulator, MULTI, **body), 400, code)
    assert len(vast_emulator.outbox) == 0
    assert len(vast_emulator.account(MULTI).backup_codes) == 10


@pytest.mark.parametrize("method_id", [103, "103"])
def test_a_method_id_may_be_a_numeric_string_everywhere(vast_emulator, method_id):
    """The API documents an integer; the service also takes "103", as the CLI sends it."""
    emu = vast_emulator
    secret = ok(step1(emu, MULTI, tfa_method_id=method_id))["secret"]
    ok(step2(emu, MULTI, emu.last_code(MULTI, "sms"), secret))
    totp = {"tfa_method_id": type(method_id)(101), "code": totp_at(DEMO_TOTP_SECRET, emu)}
    assert ok(call(emu, "POST", "", totp, MULTI))["session_key"]
    assert len(ok(call(emu, "PUT", "regen-backup-codes/", totp, MULTI))["backup_codes"]) == 10
    ok(call(emu, "PUT", "update/", {"tfa_method_id": method_id, "label": "spare"}, MULTI))
    assert ok(call(emu, "DELETE", "", {**totp, "target_id": 103}, MULTI))["remaining_methods"] == 2


@pytest.mark.parametrize("raw", [b"{nope", b"[1, 2]", b'"email"', b"null", b"\xff\xfe{}",
                                 b"[" * 30000 + b"]" * 30000])
def test_step1_malformed_bodies(vast_emulator, raw):
    r = call(vast_emulator, "POST", "authorize-new-method/", key=MULTI, raw=raw,
             headers={"Content-Type": "application/json"})
    err(r, 400, "bad_request")


def test_step1_with_two_methods_of_a_type_asks_for_the_id(vast_emulator):
    emu = vast_emulator
    body = err(step1(emu, MULTI, tfa_method="sms"), 400, "bad_request")
    assert "tfa_method_id" in body["msg"]
    ok(step1(emu, MULTI, tfa_method_id=103))
    [msg] = emu.outbox
    assert (msg.channel, msg.to) == ("sms", DEMO_PHONES[103])


def test_step1_totp_sends_nothing_and_missing_type_is_not_found(vast_emulator):
    emu = vast_emulator
    ok(step1(emu, MULTI, tfa_method="totp"))
    assert len(emu.outbox) == 0
    acct = emu.add_account()
    acct.add_totp()
    err(step1(emu, acct.api_key, tfa_method="sms"), 404, "not_found")
    err(step1(emu, acct.api_key, tfa_method_id=999), 404, "not_found")
    err(step1(emu, MULTI, tfa_method_id=999), 404, "not_found")


def test_totp_step2_with_a_computed_code(vast_emulator):
    emu = vast_emulator
    secret = ok(step1(emu, MULTI, tfa_method="totp"))["secret"]
    code = totp_at(DEMO_TOTP_SECRET, emu)
    assert code == emu.totp_now(emu.account(MULTI).method(101)) == emu.totp_code(MULTI, 101)
    ok(step2(emu, MULTI, code, secret))
    assert status(emu, MULTI)["new_method_authorized"] is True
    # the emulator's clock is the one that counts
    secret = ok(step1(emu, MULTI, tfa_method_id=101))["secret"]
    stale = totp_at(DEMO_TOTP_SECRET, emu)
    emu.clock.advance(120)  # four 30-second steps later
    err(step2(emu, MULTI, stale, secret), 400, "2fa_verification_failed")
    ok(step2(emu, MULTI, totp_at(DEMO_TOTP_SECRET, emu), secret))


def test_backup_code_authorizes_at_once_and_only_once(vast_emulator):
    emu = vast_emulator
    answer = ok(step1(emu, MULTI, backup_code="DEMO-CODE-0001"))
    assert answer == {"success": True, "msg": "Authorization successful."}
    s = status(emu, MULTI)
    assert s["new_method_authorized"] is True and s["backup_codes_remaining"] == 9
    err(step1(emu, MULTI, backup_code="DEMO-CODE-0001"), 401, "invalid_backup_code")
    err(step1(emu, MULTI, backup_code="NOPE-NOPE-NOPE"), 401, "invalid_backup_code")
    ok(step1(emu, MULTI, backup_code="demo-code-0002"))  # case does not matter
    assert "DEMO-CODE-0002" not in emu.account(MULTI).backup_codes
    err(step1(emu, FRESH, backup_code="DEMO-CODE-0003"), 401, "invalid_backup_code")


def test_custom_backup_codes(vast_emulator):
    acct = vast_emulator.add_account(backup_codes=[f"CODE-{i:04d}-XXXX" for i in range(10000)])
    ok(step1(vast_emulator, acct.api_key, backup_code="CODE-9999-XXXX"))
    assert len(acct.backup_codes) == 9999
    generated = vast_emulator.add_account().backup_codes
    assert len(generated) == len(set(generated)) == 10 and all(BACKUP_RE.match(c) for c in generated)


# -- step 2 ------------------------------------------------------------------------


@pytest.mark.parametrize("body, status_code, code", [
    ({}, 400, "missing_params"),
    ({"code": "123456"}, 400, "missing_params"),
    ({"secret": "abc"}, 400, "missing_params"),
    ({"code": "", "secret": "abc"}, 400, "missing_params"),
    ({"code": 123456, "secret": "abc"}, 400, "bad_request"),
    ({"code": "123456", "secret": ["abc"]}, 400, "bad_request"),
    ({"code": "123456", "secret": "unknown"}, 400, "no_pending_authorization"),
])
def test_step2_validation(vast_emulator, body, status_code, code):
    err(call(vast_emulator, "PUT", "authorize-new-method/", body, MULTI), status_code, code)


def test_step2_secret_is_single_use_and_per_account(vast_emulator):
    emu = vast_emulator
    secret = ok(step1(emu, FRESH, tfa_method="email"))["secret"]
    code = emu.last_code(FRESH)
    err(step2(emu, MULTI, code, secret), 400, "no_pending_authorization")  # not MULTI's
    ok(step2(emu, FRESH, code, secret))
    err(step2(emu, FRESH, code, secret), 400, "no_pending_authorization")  # used


def test_step2_expiry_after_10_minutes(vast_emulator):
    emu = vast_emulator
    emu.clock.freeze()
    secret = ok(step1(emu, FRESH, tfa_method="email"))["secret"]
    code = emu.last_code(FRESH)
    emu.clock.advance(600)
    err(step2(emu, FRESH, "000000", secret), 400, "2fa_verification_failed")  # still alive
    emu.clock.advance(1)
    err(step2(emu, FRESH, code, secret), 400, "2fa_expired")
    err(step2(emu, FRESH, code, secret), 400, "no_pending_authorization")  # gone


def test_sms_lockout_after_3_failures_for_15_minutes(vast_emulator):
    emu = vast_emulator
    now = emu.clock.freeze()
    secret = ok(step1(emu, MULTI, tfa_method_id=102))["secret"]
    code = emu.last_code(MULTI, "sms")
    for n in (1, 2):
        body = err(step2(emu, MULTI, "000000", secret), 400, "2fa_verification_failed")
        assert body["fail_count"] == n and body["locked_until"] is None
    body = err(step2(emu, MULTI, "000000", secret), 429, "tfa_locked")
    assert body["fail_count"] == 3 and body["locked_until"] == now + 900
    # locked: even the right code is refused, and not counted
    body = err(step2(emu, MULTI, code, secret), 429, "tfa_locked")
    assert body["fail_count"] == 3 and body["locked_until"] == now + 900
    body = err(step1(emu, MULTI, tfa_method_id=102), 429, "tfa_locked")
    assert body["locked_until"] == now + 900
    m102 = {m["id"]: m for m in status(emu, MULTI)["methods"]}[102]
    assert (m102["fail_count"], m102["locked_until"]) == (3, now + 900)
    # the lock is per method
    ok(step1(emu, MULTI, tfa_method_id=103))
    emu.clock.advance(900)
    secret = ok(step1(emu, MULTI, tfa_method_id=102))["secret"]
    ok(step2(emu, MULTI, emu.last_code(MULTI, "sms"), secret))
    m102 = {m["id"]: m for m in status(emu, MULTI)["methods"]}[102]
    assert (m102["fail_count"], m102["locked_until"]) == (0, None)
    assert m102["last_used"] == now + 900


def test_challenge_survives_wrong_codes_and_success_resets_the_count(vast_emulator):
    emu = vast_emulator
    secret = ok(step1(emu, MULTI, tfa_method_id=103))["secret"]
    for n in (1, 2):
        assert err(step2(emu, MULTI, "000000", secret), 400, "2fa_verification_failed")["fail_count"] == n
    ok(step2(emu, MULTI, emu.last_code(MULTI, "sms"), secret))
    secret = ok(step1(emu, MULTI, tfa_method_id=103))["secret"]
    assert err(step2(emu, MULTI, "000000", secret), 400, "2fa_verification_failed")["fail_count"] == 1


def test_totp_locks_after_5_failures(vast_emulator):
    emu = vast_emulator
    now = emu.clock.freeze()
    secret = ok(step1(emu, MULTI, tfa_method="totp"))["secret"]
    wrong = f"{(int(totp_at(DEMO_TOTP_SECRET, emu)) + 500000) % 1000000:06d}"
    for n in range(1, 5):
        assert err(step2(emu, MULTI, wrong, secret), 400, "2fa_verification_failed")["fail_count"] == n
    body = err(step2(emu, MULTI, wrong, secret), 429, "tfa_locked")
    assert (body["fail_count"], body["locked_until"]) == (5, now + 900)
    err(step2(emu, MULTI, totp_at(DEMO_TOTP_SECRET, emu), secret), 429, "tfa_locked")
    emu.clock.advance(901)
    secret = ok(step1(emu, MULTI, tfa_method="totp"))["secret"]
    ok(step2(emu, MULTI, totp_at(DEMO_TOTP_SECRET, emu), secret))


def test_email_locks_after_5_failures(vast_emulator):
    emu = vast_emulator
    secret = ok(step1(emu, FRESH, tfa_method="email"))["secret"]
    for n in range(1, 5):
        assert err(step2(emu, FRESH, "000000", secret), 400, "2fa_verification_failed")["fail_count"] == n
    err(step2(emu, FRESH, "000000", secret), 429, "tfa_locked")
    err(step1(emu, FRESH, tfa_method="email"), 429, "tfa_locked")
    err(call(emu, "POST", "email/", {}, FRESH), 429, "tfa_locked")
    emu.clock.advance(15 * 60)
    ok(step1(emu, FRESH, tfa_method="email"))


def test_deleted_method_ends_its_pending_authorization(vast_emulator):
    emu = vast_emulator
    secret = ok(step1(emu, MULTI, tfa_method_id=103))["secret"]
    ok(call(emu, "DELETE", "", {"backup_code": "DEMO-CODE-0001", "target_id": 103}, MULTI))
    err(step2(emu, MULTI, emu.last_code(MULTI), secret), 400, "no_pending_authorization")


# -- email, sms, resend ----------------------------------------------------------


def test_email_endpoint(vast_emulator):
    emu = vast_emulator
    answer = ok(call(emu, "POST", "email/", {}, MULTI))
    assert answer["success"] is True and answer["msg"] and answer["secret"]
    msg = emu.outbox[-1]
    assert (msg.channel, msg.to) == ("email", "multi@example.com")
    # an empty body counts as {}
    ok(call(emu, "POST", "email/", key=MULTI, raw=b""))


def test_sms_endpoint_for_a_new_phone_and_resend(vast_emulator):
    emu = vast_emulator
    answer = ok(call(emu, "POST", "sms/", {"phone_number": "+15550001111"}, FRESH))
    assert set(answer) == {"msg", "secret"}
    first_code = emu.last_code(FRESH, "sms")
    assert emu.outbox[-1].to == "+15550001111"
    err(call(emu, "POST", "sms/", {"phone_number": "+15550001111"}, FRESH), 400, "tfa_challenge_exists")
    again = ok(call(emu, "POST", "sms/resend/", {"secret": answer["secret"]}, FRESH))
    # a new code; the original secret stays the one to finish with
    assert set(again) == {"msg", "secret"} and again["secret"] == answer["secret"]
    assert len(emu.messages(FRESH, "sms")) == 2 and emu.outbox[-1].to == "+15550001111"
    ok(call(emu, "POST", "sms/resend/", {"secret": answer["secret"]}, FRESH))
    err(call(emu, "POST", "sms/resend/", {"secret": "unknown"}, FRESH), 400, "challenge_not_found")
    err(call(emu, "POST", "sms/resend/", {}, FRESH), 400, "missing_params")
    err(call(emu, "POST", "sms/resend/", {"secret": again["secret"], "phone_number": "+15559999999"},
             FRESH), 400, "bad_request")
    err(call(emu, "POST", "sms/resend/", {"secret": 5}, FRESH), 400, "bad_request")
    emu.clock.advance(61)
    ok(call(emu, "POST", "sms/", {"phone_number": "+15550001111"}, FRESH))
    assert first_code is not None


def test_resend_keeps_the_original_secret_with_a_new_code_and_a_new_life(vast_emulator):
    emu = vast_emulator
    secret = ok(call(emu, "POST", "sms/", {"tfa_method_id": 103}, MULTI))["secret"]
    old_code = emu.last_code(MULTI, "sms")
    emu.clock.advance(540)
    ok(call(emu, "POST", "sms/resend/", {"secret": secret, "tfa_method_id": "103"}, MULTI))
    new_code = emu.last_code(MULTI, "sms")
    emu.clock.advance(540)  # 18 minutes after the first code, 9 after the new one
    login = {"tfa_method": "sms", "secret": secret}
    if old_code != new_code:
        err(call(emu, "POST", "", {**login, "code": old_code}, MULTI), 400, "2fa_verification_failed")
    assert ok(call(emu, "POST", "", {**login, "code": new_code}, MULTI))["session_key"]
    err(call(emu, "POST", "sms/resend/", {"secret": secret}, MULTI), 400, "challenge_not_found")  # used


def test_sms_endpoint_for_an_existing_method(vast_emulator):
    emu = vast_emulator
    ok(call(emu, "POST", "sms/", {"tfa_method_id": "103"}, MULTI))  # a numeric string, as the CLI sends
    assert emu.outbox[-1].to == DEMO_PHONES[103]
    ok(call(emu, "POST", "sms/", {}, MULTI))  # the primary
    assert emu.outbox[-1].to == DEMO_PHONES[102]
    err(call(emu, "POST", "sms/", {"tfa_method_id": 999}, MULTI), 404, "not_found")
    err(call(emu, "POST", "sms/", {"tfa_method_id": 101}, MULTI), 400, "bad_request")
    err(call(emu, "POST", "sms/", {"tfa_method_id": "x103"}, MULTI), 400, "bad_request")
    err(call(emu, "POST", "sms/", {"tfa_method_id": 103, "phone_number": "+15551112222"}, MULTI),
        400, "bad_request")
    err(call(emu, "POST", "sms/", {"phone_number": "555-1234"}, MULTI), 400, "bad_request")
    err(call(emu, "POST", "sms/", {}, FRESH), 400, "bad_request")


@pytest.mark.parametrize("phone, code", sorted(SPECIAL_PHONES.items()))
def test_special_phone_numbers_trigger_operational_errors(vast_emulator, phone, code):
    r = call(vast_emulator, "POST", "sms/", {"phone_number": phone}, FRESH)
    err(r, ERRORS[code][0], code)
    assert len(vast_emulator.outbox) == 0
    acct = vast_emulator.add_account()
    acct.add_sms(phone)
    err(step1(vast_emulator, acct.api_key, tfa_method="sms"), ERRORS[code][0], code)


@pytest.mark.parametrize("code", ["service_unavailable", "challenge_creation_failed",
                                  "sms_rate_limited", "twilio_rate_limited", "preauth_phone_cap",
                                  "twilio_error", "sms_blocked_number", "sms_fraud_detected",
                                  "team_user_forbidden"])
def test_injected_operational_errors(vast_emulator, code):
    vast_emulator.fail_next(1, error=code)
    err(step1(vast_emulator, MULTI, tfa_method="totp"), ERRORS[code][0], code)
    ok(step1(vast_emulator, MULTI, tfa_method="totp"))


# -- totp-setup, confirm-new --------------------------------------------------------


def test_totp_setup_and_confirm_new_first_method_gets_backup_codes(vast_emulator):
    emu = vast_emulator
    setup = ok(call(emu, "POST", "totp-setup/", {}, FRESH))  # no authorization needed here
    assert set(setup) == {"secret", "provisioning_uri"}
    assert re.fullmatch(r"[A-Z2-7]{32}", setup["secret"])
    uri = setup["provisioning_uri"]
    assert uri.startswith("otpauth://totp/") and f"secret={setup['secret']}" in uri and "Vast.ai" in uri
    body = {"tfa_method": "totp", "code": totp_at(setup["secret"], emu), "secret": setup["secret"],
            "label": "my phone app"}
    err(call(emu, "POST", "confirm-new/", body, FRESH), 403, "authorization_required")
    authorize(emu, FRESH)
    answer = ok(call(emu, "POST", "confirm-new/", body, FRESH))
    assert answer["success"] is True and answer["msg"]
    assert len(answer["backup_codes"]) == 10 and all(BACKUP_RE.match(c) for c in answer["backup_codes"])
    s = status(emu, FRESH)
    assert s["tfa_enabled"] is True and s["backup_codes_remaining"] == 10
    [m] = s["methods"]
    assert (m["method"], m["label"], m["is_primary"]) == ("totp", "my phone app", True)
    assert answer["method"]["id"] == m["id"]
    # a second method: no new backup codes
    setup2 = ok(call(emu, "POST", "totp-setup/", {}, FRESH))
    answer2 = ok(call(emu, "POST", "confirm-new/", {"tfa_method": "totp", "secret": setup2["secret"],
                                                    "code": totp_at(setup2["secret"], emu)}, FRESH))
    assert "backup_codes" not in answer2
    assert len(status(emu, FRESH)["methods"]) == 2
    err(call(emu, "POST", "confirm-new/", body, FRESH), 400, "challenge_not_found")  # used


def test_confirm_new_sms_and_duplicate(vast_emulator):
    emu = vast_emulator
    emu.account(FRESH).authorize()
    first = ok(call(emu, "POST", "sms/", {"phone_number": "+15550002222"}, FRESH))["secret"]
    code1 = emu.last_code(FRESH, "sms")
    emu.clock.advance(61)
    second = ok(call(emu, "POST", "sms/", {"phone_number": "+15550002222"}, FRESH))["secret"]
    code2 = emu.last_code(FRESH, "sms")
    ok(call(emu, "POST", "confirm-new/", {"tfa_method": "sms", "code": code1, "secret": first,
                                          "phone_number": "+15550002222"}, FRESH))
    assert status(emu, FRESH)["methods"][0]["phone_number"] == "+1******2222"
    err(call(emu, "POST", "confirm-new/", {"tfa_method": "sms", "code": code2, "secret": second},
             FRESH), 400, "duplicate_tfa_method")


def test_confirm_new_errors(vast_emulator):
    emu = vast_emulator
    key = FRESH
    emu.account(key).authorize()
    setup = ok(call(emu, "POST", "totp-setup/", {}, key))["secret"]
    sms = ok(call(emu, "POST", "sms/", {"phone_number": "+15550003333"}, key))["secret"]

    def confirm(**body):
        return call(emu, "POST", "confirm-new/", body, key)

    err(confirm(code="123456", secret=setup), 400, "bad_request")  # no tfa_method
    err(confirm(tfa_method="email", code="123456", secret=setup), 400, "invalid_tfa_method")
    err(confirm(tfa_method="totp", secret=setup), 400, "missing_params")
    err(confirm(tfa_method="totp", code=123456, secret=setup), 400, "bad_request")
    err(confirm(tfa_method="totp", code="123456", secret=setup, label="x" * 31), 400, "bad_request")
    err(confirm(tfa_method="totp", code="123456", secret="unknown"), 400, "challenge_not_found")
    err(confirm(tfa_method="sms", code="123456", secret=setup), 400, "challenge_not_found")
    err(confirm(tfa_method="sms", code=emu.last_code(key), secret=sms, phone_number="+15550009999"),
        400, "bad_request")
    body = err(confirm(tfa_method="sms", code="000000", secret=sms), 400, "2fa_verification_failed")
    assert body["fail_count"] == 1 and body["locked_until"] is None
    emu.clock.advance(601)
    emu.account(key).authorize()
    err(confirm(tfa_method="sms", code=emu.last_code(key), secret=sms), 400, "2fa_expired")
    err(confirm(tfa_method="sms", code=emu.last_code(key), secret=sms), 400, "challenge_not_found")


# -- login, delete, regen, update -----------------------------------------------------


def test_login_with_totp_gives_a_session_key_that_expires(vast_emulator):
    emu = vast_emulator
    user = ok(call(emu, "POST", "", {"tfa_method": "totp", "code": totp_at(DEMO_TOTP_SECRET, emu)},
                   MULTI))
    assert user["email"] == "multi@example.com" and user["id"] == 1002
    session = user["session_key"]
    assert "backup_codes_remaining" not in user
    assert emu.account(session) is emu.account(MULTI)
    assert status(emu, session)["tfa_enabled"] is True
    emu.clock.advance(1800)
    again = ok(call(emu, "POST", "", {"code": totp_at(DEMO_TOTP_SECRET, emu)}, session))
    assert again["session_key"] == session  # a session caller gets its key back, refreshed
    emu.clock.advance(3599)
    status(emu, session)  # an hour from the refresh, not from the login
    emu.clock.advance(1)
    body = err(call(emu, "GET", "status/", key=session), 404, "auth_error")
    assert body["msg"] == "Session expired. Please log in again."
    status(emu, MULTI)  # the API key itself still works


def test_login_with_sms_email_and_backup_code(vast_emulator):
    emu = vast_emulator
    secret = ok(call(emu, "POST", "sms/", {"tfa_method_id": 103}, MULTI))["secret"]
    user = ok(call(emu, "POST", "", {"tfa_method": "sms", "tfa_method_id": 103, "secret": secret,
                                     "code": emu.last_code(MULTI, "sms")}, MULTI))
    assert user["session_key"]
    err(call(emu, "POST", "", {"tfa_method": "sms", "secret": secret, "code": "123456"}, MULTI),
        400, "challenge_not_found")  # used
    secret = ok(call(emu, "POST", "email/", {}, MULTI))["secret"]
    ok(call(emu, "POST", "", {"tfa_method": "email", "secret": secret,
                              "code": emu.last_code(MULTI, "email")}, MULTI))
    user = ok(call(emu, "POST", "", {"backup_code": "DEMO-CODE-0005"}, MULTI))
    assert user["backup_codes_remaining"] == 9
    err(call(emu, "POST", "", {"backup_code": "DEMO-CODE-0005"}, MULTI), 401, "invalid_backup_code")


def test_login_errors(vast_emulator):
    emu = vast_emulator
    err(call(emu, "POST", "", {}, MULTI), 400, "missing_auth_value")
    err(call(emu, "POST", "", {"tfa_method": "sms"}, MULTI), 400, "missing_auth_value")
    err(call(emu, "POST", "", {"tfa_method": "sms", "code": "123456"}, MULTI), 400, "missing_params")
    err(call(emu, "POST", "", {"tfa_method": "fax", "code": "123456"}, MULTI), 400, "invalid_tfa_method")
    err(call(emu, "POST", "", {"tfa_method_id": 999, "code": "123456"}, MULTI), 404, "not_found")
    err(call(emu, "POST", "", {"code": "123456", "secret": "nope"}, MULTI), 400, "challenge_not_found")
    err(call(emu, "POST", "", {"code": 123456}, MULTI), 400, "bad_request")
    body = err(call(emu, "POST", "", {"tfa_method": "totp", "code": "000000"}, MULTI),
               400, "2fa_verification_failed")
    assert body["fail_count"] == 1
    err(call(emu, "POST", "", {"code": "123456"}, FRESH), 400, "bad_request")  # 2FA not enabled
    secret = ok(call(emu, "POST", "email/", {}, MULTI))["secret"]
    emu.clock.advance(601)
    err(call(emu, "POST", "", {"tfa_method": "email", "secret": secret, "code": "123456"}, MULTI),
        400, "2fa_expired")


def test_delete_methods_until_2fa_is_disabled(vast_emulator):
    emu = vast_emulator
    err(call(emu, "DELETE", "", {"backup_code": "DEMO-CODE-0001"}, MULTI), 400, "bad_request")
    err(call(emu, "DELETE", "", {"backup_code": "DEMO-CODE-0001", "target_id": 999}, MULTI),
        404, "not_found")
    err(call(emu, "DELETE", "", {"backup_code": "DEMO-CODE-0001", "target_id": "103"}, MULTI),
        400, "bad_request")
    assert len(emu.account(MULTI).backup_codes) == 10  # nothing consumed by refused bodies
    answer = ok(call(emu, "DELETE", "", {"backup_code": "DEMO-CODE-0001", "target_id": 102}, MULTI))
    assert answer == {"msg": "2FA method removed", "remaining_methods": 2}
    methods = {m["id"]: m for m in status(emu, MULTI)["methods"]}
    assert set(methods) == {101, 103} and methods[101]["is_primary"] is True  # a new primary
    # verifying with a method and no target_id removes that method
    answer = ok(call(emu, "DELETE", "", {"tfa_method": "totp", "code": totp_at(DEMO_TOTP_SECRET, emu)},
                     MULTI))
    assert answer == {"msg": "2FA method removed", "remaining_methods": 1}
    err(call(emu, "DELETE", "", {"backup_code": "DEMO-CODE-0002", "target_id": 103, "code": "1"},
             FRESH), 404, "not_found")
    answer = ok(call(emu, "DELETE", "", {"backup_code": "DEMO-CODE-0002", "target_id": 103}, MULTI))
    assert answer == {"msg": "2FA Successfully Disabled"}
    s = status(emu, MULTI)
    assert s["tfa_enabled"] is False and s["backup_codes_remaining"] == 0


def test_regen_backup_codes(vast_emulator):
    emu = vast_emulator
    err(call(emu, "PUT", "regen-backup-codes/", {}, MULTI), 400, "missing_auth_value")
    answer = ok(call(emu, "PUT", "regen-backup-codes/",
                     {"tfa_method_id": 101, "code": totp_at(DEMO_TOTP_SECRET, emu)}, MULTI))
    assert answer["msg"] == "success" and len(answer["backup_codes"]) == 10
    assert all(BACKUP_RE.match(c) for c in answer["backup_codes"])
    err(step1(emu, MULTI, backup_code="DEMO-CODE-0001"), 401, "invalid_backup_code")  # old codes die
    ok(step1(emu, MULTI, backup_code=answer["backup_codes"][0]))
    err(call(emu, "PUT", "regen-backup-codes/", {"backup_code": "NOPE-NOPE-NOPE"}, MULTI),
        401, "invalid_backup_code")


def test_update_label_and_primary(vast_emulator):
    emu = vast_emulator
    answer = ok(call(emu, "PUT", "update/", {"tfa_method_id": 103, "label": "work phone",
                                             "is_primary": True}, MULTI))
    assert answer["success"] is True and answer["method"]["label"] == "work phone"
    methods = {m["id"]: m for m in status(emu, MULTI)["methods"]}
    assert methods[103]["is_primary"] and not methods[102]["is_primary"]
    assert methods[103]["label"] == "work phone"
    err(call(emu, "PUT", "update/", {"tfa_method_id": 999, "label": "x"}, MULTI), 404, "not_found")
    err(call(emu, "PUT", "update/", {"label": "x"}, MULTI), 400, "bad_request")
    err(call(emu, "PUT", "update/", {"tfa_method_id": 103, "label": "x" * 31}, MULTI), 400, "bad_request")
    err(call(emu, "PUT", "update/", {"tfa_method_id": 103, "is_primary": "yes"}, MULTI), 400, "bad_request")


def test_every_documented_error_code_has_a_status(vast_emulator):
    """The table of the reference, code by code, through fault injection."""
    documented = {
        "bad_request": 400, "auth_error": 401, "invalid_tfa_method": 400, "missing_auth_value": 400,
        "missing_params": 400, "email_not_verified": 400, "2fa_expired": 400,
        "challenge_not_found": 400, "no_pending_authorization": 400, "authorization_required": 403,
        "invalid_backup_code": 401, "tfa_challenge_exists": 400, "duplicate_tfa_method": 400,
        "2fa_verification_failed": 400, "tfa_locked": 429, "sms_rate_limited": 429,
        "twilio_rate_limited": 429, "preauth_phone_cap": 429, "not_found": 404,
        "team_user_forbidden": 403, "service_unavailable": 503, "challenge_creation_failed": 500,
        "twilio_error": 400, "sms_blocked_number": 400, "sms_fraud_detected": 403,
    }
    for code, status_code in documented.items():
        assert ERRORS[code][0] == status_code
        vast_emulator.fail_next(error=code)
        err(call(vast_emulator, "GET", "status/", key=MULTI), status_code, code)
