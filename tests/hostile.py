"""A hostile server for tests: it stands in front of the emulator on 127.0.0.1,
passes requests through, and answers chosen ones itself, byte by byte as
scripted — redirects, answers cut off or trickled, huge or nested answers,
JSON the API never sends.

    with HostileFront(emu) as front:        # %vast --url {front.url} ...
        front.answer_next("PUT", redirect(307, "http://127.0.0.1:9/"))
        front.requests                      # [(method, path), ...] that reached it
"""

from __future__ import annotations

import functools
import gzip
import http.client
import json
import socketserver
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Callable

Action = Callable[[BaseHTTPRequestHandler], None]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def raw(status_line: str, headers: dict, body: bytes = b"", *, close: bool = False) -> Action:
    """Send exactly this answer (Content-Length is not added for you)."""
    def act(h):
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        h.wfile.write(f"HTTP/1.1 {status_line}\r\n{head}\r\n".encode() + body)
        h.wfile.flush()
        if close:
            h.close_connection = True
    return act


def answer(status: int, body: bytes | str | dict, content_type="application/json",
           **headers) -> Action:
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    reason = http.client.responses.get(status, "Whatever")
    return raw(f"{status} {reason}", {"Content-Type": content_type,
                                      "Content-Length": str(len(body)), **headers}, body)


def json_text(status: int, text: str) -> Action:
    """A body of JSON text as given (NaN, 1e999 and deep nesting included)."""
    return answer(status, text)


def redirect(status: int, location: str) -> Action:
    return answer(status, {"success": True, "msg": "moved"}, Location=location)


def cut(declared: int = 400, sent: bytes = b'{"success": true, "sec') -> Action:
    """Headers promise ``declared`` bytes; fewer come, then the connection closes."""
    return raw("200 OK", {"Content-Type": "application/json", "Content-Length": str(declared)},
               sent, close=True)


def trickle(seconds: float, every: float = 0.05) -> Action:
    """A valid-looking answer whose body comes one byte at a time for ``seconds``."""
    def act(h):
        h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100000\r\n\r\n{")
        h.wfile.flush()
        ends = time.monotonic() + seconds
        try:
            while time.monotonic() < ends:
                time.sleep(every)
                h.wfile.write(b" ")
                h.wfile.flush()
        except OSError:
            pass  # the client gave up: what it should do
        h.close_connection = True
    return act


def huge_declared() -> Action:
    """Declares 300 MB and sends a little: a client must refuse before reading."""
    return raw("200 OK", {"Content-Type": "application/json",
                          "Content-Length": str(300 * 1024 * 1024)}, b"[" * 1000, close=True)


def huge_chunked(megabytes: int = 2) -> Action:
    """An answer with no length that goes on for ``megabytes``."""
    def act(h):
        h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
        piece = b" " * 65536
        try:
            for _ in range(megabytes * 16):
                h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        h.close_connection = True
    return act


@functools.lru_cache(maxsize=None)
def _bomb(megabytes: int) -> bytes:
    return gzip.compress(b" " * (megabytes * 1024 * 1024), compresslevel=9)


def gzip_bomb(megabytes: int = 200) -> Action:
    """A small gzip body (about 200 KB) that inflates to ``megabytes`` of spaces."""
    body = _bomb(megabytes)
    return raw("200 OK", {"Content-Type": "application/json", "Content-Encoding": "gzip",
                          "Content-Length": str(len(body))}, body, close=True)


def drop() -> Action:
    def act(h):
        h.close_connection = True
    return act


class HostileFront:
    """Passes requests to ``upstream`` (an Emulator), except those scripted."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.requests: list[tuple[str, str]] = []
        self._script: deque[tuple[str | None, Action]] = deque()
        self._lock = threading.Lock()
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                front.requests.append((self.command, self.path))
                action = front._take(self.command)
                if action is not None:
                    action(self)
                else:
                    front._pass(self, body)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)

    def answer_next(self, method: str | None, action: Action) -> None:
        """The next request with this HTTP method (any, for None) gets ``action``."""
        with self._lock:
            self._script.append((method, action))

    def _take(self, method: str) -> Action | None:
        with self._lock:
            for i, (wanted, action) in enumerate(self._script):
                if wanted in (None, method):
                    del self._script[i]
                    return action
        return None

    def _pass(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream.port, timeout=10)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP}
        conn.request(h.command, h.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        h.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP:
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def calls(self, method: str | None = None) -> int:
        return sum(1 for m, _ in self.requests if method in (None, m))

    def __enter__(self) -> HostileFront:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
