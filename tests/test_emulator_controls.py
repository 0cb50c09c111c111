"""The test controls refuse what would break the emulator or its answers:
non-finite clock moves and delays, header injection, impossible statuses;
in Python (ValueError) and over the side-door (400 ``bad_request``)."""

from __future__ import annotations

import math
import socket
import time

import pytest
import requests

from vast_magic.emulator import DEMO_KEYS

AUTH = {"Authorization": f"Bearer {DEMO_KEYS['multi']}"}
NON_FINITE = [float("nan"), float("inf"), float("-inf")]
INJECTIONS = ["1\r\nX-Injected: yes", "1\nX-Injected: yes", "1\rX", "a\x00b", "a\x7fb"]


def status_of(emu):
    return requests.get(f"{emu.url}/api/v0/tfa/status/", headers=AUTH, timeout=5)


def side_post(emu, path, raw: bytes):
    """POST a raw body (Python's json reads NaN and Infinity literals)."""
    return requests.post(f"{emu.url}/_emulator/{path}", data=raw,
                         headers={"Content-Type": "application/json"}, timeout=5)


def bad_request(r):
    assert r.status_code == 400, (r.status_code, r.text)
    body = r.json()
    assert body["error"] == "bad_request" and body["msg"], body
    return body


# -- the clock ---------------------------------------------------------------------


@pytest.mark.parametrize("value", NON_FINITE)
def test_clock_refuses_non_finite_moves(vast_emulator, value):
    clock = vast_emulator.clock
    before = clock.now()
    for move in (clock.advance, clock.set, clock.freeze):
        with pytest.raises(ValueError, match="finite"):
            move(value)
    assert math.isfinite(clock.now()) and abs(clock.now() - before) < 1 and not clock.frozen
    clock.freeze()
    with pytest.raises(ValueError):
        clock.advance(value)
    assert math.isfinite(clock.now())


def test_clock_refuses_a_move_that_overflows(vast_emulator):
    clock = vast_emulator.clock
    clock.advance(1e308)
    with pytest.raises(ValueError):
        clock.advance(1e308)
    assert math.isfinite(clock.now())


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_side_door_clock_refuses_non_finite_numbers(vast_emulator, literal):
    emu = vast_emulator
    bad_request(side_post(emu, "clock/advance", b'{"seconds": ' + literal + b"}"))
    bad_request(side_post(emu, "clock/set", b'{"now": ' + literal + b"}"))
    assert abs(emu.clock.now() - time.time()) < 1
    assert status_of(emu).status_code == 200


# -- faults: delays, headers, statuses -----------------------------------------------


@pytest.mark.parametrize("delay", [*NON_FINITE, -1, -0.001])
def test_fail_next_refuses_bad_delays(vast_emulator, delay):
    with pytest.raises(ValueError, match="delay"):
        vast_emulator.fail_next(delay=delay)
    assert vast_emulator.pending_faults == 0


@pytest.mark.parametrize("value", INJECTIONS)
def test_fail_next_refuses_control_characters_in_headers(vast_emulator, value):
    emu = vast_emulator
    with pytest.raises(ValueError, match="retry_after"):
        emu.fail_next(status=503, retry_after=value)
    with pytest.raises(ValueError, match="content_type"):
        emu.fail_next(status=503, content_type="text/html" + value)
    assert emu.pending_faults == 0
    r = status_of(emu)
    assert r.status_code == 200 and "X-Injected" not in r.headers


@pytest.mark.parametrize("kwargs", [{"retry_after": "héllo ☃"}, {"content_type": "text/☃"}])
def test_fail_next_refuses_headers_http_cannot_carry(vast_emulator, kwargs):
    with pytest.raises(ValueError):
        vast_emulator.fail_next(status=503, **kwargs)


@pytest.mark.parametrize("value", NON_FINITE)
def test_fail_next_refuses_non_finite_retry_after(vast_emulator, value):
    with pytest.raises(ValueError, match="retry_after"):
        vast_emulator.fail_next(status=429, retry_after=value)
    assert vast_emulator.pending_faults == 0


@pytest.mark.parametrize("status", [600, 99, 0, -1, 1000, True, 503.0, "503"])
def test_fail_next_refuses_statuses_outside_100_to_599(vast_emulator, status):
    with pytest.raises(ValueError, match="status"):
        vast_emulator.fail_next(status=status)
    assert vast_emulator.pending_faults == 0


@pytest.mark.parametrize("kwargs", [{"status": 204, "body": "x"}, {"status": 304, "body": b"x"},
                                    {"status": 204, "error": "service_unavailable"},
                                    {"status": 101, "body": "x"}])
def test_fail_next_refuses_a_body_where_http_has_none(vast_emulator, kwargs):
    with pytest.raises(ValueError, match="no body"):
        vast_emulator.fail_next(**kwargs)
    assert vast_emulator.pending_faults == 0


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_faults_are_served_without_a_body(vast_emulator, status):
    emu = vast_emulator
    emu.fail_next(status=status, retry_after=1)
    with socket.create_connection((emu.host, emu.port), timeout=5) as s:
        s.sendall(b"GET /tfa/status/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b"".join(iter(lambda: s.recv(65536), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status) and b"Retry-After: 1" in head
    assert body == b""
    if status == 204:
        assert b"Content-Length" not in head  # RFC 9110 section 8.6


def test_checked_faults_still_serve(vast_emulator):
    emu = vast_emulator
    emu.fail_next(status=599, retry_after="Wed, 21 Oct 2015 07:28:00 GMT", content_type="text/plain\tx")
    r = status_of(emu)
    assert r.status_code == 599 and r.headers["Retry-After"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    emu.fail_next(status=199)  # an informational answer, without a body
    assert (status_of(emu).status_code, status_of(emu).status_code) == (199, 200)


@pytest.mark.parametrize("raw", [
    b'{"delay": NaN}', b'{"delay": Infinity}', b'{"delay": -1}', b'{"delay": "1"}', b'{"delay": true}',
    b'{"retry_after": NaN}', b'{"retry_after": Infinity}', b'{"retry_after": -Infinity}',
    b'{"retry_after": "1\\r\\nX-Injected: yes"}', b'{"content_type": "text/html\\nX-Injected: yes"}',
    b'{"status": 600}', b'{"status": 99}', b'{"status": 204, "body": "x"}',
    b'{"status": 304, "error": "service_unavailable"}',
])
def test_side_door_fail_next_refuses_what_python_refuses(vast_emulator, raw):
    emu = vast_emulator
    bad_request(side_post(emu, "fail-next", raw))
    assert emu.pending_faults == 0
    r = status_of(emu)
    assert r.status_code == 200 and "X-Injected" not in r.headers
