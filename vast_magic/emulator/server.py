"""HTTP transport: the standard library's threaded HTTP/1.1 server.

``http.server`` parses requests; this module only decides how bodies are read
and how answers are written:

- keep-alive (HTTP/1.1) connections, one thread per connection;
- each answer (status line, headers, body) is built in a buffered writer and
  leaves in one ``send`` when the handler flushes, and ``TCP_NODELAY`` is set,
  so no Nagle / delayed-ACK stall (~40 ms) between headers and body;
- request bodies need a ``Content-Length``; over ``max_body`` bytes they are
  answered 413 (the body is read and discarded up to 8 MiB so the client sees
  the answer, beyond that the connection is closed);
- every answer, even to a malformed request line, is JSON
  ``{"error": code, "msg": text}``.
"""

from __future__ import annotations

import selectors
import socket
import socketserver
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .api import Response, json_response
from .errors import ApiError

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator

DRAIN_LIMIT = 8 * 1024 * 1024
IDLE_TIMEOUT = 120.0


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # many clients may connect at once (socketserver's default is 5)
    timeout = 0.2  # bound for handle_request() once the socket was seen readable

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Condition()
        self._closing = False
        super().__init__(address, EmulatorRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn() (a DNS lookup).
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port

    def serve_until(self, wake: socket.socket, stopping: threading.Event) -> None:
        """Accept connections until ``stopping`` is set and ``wake`` is readable."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.socket, selectors.EVENT_READ, "accept")
            sel.register(wake, selectors.EVENT_READ, "wake")
            while not stopping.is_set():
                for key, _ in sel.select():
                    if key.data == "wake" or stopping.is_set():
                        return
                    self.handle_request()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # client went away, or we closed it on stop()
            return
        super().handle_error(request, client_address)

    # -- connection tracking, so stop() can close keep-alive connections --

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            if add:
                self._conns.add(conn)
                if self._closing:
                    _shutdown(conn)
            else:
                self._conns.discard(conn)
                self._conns_lock.notify_all()

    def close_connections(self) -> None:
        with self._conns_lock:
            self._closing = True
            for conn in list(self._conns):
                _shutdown(conn)

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._conns_lock:
            while self._conns:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._conns_lock.wait(left)
        return True


def _shutdown(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "VastEmulator/0.1"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    # A buffered writer: the whole answer is flushed at once by handle_one_request().
    wbufsize = 256 * 1024
    timeout = IDLE_TIMEOUT
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.track(self.connection, False)

    def handle_expect_100(self) -> bool:
        ok = super().handle_expect_100()
        self.wfile.flush()  # the interim answer must not wait in the buffer
        return ok

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every HTTP method goes to _dispatch (405 if not routed)
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            sys.stderr.write(f"[emulator] {self.address_string()} {format % args}\n")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, URI too long, ...) as JSON."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self.log_error("code %d, message %s", code, message)
        if self.request_version == "HTTP/0.9":  # unparsable request line: answer in HTTP/1.0 form
            self.request_version = "HTTP/1.0"
        error = "bad_request" if code < 500 else "internal_error"
        if code == HTTPStatus.NOT_IMPLEMENTED:
            error = "method_not_allowed"
        self.close_connection = True
        self._respond(json_response(code, {"error": error, "msg": message or phrase}))
        try:
            self.wfile.flush()
        except OSError:
            pass

    # -- the request -------------------------------------------------------

    def _dispatch(self) -> None:
        emu = self.server.emulator
        url = urlsplit(self.path)
        path = unquote(url.path) or "/"
        try:
            body, body_error = self._read_body(emu.max_body)
        except OSError:
            self.close_connection = True
            return
        if body is None:  # the client sent less than it announced
            self.close_connection = True
            return
        client = f"{self.client_address[0]}:{self.client_address[1]}"
        result = emu.handle_request(self.command, path, url.query, self.headers, body, body_error,
                                    client=client)
        if not isinstance(result, Response):  # DROP
            self.close_connection = True
            _shutdown(self.connection)
            return
        self._respond(result)

    def _read_body(self, limit: int) -> tuple[bytes | None, ApiError | None]:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return b"", ApiError("bad_request", "Chunked request bodies are not supported; "
                                                "send a Content-Length.", status=411)
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", None
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            return b"", ApiError("bad_request", "Invalid Content-Length header.")
        if n > limit:
            error = ApiError("bad_request", f"Request body too large ({n} bytes; limit {limit}).",
                             status=413)
            if n > DRAIN_LIMIT:
                self.close_connection = True
                return b"", error
            left = n
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    return None, None
                left -= len(chunk)
            return b"", error
        data = self.rfile.read(n) if n else b""
        if len(data) < n:
            return None, None
        return data, None

    def _respond(self, resp: Response) -> None:
        self.send_response(resp.status)
        for name, value in resp.headers:
            self.send_header(name, value)
        if resp.status >= 200 and resp.status != 204:  # RFC 9110: none on 1xx and 204
            self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)


__all__ = ["EmulatorHTTPServer", "EmulatorRequestHandler"]
