"""The emulator as a server: HTTP behaviour, faults, log, outbox and side-door,
concurrency, keep-alive and latency, lifecycle, and ``python -m vast_magic.emulator``."""

from __future__ import annotations

import http.client
import json
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyotp
import pytest
import requests

from vast_magic.emulator import DEMO_KEYS, DEMO_TOTP_SECRET, Emulator, LoggedRequest, Message
from vast_magic.emulator.api import TfaApi

FRESH, MULTI = DEMO_KEYS["fresh"], DEMO_KEYS["multi"]
AUTH = {"Authorization": f"Bearer {MULTI}"}
ROOT = Path(__file__).resolve().parent.parent


def api(emu, path):
    return f"{emu.url}/api/v0/tfa/{path}"


def side(emu, path):
    return f"{emu.url}/_emulator/{path}"


def err(r, status, code):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["error"] == code and body["msg"], body
    return body


def raw_exchange(emu, data: bytes) -> bytes:
    """Send raw bytes, read until the server closes."""
    with socket.create_connection((emu.host, emu.port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# -- bad input never crashes it ---------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/v0/nope/", "/api/v1/tfa/status/", "/tfa/status/x/",
                                  "/tfa/%ff"])
def test_unknown_paths_are_404_json(vast_emulator, path):
    err(requests.get(vast_emulator.url + path, headers=AUTH, timeout=5), 404, "not_found")


def test_wrong_methods_are_405_json(vast_emulator):
    emu = vast_emulator
    r = requests.delete(api(emu, "status/"), headers=AUTH, timeout=5)
    err(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET"
    r = requests.get(api(emu, ""), headers=AUTH, timeout=5)
    err(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "POST, DELETE"
    err(requests.request("FOO", api(emu, "status/"), headers=AUTH, timeout=5), 405, "method_not_allowed")
    r = requests.head(api(emu, "status/"), headers=AUTH, timeout=5)
    assert r.status_code == 405 and r.content == b""


def test_huge_body_is_413_and_the_connection_stays_usable(vast_emulator):
    emu = vast_emulator
    s = requests.Session()
    body = b'{"tfa_method": "' + b"x" * (1024 * 1024) + b'"}'
    r = s.post(api(emu, "authorize-new-method/"), data=body, headers=AUTH, timeout=10)
    err(r, 413, "bad_request")
    assert s.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code == 200
    assert emu.log[0].client == emu.log[1].client  # the same connection
    # just over the limit, and just under it
    r = s.post(api(emu, "email/"), data=b" " * (64 * 1024 + 1), headers=AUTH, timeout=5)
    err(r, 413, "bad_request")
    r = s.post(api(emu, "email/"), data=b" " * (64 * 1024), headers=AUTH, timeout=5)
    assert r.status_code == 200


def test_chunked_body_is_refused_with_json(vast_emulator):
    r = requests.post(api(vast_emulator, "email/"), data=iter([b"{", b"}"]), headers=AUTH, timeout=5)
    err(r, 411, "bad_request")


def test_malformed_http_gets_json_answers(vast_emulator):
    emu = vast_emulator
    for data in (b"GARBAGE\r\n\r\n",
                 b"GET /tfa/status/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                 b"GET /tfa/status/ HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n"):
        answer = raw_exchange(emu, data)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert re.match(rb"HTTP/1\.[01] 4\d\d ", head), answer[:200]
        assert json.loads(body)["error"] == "bad_request"
    # a client that announces more body than it sends, then hangs up
    with socket.create_connection((emu.host, emu.port), timeout=5) as s:
        s.sendall(b"POST /tfa/email/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}")
    assert requests.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code == 200


def test_internal_errors_answer_500_json(vast_emulator, monkeypatch, capsys):
    emu = vast_emulator

    def boom(*args):
        raise RuntimeError("bug")

    monkeypatch.setattr(TfaApi, "do_status", boom)
    err(requests.get(api(emu, "status/"), headers=AUTH, timeout=5), 500, "internal_error")
    assert "RuntimeError" in capsys.readouterr().err
    assert requests.post(api(emu, "email/"), headers=AUTH, timeout=5).status_code == 200


# -- faults --------------------------------------------------------------------


def test_fault_delay_then_normal_answer(vast_emulator):
    emu = vast_emulator
    emu.fail_next(delay=0.2)
    t = time.perf_counter()
    r = requests.get(api(emu, "status/"), headers=AUTH, timeout=5)
    assert time.perf_counter() - t >= 0.2
    assert r.status_code == 200 and r.json()["tfa_enabled"] is True
    assert emu.pending_faults == 0  # the next request is not delayed


def test_fault_status_with_html_body(vast_emulator):
    emu = vast_emulator
    emu.fail_next(status=502)
    r = requests.post(api(emu, "authorize-new-method/"), json={"tfa_method": "email"}, headers=AUTH,
                      timeout=5)
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in r.content and b"502 Bad Gateway" in r.content
    assert len(emu.outbox) == 0  # the request never reached the API
    emu.fail_next(status=500, body="<html>oops</html>")
    r = requests.get(api(emu, "status/"), headers=AUTH, timeout=5)
    assert (r.status_code, r.text) == (500, "<html>oops</html>")
    assert requests.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code == 200


@pytest.mark.parametrize("status, retry_after, header", [(429, 3, "3"), (503, 1.5, "2"),
                                                         (503, 0, "0"), (429, "120", "120")])
def test_fault_retry_after(vast_emulator, status, retry_after, header):
    vast_emulator.fail_next(status=status, retry_after=retry_after)
    r = requests.get(api(vast_emulator, "status/"), headers=AUTH, timeout=5)
    assert r.status_code == status and r.headers["Retry-After"] == header


def test_fault_default_is_a_503_page(vast_emulator):
    vast_emulator.fail_next()
    r = requests.get(api(vast_emulator, "status/"), headers=AUTH, timeout=5)
    assert r.status_code == 503 and b"503" in r.content


def test_fault_drop_closes_without_answer(vast_emulator):
    emu = vast_emulator
    emu.fail_next(drop=True)
    with pytest.raises(requests.ConnectionError):
        requests.post(api(emu, "authorize-new-method/"), json={"tfa_method": "email"}, headers=AUTH,
                      timeout=5)
    assert emu.log[-1].json == {"tfa_method": "email"}  # it did arrive
    assert len(emu.outbox) == 0
    assert requests.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code == 200


def test_fault_drop_on_a_keep_alive_connection(vast_emulator):
    emu = vast_emulator
    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
    conn.request("GET", "/tfa/status/", headers=AUTH)
    assert conn.getresponse().read()
    emu.fail_next(drop=True)
    conn.request("GET", "/tfa/status/", headers=AUTH)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    conn.close()


def test_faults_count_queue_and_skip_the_side_door(vast_emulator):
    emu = vast_emulator
    emu.fail_next(2, status=503)
    emu.fail_next(1, status=504)
    assert emu.pending_faults == 3
    assert requests.get(side(emu, "outbox"), timeout=5).status_code == 200  # not faulted
    codes = [requests.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code for _ in range(4)]
    assert codes == [503, 503, 504, 200]
    emu.fail_next(5, status=502)
    emu.clear_faults()
    assert emu.pending_faults == 0
    assert requests.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code == 200


def test_fault_delay_with_status(vast_emulator):
    vast_emulator.fail_next(delay=0.1, status=503, retry_after=1)
    t = time.perf_counter()
    r = requests.get(api(vast_emulator, "status/"), headers=AUTH, timeout=5)
    assert time.perf_counter() - t >= 0.1
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"


def test_fault_arguments_are_checked(vast_emulator):
    with pytest.raises(ValueError):
        vast_emulator.fail_next(0)
    with pytest.raises(ValueError):
        vast_emulator.fail_next(error="no_such_code")


# -- request log -----------------------------------------------------------------


def test_request_log_records_exactly_what_was_sent(vast_emulator):
    emu = vast_emulator
    requests.post(api(emu, "authorize-new-method/") + "?trace=1", json={"tfa_method_id": 101},
                  headers={**AUTH, "User-Agent": "test-agent/1.0", "X-Extra": "yes"}, timeout=5)
    requests.put(api(emu, "authorize-new-method/"), data=b"{not json", headers=AUTH, timeout=5)
    requests.get(side(emu, "outbox"), timeout=5)  # the side-door is not logged
    first, second = emu.log
    assert isinstance(first, LoggedRequest)
    assert (first.method, first.path, first.query) == ("POST", "/api/v0/tfa/authorize-new-method/",
                                                       "trace=1")
    assert first.headers["Authorization"] == f"Bearer {MULTI}"
    assert first.headers["authorization"] == f"Bearer {MULTI}"  # lookups ignore case
    assert "user-agent" in first.headers and first.headers.get("USER-AGENT") == "test-agent/1.0"
    assert isinstance(first.headers, dict) and first.headers["X-Extra"] == "yes"
    assert first.body == b'{"tfa_method_id": 101}' and first.json == {"tfa_method_id": 101}
    assert (second.method, second.body, second.json) == ("PUT", b"{not json", None)
    assert first.time <= second.time
    logged = requests.get(side(emu, "log"), timeout=5).json()
    assert [r["method"] for r in logged] == ["POST", "PUT"]
    assert logged[0]["headers"]["User-Agent"] == "test-agent/1.0"
    emu.log.clear()
    assert len(emu.log) == 0


# -- outbox and side-door ----------------------------------------------------------


def test_outbox_from_python_and_over_http(vast_emulator):
    emu = vast_emulator
    requests.post(api(emu, "email/"), headers=AUTH, timeout=5)
    requests.post(api(emu, "sms/"), json={"tfa_method_id": 103}, headers=AUTH, timeout=5)
    requests.post(api(emu, "email/"), headers={"Authorization": f"Bearer {FRESH}"}, timeout=5)
    assert [m.channel for m in emu.outbox] == ["email", "sms", "email"]
    assert all(isinstance(m, Message) for m in emu.outbox)
    assert emu.last_code(MULTI) == emu.outbox[1].code
    assert emu.last_code(MULTI, "email") == emu.outbox[0].code
    assert emu.last_code() == emu.outbox[2].code
    assert emu.last_code("nobody") is None

    everything = requests.get(side(emu, "outbox"), timeout=5).json()
    assert [m["code"] for m in everything] == [m.code for m in emu.outbox]
    assert set(everything[0]) == {"channel", "to", "code", "text", "sent_at", "api_key"}
    mine = requests.get(side(emu, "outbox"), params={"api_key": MULTI}, timeout=5).json()
    assert [m["channel"] for m in mine] == ["email", "sms"]
    sms = requests.get(side(emu, "outbox"), params={"channel": "sms"}, timeout=5).json()
    assert [m["to"] for m in sms] == ["+15551230103"]
    last = requests.get(side(emu, "outbox/last"), params={"api_key": MULTI, "channel": "email"},
                        timeout=5).json()
    assert last["code"] == emu.outbox[0].code and last["code"] in last["message"]["text"]
    assert requests.delete(side(emu, "outbox"), timeout=5).status_code == 200
    assert len(emu.outbox) == 0
    err(requests.get(side(emu, "outbox/last"), timeout=5), 404, "not_found")


def test_side_door_clock_faults_reset_accounts_totp(vast_emulator):
    emu = vast_emulator
    index = requests.get(side(emu, ""), timeout=5).json()
    assert index["demo_keys"] == DEMO_KEYS and "GET /_emulator/outbox" in index["routes"]

    secret = requests.post(api(emu, "email/"), headers=AUTH, timeout=5).json()["secret"]
    before = requests.get(side(emu, "clock"), timeout=5).json()["now"]
    after = requests.post(side(emu, "clock/advance"), json={"seconds": 601}, timeout=5).json()["now"]
    assert after - before >= 601
    err(requests.post(api(emu, ""), json={"tfa_method": "email", "secret": secret, "code": "123456"},
                      headers=AUTH, timeout=5), 400, "2fa_expired")
    err(requests.post(side(emu, "clock/advance"), json={"seconds": "x"}, timeout=5), 400, "bad_request")
    assert requests.post(side(emu, "clock/set"), json={"now": 2_000_000_000}, timeout=5).json()["now"] \
        == 2_000_000_000
    assert abs(emu.clock.now() - 2_000_000_000) < 5
    requests.post(side(emu, "clock/reset"), timeout=5)
    assert abs(emu.clock.now() - time.time()) < 1

    r = requests.post(side(emu, "fail-next"), json={"n": 1, "status": 503, "retry_after": 2}, timeout=5)
    assert r.json()["pending_faults"] == 1
    r = requests.get(api(emu, "status/"), headers=AUTH, timeout=5)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    requests.post(side(emu, "fail-next"), json={"error": "service_unavailable", "delay": 0}, timeout=5)
    err(requests.get(api(emu, "status/"), headers=AUTH, timeout=5), 503, "service_unavailable")
    err(requests.post(side(emu, "fail-next"), json={"n": "2"}, timeout=5), 400, "bad_request")
    err(requests.post(side(emu, "fail-next"), json={"error": "nope"}, timeout=5), 400, "bad_request")
    requests.post(side(emu, "fail-next"), json={"n": 3}, timeout=5)
    assert requests.delete(side(emu, "faults"), timeout=5).status_code == 200
    assert emu.pending_faults == 0

    acct = requests.post(side(emu, "accounts"), json={
        "api_key": "side-door-key", "email": "side@example.com",
        "methods": [{"method": "totp", "label": "app"},
                    {"method": "sms", "phone_number": "+15550004444", "is_primary": True}]},
        timeout=5).json()
    assert acct["api_key"] == "side-door-key" and len(acct["backup_codes"]) == 10
    totp_id = acct["methods"][0]["id"]
    assert acct["methods"][1]["is_primary"] and acct["methods"][1]["phone_number"] == "+15550004444"
    err(requests.post(side(emu, "accounts"), json={"api_key": "side-door-key"}, timeout=5),
        400, "bad_request")
    err(requests.post(side(emu, "accounts"), json={"methods": [{"method": "fax"}]}, timeout=5),
        400, "invalid_tfa_method")
    key_auth = {"Authorization": "Bearer side-door-key"}
    secret = requests.post(api(emu, "authorize-new-method/"), json={"tfa_method": "totp"},
                           headers=key_auth, timeout=5).json()["secret"]
    code = requests.get(side(emu, "totp"), params={"api_key": "side-door-key"}, timeout=5).json()["code"]
    assert code == pyotp.TOTP(acct["methods"][0]["secret"]).at(emu.clock.now())
    r = requests.put(api(emu, "authorize-new-method/"), json={"code": code, "secret": secret},
                     headers=key_auth, timeout=5)
    assert r.status_code == 200
    one = requests.get(side(emu, "accounts/side-door-key"), timeout=5).json()
    assert one["new_method_authorized"] is True and one["methods"][0]["id"] == totp_id
    err(requests.get(side(emu, "accounts/nobody"), timeout=5), 404, "not_found")
    err(requests.get(side(emu, "totp"), params={"api_key": FRESH}, timeout=5), 404, "not_found")
    assert len(requests.get(side(emu, "accounts"), timeout=5).json()) == 4

    assert requests.post(side(emu, "reset"), timeout=5).status_code == 200
    assert len(emu.accounts) == 3 and len(emu.log) == 0 and len(emu.outbox) == 0
    err(requests.get(side(emu, "nope"), timeout=5), 404, "not_found")
    err(requests.put(side(emu, "outbox"), timeout=5), 405, "method_not_allowed")


# -- Python helpers ------------------------------------------------------------------


def test_reset_restores_the_demo_state(vast_emulator):
    emu = vast_emulator
    emu.add_account(api_key="extra")
    emu.account(MULTI).backup_codes.clear()
    emu.account(MULTI).add_sms("+15550005555")
    emu.clock.advance(10_000)
    emu.fail_next(3)
    requests.post(api(emu, "email/"), headers=AUTH, timeout=5)
    emu.reset()
    assert len(emu.outbox) == len(emu.log) == emu.pending_faults == 0
    assert abs(emu.clock.now() - time.time()) < 1
    assert len(emu.account(MULTI).backup_codes) == 10 and len(emu.account(MULTI).methods) == 3
    with pytest.raises(KeyError):
        emu.account("extra")
    assert emu.add_account().add_sms().id == 201  # ids start again


def test_python_helpers(vast_emulator):
    emu = vast_emulator
    acct = emu.add_account(api_key="k1", email="k1@example.com")
    with pytest.raises(ValueError):
        emu.add_account(api_key="k1")
    with pytest.raises(KeyError):
        emu.account("nope")
    sms = acct.add_sms("+15550006666", label="mine")
    app = acct.add_totp(label="app")
    assert sms.is_primary and not app.is_primary and sms.id != app.id
    assert acct.primary is sms and acct.method(app.id) is app
    assert emu.totp_now(app) == pyotp.TOTP(app.secret).at(emu.clock.now()) == emu.totp_code("k1")
    assert emu.totp_now(app.secret) == emu.totp_now(app)
    with pytest.raises(KeyError):
        emu.totp_code("k1", sms.id)
    third = acct.add_sms("+15550007777", is_primary=True)
    assert third.is_primary and not sms.is_primary
    session = emu.create_session("k1")
    assert emu.account(session) is acct
    requests.post(api(emu, "email/"), headers={"Authorization": f"Bearer {session}"}, timeout=5)
    assert emu.last_code(session) == emu.last_code("k1") is not None
    assert repr(emu).startswith("<Emulator http://127.0.0.1:")


def test_clock(vast_emulator):
    clock = vast_emulator.clock
    t0 = clock.now()
    assert abs(t0 - time.time()) < 1
    assert clock.advance(100) >= t0 + 100
    frozen = clock.freeze()
    time.sleep(0.01)
    assert clock.now() == frozen and clock.frozen
    assert clock.advance(5) == frozen + 5
    clock.unfreeze()
    assert clock.now() >= frozen + 5 and not clock.frozen
    clock.set(1_700_000_000)
    assert abs(clock.now() - 1_700_000_000) < 1
    clock.reset()
    assert abs(clock.now() - time.time()) < 1


def test_on_send_hook():
    seen = []

    def hook(msg):
        seen.append(msg)
        raise RuntimeError("a broken hook does not break the answer")

    with Emulator(on_send=hook) as emu:
        r = requests.post(api(emu, "email/"), headers=AUTH, timeout=5)
        assert r.status_code == 200
        assert [m.code for m in seen] == [emu.last_code()]
        assert seen[0].text == f"Your Vast.ai verification code is {seen[0].code}. " \
                               "It expires in 10 minutes."


def test_the_fixture_gives_a_clean_running_emulator(vast_emulator, vast_emulator_url):
    assert vast_emulator.running and vast_emulator_url == vast_emulator.url
    assert len(vast_emulator.outbox) == len(vast_emulator.log) == 0
    assert sorted(a.api_key for a in vast_emulator.accounts) == sorted(DEMO_KEYS.values())


# -- concurrency, keep-alive, latency -------------------------------------------------------


def test_20_concurrent_clients_each_do_step1_and_step2(vast_emulator):
    emu = vast_emulator
    accounts = [emu.add_account(email=f"user{i}@example.com") for i in range(20)]
    barrier = threading.Barrier(20)

    def client(acct):
        s = requests.Session()
        h = {"Authorization": f"Bearer {acct.api_key}"}
        barrier.wait()
        r1 = s.post(api(emu, "authorize-new-method/"), json={"tfa_method": "email"}, headers=h, timeout=10)
        code = emu.last_code(acct.api_key, "email")
        r2 = s.put(api(emu, "authorize-new-method/"), json={"code": code, "secret": r1.json()["secret"]},
                   headers=h, timeout=10)
        r3 = s.get(api(emu, "status/"), headers=h, timeout=10)
        return r1.status_code, r2.status_code, r3.json()["new_method_authorized"]

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(client, accounts))
    assert results == [(200, 200, True)] * 20
    assert len(emu.outbox) == 20 and len(emu.log) == 60
    assert {m.to for m in emu.outbox} == {f"user{i}@example.com" for i in range(20)}


def test_20_concurrent_clients_on_one_account_with_totp(vast_emulator):
    emu = vast_emulator
    barrier = threading.Barrier(20)

    def client(_):
        s = requests.Session()
        barrier.wait()
        secret = s.post(api(emu, "authorize-new-method/"), json={"tfa_method": "totp"}, headers=AUTH,
                        timeout=10).json()["secret"]
        code = pyotp.TOTP(DEMO_TOTP_SECRET).at(emu.clock.now())
        return s.put(api(emu, "authorize-new-method/"), json={"code": code, "secret": secret},
                     headers=AUTH, timeout=10).status_code

    with ThreadPoolExecutor(20) as pool:
        assert list(pool.map(client, range(20))) == [200] * 20
    assert len(emu.log) == 40 and len(emu.outbox) == 0


def test_keep_alive_connections_are_reused(vast_emulator):
    emu = vast_emulator
    s = requests.Session()
    for _ in range(5):
        r = s.post(api(emu, "email/"), headers=AUTH, timeout=5)
        assert r.status_code == 200 and "close" not in r.headers.get("Connection", "")
    assert len({r.client for r in emu.log}) == 1  # one TCP connection for all five
    assert re.fullmatch(r"127\.0\.0\.1:\d+", emu.log[0].client)

    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
    conn.request("GET", "/tfa/status/", headers=AUTH)
    conn.getresponse().read()
    sock = conn.sock
    for body in (b"{}", b"", b'{"x": 1}'):
        conn.request("POST", "/tfa/email/", body=body, headers=AUTH)
        resp = conn.getresponse()
        assert resp.status == 200 and resp.version == 11 and not resp.will_close
        resp.read()
    assert conn.sock is sock  # the same TCP connection all along
    conn.close()


# -- lifecycle ---------------------------------------------------------------------------


def test_stop_closes_keep_alive_connections_and_is_idempotent():
    emu = Emulator()
    emu.start()
    assert emu.start() is emu  # already running: no-op
    s = requests.Session()
    assert s.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code == 200
    emu.stop()
    emu.stop()
    assert not emu.running
    with pytest.raises(requests.ConnectionError):
        s.get(api(emu, "status/"), headers=AUTH, timeout=5)
    emu.start()  # and again, on a new port
    try:
        assert requests.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code == 200
    finally:
        emu.stop()


def test_stop_ends_a_pending_delay():
    emu = Emulator().start()
    emu.fail_next(delay=30)
    outcome = []

    def client():
        try:
            requests.get(api(emu, "status/"), headers=AUTH, timeout=10)
            outcome.append("answered")
        except requests.ConnectionError:
            outcome.append("closed")

    th = threading.Thread(target=client)
    th.start()
    time.sleep(0.2)
    emu.stop()
    th.join(5)  # well before the 30 s delay would end
    assert not th.is_alive() and outcome


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_chosen_port():
    port = _free_port()
    with Emulator(port=port) as emu:
        assert emu.url == f"http://127.0.0.1:{port}"
        assert requests.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code == 200
    with Emulator(port=port) as emu:  # the same port again right away
        assert requests.get(api(emu, "status/"), headers=AUTH, timeout=5).status_code == 200
    with Emulator(port=port):
        with pytest.raises(OSError):
            Emulator(port=port).start()


def _run_cli(*args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "vast_magic.emulator", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def _cli(*args):
    """The emulator's CLI as a subprocess, killed if the test leaves it running."""
    proc = _run_cli(*args)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_prints_url_and_keys_and_stops_cleanly_on_ctrl_c():
    with _cli("--print-outbox") as proc:
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first).group(0)
        banner = first
        while "Ctrl-C" not in banner:
            line = proc.stdout.readline()
            assert line, banner
            banner += line
        for key in DEMO_KEYS.values():
            assert key in banner
        r = requests.post(f"{url}/api/v0/tfa/email/", headers=AUTH, timeout=5)
        assert r.status_code == 200
        code = requests.get(f"{url}/_emulator/outbox/last", timeout=5).json()["code"]
        proc.send_signal(signal.SIGINT)
        out, errors = proc.communicate(timeout=10)
    assert proc.returncode == 0, errors
    assert "Traceback" not in errors and "Traceback" not in out
    assert f"Your Vast.ai verification code is {code}" in errors  # --print-outbox
    assert "stopped" in out


def test_cli_chosen_port_and_sigterm():
    port = _free_port()
    with _cli("--port", str(port)) as proc:
        assert f"http://127.0.0.1:{port}" in proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        out, errors = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in errors


def test_cli_port_in_use_is_a_clean_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        proc = _run_cli("--port", str(s.getsockname()[1]))
        out, errors = proc.communicate(timeout=10)
    assert proc.returncode == 1 and "cannot listen" in errors and "Traceback" not in errors
