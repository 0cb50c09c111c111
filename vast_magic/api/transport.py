"""The HTTP session underneath the client, hardened against hostile servers.

- **A deadline per attempt**, not per read: a server that trickles bytes
  (headers or body) cannot hold a request past it.  Each connection the
  session opens arms a single watchdog thread with the attempt's deadline
  when a request goes out on it; at the deadline the watchdog shuts the
  socket, and the read in progress fails at once.
- **No redirects**: a 3xx is an answer (an error), its Location not parsed.
- **Bounded answers**: the API's answers are a few KB; one over
  :data:`MAX_ANSWER` bytes (after decompression) is refused without reading
  the rest, and identity encoding is asked for.
- **Plain JSON**: NaN/Infinity (not JSON) read as null; nesting deeper than
  :data:`MAX_DEPTH` is refused (nothing downstream need recurse into it).

``requests`` and ``urllib3`` are imported when the first session is made.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager

from .. import __version__

MAX_ANSWER = 256 * 1024  # bytes
MAX_DEPTH = 32
CHUNK = 4096


class AnswerTooLarge(Exception):
    """The answer is longer than MAX_ANSWER bytes."""


class TooDeep(ValueError):
    """A JSON answer nested deeper than MAX_DEPTH."""


class _Watchdog:
    """One daemon thread that shuts the socket of a request past its deadline."""

    def __init__(self):
        self._cond = threading.Condition()
        self._armed: dict = {}       # connection -> deadline (time.monotonic())
        self._wakes_at = float("inf")
        self._thread: threading.Thread | None = None

    def arm(self, conn, deadline: float) -> None:
        with self._cond:
            self._armed[conn] = deadline
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="vast-magic-deadline",
                                                daemon=True)
                self._thread.start()
            if deadline < self._wakes_at:
                self._cond.notify()

    def disarm(self, conn) -> None:
        with self._cond:
            self._armed.pop(conn, None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for conn, deadline in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[conn]
                        _shut(conn)
                self._wakes_at = min(self._armed.values(), default=float("inf"))
                self._cond.wait(None if self._wakes_at == float("inf")
                                else self._wakes_at - now)


def _shut(conn) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_WATCHDOG = _Watchdog()
_local = threading.local()


@contextmanager
def deadline(when: float):
    """Requests sent by this thread inside the block end by ``when`` (monotonic)."""
    _local.deadline, _local.armed = when, []
    try:
        yield
    finally:
        for conn in _local.armed:
            _WATCHDOG.disarm(conn)
        _local.deadline, _local.armed = None, []


def passed(when: float) -> bool:
    return time.monotonic() >= when


def _watched(connection_class):
    """A urllib3 connection class whose requests arm the watchdog."""

    class Watched(connection_class):
        def request(self, *args, **kwargs):
            when = getattr(_local, "deadline", None)
            if when is not None:
                _WATCHDOG.arm(self, when)
                _local.armed.append(self)
            return super().request(*args, **kwargs)

    Watched.__name__ = "Watched" + connection_class.__name__
    return Watched


def new_session():
    """A requests.Session for the life of one shell (connections are reused)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Pool(HTTPConnectionPool):
        ConnectionCls = _watched(HTTPConnectionPool.ConnectionCls)

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = _watched(HTTPSConnectionPool.ConnectionCls)

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}

    class Session(requests.Session):
        def get_redirect_target(self, resp):
            return None  # redirects are never followed, nor even parsed (a 3xx is an error)

    session = Session()
    session.headers["User-Agent"] = f"vast-magic/{__version__}"
    session.headers["Accept-Encoding"] = "identity"
    for prefix in ("http://", "https://"):
        session.mount(prefix, Adapter())
    return session


def read_body(resp, limit: int = MAX_ANSWER) -> bytes:
    """The whole (decoded) body, or AnswerTooLarge before reading past ``limit``."""
    length = resp.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        raise AnswerTooLarge()
    chunks, size = [], 0
    for chunk in resp.iter_content(CHUNK):
        size += len(chunk)
        if size > limit:
            raise AnswerTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(content: bytes):
    """The JSON value of an answer, or None when it is not JSON; TooDeep when
    it nests deeper than MAX_DEPTH."""
    if not content:
        return None
    try:
        value = json.loads(content, parse_constant=lambda name: None)  # NaN is no number
    except (ValueError, RecursionError):
        return None
    if depth(value) > MAX_DEPTH:
        raise TooDeep()
    return value


def depth(value, limit: int = MAX_DEPTH) -> int:
    """How deep a JSON value nests (counting stops a little past ``limit``)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if level > limit:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest
