"""Hostile servers never cost a code, a secret or a traceback.

Each kind of bad answer is driven through step 1 (which sends a code), step 2
(which spends one) and status, through a real shell and real HTTP: the cell
fails cleanly, the pending challenge is right, and no request is repeated
that the server may have acted on.
"""

from __future__ import annotations

import socket
import threading

import pytest
from helpers import assert_clean_failure
from hostile import (
    HostileFront,
    answer,
    cut,
    gzip_bomb,
    huge_chunked,
    huge_declared,
    json_text,
    redirect,
    trickle,
)

from vast_magic.constants import PENDING_NAME
from vast_magic.emulator import DEMO_KEYS

KEY = DEMO_KEYS["multi"]


@pytest.fixture
def front(vast, monkeypatch):
    """The shell pointed at a hostile front of the emulator, with a short timeout."""
    with HostileFront(vast.emu) as hostile:
        monkeypatch.setenv("VAST_URL", hostile.url)
        vast.magics.timeout = 1.0
        vast.front = hostile
        yield vast


def _started(shell) -> str:
    """Step 1 through the front (passed through): the pending secret."""
    assert shell.run("%vast tfa auth-new").success
    return shell.pending.secret


def _deep(levels: int) -> str:
    return '{"error": "bad_request", "msg": ' + "[" * levels + "]" * levels + "}"


# What a hostile answer is, and how often the line may send its request: a
# request that may have sent a code or spent one (step 1, step 2) is never
# repeated unless nothing was sent; status may be.
BAD_ANSWERS = {
    # name: (action factory, attempts for status)
    "307 elsewhere": (lambda: redirect(307, "http://127.0.0.1:9/api/v0/tfa/"), 1),
    "308 elsewhere": (lambda: redirect(308, "https://evil.example/steal"), 1),
    "301 same server": (lambda: redirect(301, "/api/v0/tfa/status/"), 1),
    "302 refused port": (lambda: redirect(302, "http://127.0.0.1:9/"), 1),
    "303 malformed": (lambda: redirect(303, "http://[::1:80/\x1b[31m"), 1),
    "lock until 1e999": (lambda: json_text(429, '{"error": "tfa_locked", "fail_count": 3, '
                                                '"locked_until": 1e999}'), 1),
    "lock until NaN": (lambda: json_text(429, '{"error": "tfa_locked", "locked_until": NaN}'),
                       1),
    "wrong code, Infinity": (lambda: json_text(
        400, '{"error": "2fa_verification_failed", "fail_count": 1, '
             '"locked_until": Infinity}'), 1),
    "nested 600": (lambda: json_text(400, _deep(600)), 1),
    "nested 100000": (lambda: json_text(400, _deep(100000)), 1),
    "300 MB declared": (huge_declared, 1),
    "2 MB chunked": (huge_chunked, 1),
    "gzip bomb": (gzip_bomb, 1),
    "cut mid-body": (cut, 3),          # status is safe to repeat
    "trickled": (lambda: trickle(3.0), 3),
    "escape codes": (lambda: answer(400, {"error": "bad_request",
                                          "msg": "\x1b]0;pwned\x07\x1b[2J\x1b[31mbad\x1b[0m"}),
                     1),
}


@pytest.mark.parametrize("name", list(BAD_ANSWERS))
def test_bad_answer_at_step_1_sends_step_1_once(front, name):
    make, _ = BAD_ANSWERS[name]
    front.front.answer_next("POST", make())
    ran = front.run("%vast --retry 3 tfa auth-new")
    assert_clean_failure(ran)
    assert "\x1b" not in ran.text and "Internal error" not in ran.text
    assert front.front.calls("POST") == 1
    assert PENDING_NAME not in front.user_ns
    assert ("evil.example" not in str(front.emu.log)) and len(front.api_requests("POST")) == 0


@pytest.mark.parametrize("name", list(BAD_ANSWERS))
def test_bad_answer_at_step_2_keeps_the_challenge_and_spends_nothing(front, name):
    make, _ = BAD_ANSWERS[name]
    secret = _started(front)
    front.front.answer_next("PUT", make())
    ran = front.run("%vast tfa auth-new --code 123456")
    assert_clean_failure(ran)
    assert "\x1b" not in ran.text and "Internal error" not in ran.text
    assert front.front.calls("PUT") == 1           # never re-sent, never followed
    assert front.api_requests("PUT") == []         # nothing reached the real server
    assert front.pending is not None and front.pending.secret == secret
    assert "Authorized" not in ran.text
    code = front.emu.last_code(KEY)
    assert front.run(f"%vast tfa auth-new --code {code}").success  # the challenge still works


@pytest.mark.parametrize("name", list(BAD_ANSWERS))
def test_bad_answer_to_status(front, name):
    make, attempts = BAD_ANSWERS[name]
    for _ in range(attempts):
        front.front.answer_next("GET", make())
    ran = front.run("%vast --retry 3 tfa status")
    assert_clean_failure(ran)
    assert "\x1b" not in ran.text and "Internal error" not in ran.text
    assert front.front.calls("GET") == attempts


def test_a_redirect_names_where_it_pointed_and_is_not_followed(front):
    front.front.answer_next("PUT", redirect(307, "http://127.0.0.1:9/x"))
    _started(front)
    ran = front.run("%vast tfa auth-new --code 123456")
    assert_clean_failure(ran, "307", "http://127.0.0.1:9/x", "follows none")
    assert PENDING_NAME in front.user_ns


def test_a_303_is_not_taken_for_success(front):
    """A 303 would turn step 2 into a body-less GET whose 200 looked like success."""
    _started(front)
    front.front.answer_next("PUT", redirect(303, "/api/v0/tfa/status/"))
    ran = front.run("%vast tfa auth-new --code 123456")
    assert_clean_failure(ran, "303")
    assert "Authorized" not in ran.text and PENDING_NAME in front.user_ns


def test_a_cut_step_1_says_a_code_may_have_been_sent(front):
    front.front.answer_next("POST", cut())
    ran = front.run("%vast tfa auth-new")
    assert_clean_failure(ran, "broke off", "may have acted", "before asking for another code")
    assert "try again in a moment" not in ran.text.lower()


def test_a_trickling_server_is_cut_off_at_the_deadline(front):
    import time

    front.front.answer_next("GET", trickle(20.0))
    started = time.monotonic()
    ran = front.run("%vast --retry 1 tfa status")
    assert time.monotonic() - started < 5  # the timeout is 1 s; a read timeout never fired
    assert_clean_failure(ran, "No answer", "1 s")


def test_lock_times_that_are_not_numbers_in_status(front):
    body = ('{"success": true, "tfa_enabled": true, "backup_codes_remaining": 1e999, '
            '"methods": [{"id": 1, "method": "sms", "locked_until": 1e999, "last_used": 1e999, '
            '"fail_count": 1e999}, {"id": 2, "method": "totp", "locked_until": -1e999}]}')
    front.front.answer_next("GET", json_text(200, body))
    ran = front.run("%vast tfa status")
    assert ran.success, ran.text
    assert "Traceback" not in repr(ran.value) and "<table>" in ran.value._repr_html_()


@pytest.mark.parametrize("methods", [
    '[{"id": [102], "method": "sms"}]', '[{"id": {"a": 1}, "method": "sms"}]',
    '[{"id": 102, "method": ["sms"]}]', '[{"id": 102, "method": {"k": 1}}]',
    '[{"id": true, "method": "sms"}]', '[{"id": 102}]', '[[1, 2]]',
])
def test_odd_method_lists_before_a_named_method(front, methods):
    front.front.answer_next("GET", json_text(200, '{"success": true, "methods": %s}' % methods))
    ran = front.run("%vast tfa auth-new --method-id 102")
    assert ran.success, ran.text  # step 1 still goes out, named as best it can be
    assert front.front.calls("POST") == 1
    assert "Internal error" not in ran.text


def test_a_server_that_echoes_secrets_gets_them_masked(front):
    secret = _started(front)
    front.front.answer_next("PUT", answer(400, {
        "error": "bad_request", "msg": f"code 123456 is bad for {secret} and key {KEY}"}))
    ran = front.run("%vast tfa auth-new --code 123456")
    assert_clean_failure(ran, "<redacted>")
    for leaked in ("123456", secret, KEY):
        assert leaked not in ran.text
    front.front.answer_next("PUT", answer(400, {"error": "bad_request", "msg": f"bad {secret}"}))
    ran = front.run("%vast --raw tfa auth-new --code 123456")  # --raw prints the answer JSON
    assert_clean_failure(ran, "<redacted>")
    assert secret not in ran.text


def test_plain_http_never_goes_through_a_proxy(vast, monkeypatch):
    """With HTTP_PROXY/ALL_PROXY set, the key must not travel in clear via the proxy."""
    seen = []
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen(5)
    proxy.settimeout(0.2)

    def watch():
        try:
            conn, _ = proxy.accept()
            seen.append(conn.recv(4096))
            conn.close()
        except OSError:
            pass

    watcher = threading.Thread(target=watch)
    watcher.start()
    address = f"http://127.0.0.1:{proxy.getsockname()[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, address)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        ran = vast.run("%vast --retry 1 tfa status")
    finally:
        watcher.join()
        proxy.close()
    assert ran.success, ran.text
    assert seen == [] and len(vast.api_requests()) == 1


def test_an_edited_pending_url_gets_the_url_rules(vast):
    _started(vast)
    vast.pending.url = "http://attacker.example:8080"
    ran = vast.run("%vast tfa auth-new --code 123456")
    assert_clean_failure(ran, "plain http", "where the pending authorization was started")
    assert vast.api_requests("PUT") == [] and PENDING_NAME in vast.user_ns


def test_an_internal_error_shows_no_frames_even_under_xmode_verbose(vast, monkeypatch):
    """A bug below %vast must not print frame locals (the secret, the code)."""
    from vast_magic.commands import auth_new

    secret = _started(vast)

    def broken(client, secret, code, method):
        raise TypeError("a bug, with the secret in a local")

    monkeypatch.setattr(auth_new, "finish", broken)
    vast.run("%xmode Verbose")
    try:
        ran = vast.run("%vast tfa auth-new --code 123456")
    finally:
        vast.run("%xmode Context")
    assert_clean_failure(ran, "Internal error", "TypeError", "report")
    assert secret not in ran.text and "123456" not in ran.text
    assert vast.pending is not None and vast.pending.secret == secret


def test_internal_errors_can_show_their_traceback_when_asked(vast, monkeypatch):
    monkeypatch.setattr("vast_magic.api.tfa.status", lambda client: {}["boom"])
    vast.magics.show_tracebacks = True
    ran = vast.run("%vast tfa status")
    assert not ran.success and isinstance(ran.error, KeyError)


def test_retries_against_a_refused_port_stop_at_the_line_deadline(vast):
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    vast.magics.deadline = 1.5
    started = time.monotonic()
    ran = vast.run(f"%vast --retry 30 --url http://127.0.0.1:{port} tfa status")
    assert time.monotonic() - started < 4
    assert_clean_failure(ran, "Could not connect")


def test_long_waits_are_announced_and_capped(vast_emulator):
    from vast_magic.api.client import MAX_WAIT, Client, new_session, retry_wait

    assert max(retry_wait(n, None, 30) for n in range(1, 40)) == MAX_WAIT
    waits, notices = [], []
    client = Client(new_session(), vast_emulator.url, KEY, attempts=3, retry_after_cap=30,
                    sleep=waits.append, notice=notices.append)
    vast_emulator.fail_next(1, status=503, body="busy", retry_after=20)
    assert "methods" in client.call("GET", "/tfa/status/")
    assert waits == [20.0]
    [notice] = notices
    assert "trying again in 20 s" in notice and "attempt 2 of 3" in notice


def test_a_piped_ipython_never_reads_the_key_from_stdin(ip, monkeypatch):
    """`ipython < script.ipy`: getpass would read the script's next line as the key."""
    import getpass

    ip.magics.code_prompt = "auto"
    monkeypatch.setattr("vast_magic.prompt._stdin_is_a_terminal", lambda: False)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": pytest.fail("stdin was read"))
    ran = ip.run("%vast set api-key")
    assert_clean_failure(ran, "nothing was stored", "VAST_API_KEY", "$key")


def test_typed_and_given_codes_are_never_echoed(vast):
    _started(vast)
    ran = vast.run("%vast tfa auth-new --code 98765")
    assert_clean_failure(ran, "5 digits", "Nothing was sent")
    assert "98765" not in ran.text
    ran = vast.run("%vast tfa auth-new --code 9876543")
    assert_clean_failure(ran, "7 digits")
    assert "9876543" not in ran.text


@pytest.mark.parametrize("action", [huge_declared, huge_chunked, gzip_bomb],
                         ids=["300 MB declared", "2 MB chunked", "gzip bomb"])
def test_huge_answers_are_refused_without_being_read(front, action):
    import tracemalloc

    front.front.answer_next("GET", action())
    tracemalloc.start()
    try:
        ran = front.run("%vast --retry 1 tfa status")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_clean_failure(ran, "answer over 256 KB")
    assert peak < 32 * 1024 * 1024  # a 200 MB inflation or a 300 MB read never happens


def test_raw_with_a_deeply_nested_answer(front):
    front.front.answer_next("GET", json_text(400, _deep(600)))
    assert_clean_failure(front.run("%vast --raw tfa status"), "nested over 32 levels")


def test_redact_replaces_what_nests_too_deep_to_check():
    from vast_magic.api.client import redact

    value = {"secret": "s"}
    for _ in range(1000):
        value = [value]
    assert "s" not in str(redact(value)).replace("redacted", "")
