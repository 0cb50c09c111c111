"""The API layer on its own: pure logic (codes, messages, retry policy, redaction)
and its boundary (no IPython, no import cycles)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from helpers import DOCUMENTED_ERROR_CODES

from vast_magic.api import errors
from vast_magic.api.challenge import normalize_code
from vast_magic.api.client import (
    Outcome,
    api_url,
    parse_retry_after,
    redact,
    retry_wait,
    should_retry,
)


@pytest.mark.parametrize("text, code", [
    ("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456"),
    ("１２３４５６", "123456"),  # full-width digits from an IME are sent as ASCII
    ("12345", None), ("1234567", None), ("12a456", None), ("", None), (None, None),
    ("12³456", None),
])
def test_normalize_code(text, code):
    assert normalize_code(text) == code


@pytest.mark.parametrize("seconds, text", [
    (0, "0 s"), (-30, "0 s"), (45, "45 s"), (60, "1 min"), (845, "14 min 5 s"), (900, "15 min"),
])
def test_format_duration_is_never_negative(seconds, text):
    assert errors.format_duration(seconds) == text


def test_wrong_code_counts_against_the_documented_limits():
    err = errors.from_answer(400, {"error": "2fa_verification_failed", "fail_count": 1,
                                   "locked_until": None}, method="totp")
    assert isinstance(err, errors.WrongCode) and not err.locked()
    assert "(1 failed attempt; 4 left before" in err.message
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


def test_every_documented_code_has_its_own_message_and_no_command_name():
    generic = errors.from_answer(400, {"error": "something_new", "msg": "x"}).message
    for code in DOCUMENTED_ERROR_CODES:
        err = errors.from_answer(400, {"error": code, "msg": "server words"})
        assert err.message != generic.replace("something_new", code), code
        assert err.code == code
        assert "%vast" not in err.message and not err.hints, code  # callers add next steps


@pytest.mark.parametrize("code, kind", [
    ("2fa_verification_failed", errors.WrongCode), ("tfa_locked", errors.Locked),
    ("2fa_expired", errors.ChallengeGone), ("challenge_not_found", errors.ChallengeGone),
    ("no_pending_authorization", errors.ChallengeGone), ("auth_error", errors.BadKey),
    ("sms_rate_limited", errors.Refusal),
])
def test_what_a_refusal_means_is_its_type(code, kind):
    err = errors.from_answer(400, {"error": code})
    assert type(err) is kind and isinstance(err, errors.Refusal)


def test_expired_session_key():
    err = errors.from_answer(404, {"msg": "Session expired. Please log in again."},
                             key_source="the 2FA session key in the keyring")
    assert isinstance(err, errors.BadKey)
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
    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None


def _answer(status, error=None):
    return Outcome("answer", status, {"error": error} if error else None)


@pytest.mark.parametrize("outcome, safe, unsafe", [
    (Outcome("refused"), True, True),             # nothing was sent
    (Outcome("connect_timeout"), True, True),     # no connection was made
    (Outcome("lost"), True, False),               # it may have been acted on
    (Outcome("read_timeout"), True, False),
    (_answer(503), True, True),                   # a gateway: the service never saw it
    (_answer(429), True, True),                   # a rate limiter in front of the service
    (_answer(502), True, False),
    (_answer(504), True, False),
    (_answer(429, "sms_rate_limited"), False, False),  # the service throttles on purpose
    (_answer(400, "2fa_verification_failed"), False, False),  # a judged code
    (_answer(429, "tfa_locked"), False, False),
    (_answer(500), False, False),
    (_answer(200), False, False),
])
def test_should_retry(outcome, safe, unsafe):
    assert should_retry(outcome, unsafe=False) is safe
    assert should_retry(outcome, unsafe=True) is unsafe


def test_retry_wait_grows_and_honours_retry_after_up_to_the_cap():
    assert [retry_wait(n, None, 30) for n in (1, 2, 3)] == [0.15, 0.15 * 1.5, 0.15 * 1.5 ** 2]
    assert retry_wait(1, 3600, 5.0) == 5.0 and retry_wait(2, 2.0, 5.0) == 2.0


def _fresh_interpreter(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


def test_the_api_layer_imports_no_ipython():
    loaded = _fresh_interpreter(
        "import sys\n"
        "import vast_magic.api.client, vast_magic.api.errors, vast_magic.api.tfa\n"
        "import vast_magic.api.challenge, vast_magic.credentials\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))")
    assert "IPython" not in loaded and "traitlets" not in loaded, loaded


def test_no_module_of_the_package_imports_in_a_cycle():
    """Every module imports on its own, first, in a fresh interpreter: a cycle shows
    as an ImportError there (partially initialized module)."""
    import pkgutil

    import vast_magic

    names = [m.name for m in pkgutil.walk_packages(vast_magic.__path__, "vast_magic.")
             if ".emulator" not in m.name and not m.name.endswith((".demo", ".reference"))]
    for name in names:
        _fresh_interpreter(f"import {name}")
