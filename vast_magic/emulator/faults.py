"""Fault injection: what ``Emulator.fail_next`` queues for the next API requests.

:func:`make_fault` checks its arguments (ValueError for anything that could not
be sent as a well-formed HTTP answer); :class:`FaultQueue` hands the faults out
one request at a time.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from .api import Response
from .errors import ERRORS
from .state import finite

#: ``status`` default: None (answer normally) for a delay alone, the error's
#: status with ``error=``, else 503.
AUTO: Any = object()

#: Control characters, which a header value must not hold (CR and LF would
#: start a new header); a tab is allowed.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass
class Fault:
    """One queued fault, applied to the next ``remaining`` API requests."""

    remaining: int
    #: None: answer normally (after the delay)
    status: int | None
    body: bytes
    headers: list[tuple[str, str]]
    delay: float
    drop: bool

    def response(self) -> Response:
        assert self.status is not None
        return Response(self.status, self.body, list(self.headers))


def make_fault(n: int = 1, status: int | None = AUTO, body: str | bytes | None = None,
               retry_after: float | str | None = None, delay: float = 0.0, drop: bool = False,
               error: str | None = None, msg: str | None = None,
               content_type: str | None = None) -> Fault:
    """A checked :class:`Fault` (see ``Emulator.fail_next``)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    if error is not None and error not in ERRORS:
        raise ValueError(f"unknown error code {error!r}")
    delay = finite(delay, "delay")
    if delay < 0:
        raise ValueError(f"delay must not be negative, not {delay!r}")
    if status is AUTO:
        if delay > 0 and not drop and error is None and body is None and retry_after is None:
            status = None
        elif error is not None:
            status = ERRORS[error][0]
        else:
            status = 503
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)
                               or not 100 <= status <= 599):
        raise ValueError(f"status must be an HTTP status code from 100 to 599, not {status!r}")
    if error is not None:
        raw = json.dumps({"error": error, "msg": msg or ERRORS[error][1]}).encode()
        ctype = content_type or "application/json"
    else:
        raw = body.encode() if isinstance(body, str) else body
        if raw is None:
            raw = _html_page(status) if status is not None and not _no_content(status) else b""
        elif not isinstance(raw, bytes):
            raise ValueError(f"body must be str or bytes, not {type(body).__name__}")
        ctype = content_type or "text/html; charset=utf-8"
    if raw and status is not None and _no_content(status):
        raise ValueError(f"a {status} answer has no body; drop body= and error=")
    headers = [("Content-Type", header_value("content_type", ctype))]
    if retry_after is not None:
        headers.append(("Retry-After", _retry_after(retry_after)))
    return Fault(remaining=int(n), status=status, body=raw, headers=headers, delay=delay,
                 drop=bool(drop))


def header_value(name: str, value: Any) -> str:
    """``value`` if it can be sent as a header value; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    if _CONTROL.search(value):
        raise ValueError(f"{name} must not contain control characters (CR, LF, ...): {value!r}")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"{name} must be Latin-1 text: {value!r}") from None
    return value


def _retry_after(value: float | str) -> str:
    """A number of seconds, rounded up; or a string, sent as it is."""
    if isinstance(value, str):
        return header_value("retry_after", value)
    return str(math.ceil(finite(value, "retry_after")))


def _no_content(status: int) -> bool:
    """1xx, 204 and 304 answers have no body (RFC 9110)."""
    return status < 200 or status in (204, 304)


def _html_page(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return (f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>gateway</center>\r\n"
            "</body>\r\n</html>\r\n").encode()


class FaultQueue:
    """Queued faults, in order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self) -> Fault | None:
        """The fault for the next request (None if none is queued)."""
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.popleft()
            return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> int:
        """How many API requests still have a fault waiting."""
        with self._lock:
            return sum(f.remaining for f in self._faults)
