"""Retries, timeouts and broken answers, through %vast against the emulator's faults."""

from __future__ import annotations

import socket

import pytest

from helpers import assert_clean_failure

from vast_magic.emulator import DEMO_KEYS
from vast_magic.constants import PENDING_NAME

HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def api(emu, method=None):
    return [r for r in emu.log if r.path.startswith("/api/")
            and (method is None or r.method == method)]


def test_status_retries_a_503_honouring_retry_after(vast):
    vast.emu.fail_next(1, status=503, body="<html>busy</html>", retry_after=0)
    ran = vast.run("%vast tfa status")
    assert ran.success, ran.text
    assert len(api(vast.emu)) == 2


def test_status_retries_429_502_504(vast):
    for status in (429, 502, 504):
        vast.emu.fail_next(1, status=status, body=HTML)
        assert vast.run("%vast tfa status").success
    assert len(api(vast.emu)) == 6


def test_retry_counts_total_attempts(vast):
    vast.emu.fail_next(5, status=502, body=HTML)
    ran = vast.run("%vast --retry 2 tfa status")
    assert_clean_failure(ran, "502", "instead of JSON", "Try again")
    assert len(api(vast.emu)) == 2


def test_html_error_page_gets_one_line(vast):
    vast.emu.fail_next(3, status=502, body=HTML)
    ran = vast.run("%vast tfa status")
    assert_clean_failure(ran, "502", "text/html")
    assert "<h1>" not in ran.text


def test_step1_is_not_resent_after_a_502(vast):
    """A 502 may come after the service sent the email: never send it twice."""
    vast.emu.fail_next(1, status=502, body=HTML)
    ran = vast.run("%vast tfa auth-new")
    assert_clean_failure(ran, "502")
    assert len(api(vast.emu, "POST")) == 1


def test_step1_is_resent_after_a_gateway_503(vast):
    vast.emu.fail_next(1, status=503, body="<html>maintenance</html>", retry_after=0)
    ran = vast.run("%vast tfa auth-new")
    assert ran.success, ran.text
    assert len(api(vast.emu, "POST")) == 2


def test_step1_is_not_resent_after_a_dropped_connection(vast):
    vast.emu.fail_next(1, drop=True)
    ran = vast.run("%vast tfa auth-new")
    assert_clean_failure(ran, "connection", "may have")
    assert len(api(vast.emu, "POST")) == 1


def test_status_is_resent_after_a_dropped_connection(vast):
    vast.emu.fail_next(1, drop=True)
    assert vast.run("%vast tfa status").success
    assert len(api(vast.emu)) == 2


def test_a_lock_is_never_retried(one_sms):
    vast = one_sms
    vast.run("%vast tfa auth-new -t sms")
    for _ in range(4):
        vast.run("%vast tfa auth-new --code 000000")
    assert len(api(vast.emu, "PUT")) == 4
    assert PENDING_NAME in vast.user_ns


def test_timeout_is_bounded_and_explained(vast):
    vast.magics.timeout = 0.3
    vast.emu.fail_next(3, delay=1.0)
    ran = vast.run("%vast --retry 1 tfa status")
    assert_clean_failure(ran, "No answer", "0.3 s")


def test_step2_timeout_keeps_the_challenge(vast):
    vast.run("%vast tfa auth-new")
    vast.magics.timeout = 0.3
    vast.emu.fail_next(1, delay=1.0)
    ran = vast.run("%vast tfa auth-new --code 123456")
    assert_clean_failure(ran, "No answer")
    assert PENDING_NAME in vast.user_ns
    assert len(api(vast.emu, "PUT")) == 1


def test_connection_refused(vast):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ran = vast.run(f"%vast --url http://127.0.0.1:{port} tfa status")
    assert_clean_failure(ran, "Could not connect", "the connection was refused. Tried 3 times",
                         "Check the server address from --url and your network.")
    assert "urllib3" not in ran.text and "HTTPConnectionPool" not in ran.text
    vast.shell.run_line_magic("env", f"VAST_URL=http://127.0.0.1:{port}")
    ran = vast.run("%vast tfa status --retry 1")  # the hint names where the address came from
    assert_clean_failure(ran, "refused.\n", "the server address from VAST_URL")


def test_operational_errors_have_messages(vast):
    cases = {  # error: (attempts it gets, words)
        "service_unavailable": (3, "temporarily unable"),  # a 503 is retried
        "sms_rate_limited": (1, "Too many SMS"),            # a throttle is not
        "team_user_forbidden": (1, "personal API key: correct VAST_API_KEY"),
        "sms_fraud_detected": (1, "SMS is disabled"),
        "twilio_error": (1, "could not be sent"),
    }
    def sent():  # step 1's attempts (the advice may also look up the account's methods)
        return len([r for r in api(vast.emu) if r.method == "POST"])

    for error, (attempts, words) in cases.items():
        before = sent()
        vast.emu.fail_next(attempts, error=error)
        ran = vast.run("%vast tfa auth-new")
        assert_clean_failure(ran, words)
        assert sent() == before + attempts


def test_retry_after_is_honoured_up_to_the_cap(vast_emulator):
    from vast_magic.api.client import Client, new_session

    waits = []
    client = Client(new_session(), vast_emulator.url, DEMO_KEYS["multi"], attempts=3,
                    retry_after_cap=5.0, sleep=waits.append)
    vast_emulator.fail_next(1, status=429, body="slow down", retry_after=3600)
    assert "methods" in client.call("GET", "/tfa/status/")
    assert waits == [5.0]
    waits.clear()
    vast_emulator.fail_next(1, status=503, body="busy", retry_after=2)
    client.call("GET", "/tfa/status/")
    assert waits == [2.0]
    waits.clear()
    vast_emulator.fail_next(2, status=502, body="bad gateway")
    client.call("GET", "/tfa/status/")
    assert waits == [0.15, 0.15 * 1.5]  # growing waits without Retry-After


def test_no_api_key_sends_nothing(vast, monkeypatch):
    monkeypatch.delenv("VAST_API_KEY")
    ran = vast.run("%vast tfa auth-new")
    assert_clean_failure(ran, "No Vast.ai API key", "%vast set api-key")
    assert api(vast.emu) == []


def test_empty_api_key_falls_through(vast):
    ran = vast.run('%vast tfa status --api-key ""')
    assert ran.success, ran.text
    assert api(vast.emu)[0].headers["Authorization"] == f"Bearer {DEMO_KEYS['multi']}"


def _run_with_ctrl_c(shell, cell: str):
    """Run a cell whose request the server delays, pressing Ctrl-C (SIGINT to the
    main thread) once the server has the request, as a person would while waiting."""
    import signal
    import threading
    import time

    emu = shell.emu
    emu.fail_next(1, delay=3.0)
    seen = len(emu.log)
    main = threading.main_thread().ident

    def press_ctrl_c():
        deadline = time.monotonic() + 10
        while len(emu.log) == seen and time.monotonic() < deadline:
            time.sleep(0.01)
        signal.pthread_kill(main, signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        return shell.run(cell)
    finally:
        presser.join()


def test_ctrl_c_during_a_request_is_a_message_and_keeps_the_challenge(vast):
    vast.run("%vast tfa auth-new")
    ran = _run_with_ctrl_c(vast, "%vast tfa auth-new --code 123456")
    assert_clean_failure(ran, "Interrupted", "--code CODE")
    assert PENDING_NAME in vast.user_ns


def test_a_url_without_scheme_is_refused_before_any_request(vast):
    ran = vast.run("%vast --url console.vast.ai tfa status")
    assert_clean_failure(ran, "must start with https://")
    assert api(vast.emu) == []


def test_answers_that_are_not_api_json(vast):
    vast.emu.fail_next(1, status=200, body="<html>a login page</html>")
    assert_clean_failure(vast.run("%vast tfa status"), "200 OK with text/html instead of JSON")
    vast.emu.fail_next(1, status=200, body="[1, 2]", content_type="application/json")
    assert_clean_failure(vast.run("%vast tfa status"), "JSON of an unknown shape")


def test_ctrl_c_during_step1_says_a_code_may_still_come(vast):
    ran = _run_with_ctrl_c(vast, "%vast tfa auth-new")
    assert_clean_failure(ran, "Interrupted before step 1 answered", "Start again")
    assert PENDING_NAME not in vast.user_ns


def test_invalid_url_gets_an_address_hint(vast):
    assert_clean_failure(vast.run("%vast --url https:// tfa status"), "not a valid URL", "--url")
    assert_clean_failure(vast.run("%vast --url HTTPS:// tfa status"), "not a valid URL")


def test_plain_http_only_to_this_machine(vast):
    ran = vast.run("%vast --url http://example.com tfa status")
    assert_clean_failure(ran, "plain http", "unencrypted", "https://")
    assert api(vast.emu) == []
    port = vast.emu.url.rsplit(":", 1)[1]
    assert vast.run(f"%vast --url http://localhost:{port} tfa status").success


def test_tls_failure_is_explained(vast):
    """An https:// address whose other end does not speak TLS (the emulator is plain http)."""
    port = vast.emu.url.rsplit(":", 1)[1]
    ran = vast.run(f"%vast --retry 1 --url https://127.0.0.1:{port} tfa status")
    assert_clean_failure(ran, "secure (TLS) connection", "REQUESTS_CA_BUNDLE")


@pytest.mark.parametrize("url, words", [
    ("http://evil.example\\@127.0.0.1:8765", "characters a server address does not need"),
    ("http://user@127.0.0.1:8765", "characters a server address does not need"),
    ("http://[::1", "not a valid URL"),
])
def test_tricky_addresses_are_refused_before_any_request(vast, url, words):
    ran = vast.run(f"%vast --url '{url}' tfa status")
    assert_clean_failure(ran, words)
    assert api(vast.emu) == []


def test_code_with_a_bad_url_and_a_pending_without_one(vast):
    from vast_magic.api.challenge import Challenge

    vast.user_ns[PENDING_NAME] = Challenge(secret="s", method="email")
    ran = vast.run("%vast tfa auth-new --code 123456 --url console.vast.ai")
    assert_clean_failure(ran, "must start with https://")
    assert PENDING_NAME in vast.user_ns


def test_ctrl_c_during_the_method_lookup_says_no_code_was_requested(vast):
    ran = _run_with_ctrl_c(vast, "%vast tfa auth-new -t totp")
    assert_clean_failure(ran, "looking up your 2FA methods", "no code was requested")
    assert api(vast.emu, "POST") == []
