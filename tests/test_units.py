"""Small unit tests of pure logic: codes, durations, messages, redaction, display."""

from __future__ import annotations

import time

import pytest
from magic_fixtures import DOCUMENTED_ERROR_CODES

from vast_magic import errors, tfa
from vast_magic.client import _retry_after, api_url, redact
from vast_magic.pending import PendingChallenge
from vast_magic.render import RawAnswer, StatusView


@pytest.mark.parametrize("text, code", [
    ("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456"),
    ("１２３４５６", "123456"),  # full-width digits from an IME are sent as ASCII
    ("12345", None), ("1234567", None), ("12a456", None), ("", None), (None, None),
    ("12³456", None),
])
def test_normalize_code(text, code):
    assert tfa.normalize_code(text) == code


@pytest.mark.parametrize("seconds, text", [
    (0, "0 s"), (-30, "0 s"), (45, "45 s"), (60, "1 min"), (845, "14 min 5 s"), (900, "15 min"),
])
def test_format_duration_is_never_negative(seconds, text):
    assert errors.format_duration(seconds) == text


def test_wrong_code_counts_against_the_documented_limits():
    err = errors.from_answer(400, {"error": "2fa_verification_failed", "fail_count": 1,
                                   "locked_until": None}, method="totp")
    assert "1 failed attempt of 5" in err.message and "4 left" in err.message
    err = errors.from_answer(400, {"error": "2fa_verification_failed", "fail_count": None,
                                   "locked_until": None}, method="sms")
    assert "wrong" in err.message  # a null count does not crash


def test_lock_that_already_ended_is_not_negative():
    now = time.time()
    err = errors.from_answer(429, {"error": "tfa_locked", "fail_count": 3,
                                   "locked_until": now - 60}, method="sms", now=now)
    assert "just ended" in err.message and "-" not in err.message
    err = errors.from_answer(429, {"error": "tfa_locked", "fail_count": 3,
                                   "locked_until": now + 845}, method="sms", now=now)
    assert "14 min 5 s" in err.message


def test_every_documented_code_has_its_own_message():
    generic = errors.from_answer(400, {"error": "something_new", "msg": "x"}).message
    for code in DOCUMENTED_ERROR_CODES:
        err = errors.from_answer(400, {"error": code, "msg": "server words"})
        assert err.message != generic.replace("something_new", code), code
        assert err.hints, code
        assert err.code == code
        assert "Traceback" not in "\n".join(err._render_traceback_())


def test_expired_session_key():
    err = errors.from_answer(404, {"msg": "Session expired. Please log in again."},
                             key_source="the 2FA session key in the keyring")
    assert "session key" in err.message and "expired" in err.message


def test_redact_hides_secrets_at_any_depth():
    body = {"secret": "s3", "code": "123456", "backup_code": "A-B-C", "tfa_method": "email",
            "nested": [{"session_key": "k"}], "empty": None}
    assert redact(body) == {"secret": "<redacted>", "code": "<redacted>",
                            "backup_code": "<redacted>", "tfa_method": "email",
                            "nested": [{"session_key": "<redacted>"}], "empty": None}


def test_api_url():
    assert api_url("https://console.vast.ai", "/tfa/status/") == \
        "https://console.vast.ai/api/v0/tfa/status/"
    assert api_url("http://127.0.0.1:5000/api/v0/", "tfa/") == "http://127.0.0.1:5000/api/v0/tfa/"


def test_retry_after_seconds_and_dates():
    assert _retry_after({"Retry-After": "7"}) == 7.0
    assert _retry_after({}) is None
    assert _retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert _retry_after({"Retry-After": "soon"}) is None


def test_pending_repr_masks_the_secret():
    pending = PendingChallenge(secret="TOPSECRET123", method="email")
    assert "TOPSECRET123" not in repr(pending)
    assert "TOPSECRET123" not in pending._repr_html_()
    assert "secret hidden" in repr(pending) and pending.secret == "TOPSECRET123"


def test_raw_answer_is_a_dict_that_displays_masked():
    from IPython.lib.pretty import pretty

    raw = RawAnswer({"success": True, "secret": "TOPSECRET"})
    assert raw["secret"] == "TOPSECRET" and isinstance(raw, dict)
    assert "TOPSECRET" not in repr(raw) and "TOPSECRET" not in pretty(raw)


def test_status_view_without_methods():
    view = StatusView({"tfa_enabled": False, "methods": [], "backup_codes_remaining": 0})
    assert "2FA is off" in repr(view) and "%vast tfa auth-new" in repr(view)
    assert "<table>" not in view._repr_html_()
