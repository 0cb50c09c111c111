"""The :class:`Emulator`: the model, the API and the side-door behind one
HTTP server, with the test helpers, fault injection and the server's lifecycle."""

from __future__ import annotations

import json
import socket
import sys
import threading
import traceback
from typing import Any, Callable

from . import sidedoor, totp
from .api import Response, TfaApi, error_response, is_support_path, json_response
from .errors import ApiError
from .faults import AUTO, FaultQueue, make_fault
from .model import TfaModel
from .state import SESSION_TTL, Account, Clock, Headers, LoggedRequest, Message, Method, Record

#: Returned by :meth:`Emulator.handle_request` to mean "close the connection, answer nothing".
DROP = object()


class Emulator:
    """A local, stateful HTTP emulator of the Vast.ai 2FA API.

    ``Emulator(port=0)`` picks a free port; the host is always 127.0.0.1.
    Use it as a context manager, or call :meth:`start` / :meth:`stop`.
    ``on_send`` is called with each :class:`Message` as it is "sent" (from the
    server thread, after the request's state change, without the lock held).
    """

    host = "127.0.0.1"

    def __init__(self, port: int = 0, *, on_send: Callable[[Message], Any] | None = None,
                 demo_accounts: bool = True, max_body: int = 64 * 1024,
                 session_ttl: float = SESSION_TTL, verbose: bool = False) -> None:
        self.port = int(port)
        self._requested_port = int(port)
        self.on_send = on_send
        self.max_body = int(max_body)
        self.verbose = verbose

        self.clock = Clock()
        #: The state and rules (:class:`~vast_magic.emulator.model.TfaModel`);
        #: hold ``emu.model.lock`` to change several things at once.
        self.model = TfaModel(self.clock, session_ttl=session_ttl, demo_accounts=demo_accounts)
        self.outbox: Record[Message] = self.model.outbox
        self.log: Record[LoggedRequest] = Record()
        self._faults = FaultQueue()
        self._api = TfaApi(self.model)

        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake: tuple[socket.socket, socket.socket] | None = None

    @property
    def session_ttl(self) -> float:
        """How long a login's session key lives (seconds)."""
        return self.model.session_ttl

    @session_ttl.setter
    def session_ttl(self, seconds: float) -> None:
        self.model.session_ttl = float(seconds)

    # -- lifecycle -------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Emulator:
        """Bind 127.0.0.1 and serve in a background thread (no-op if running)."""
        from .server import EmulatorHTTPServer

        if self._server is not None:
            return self
        self._stopping = threading.Event()
        server = EmulatorHTTPServer((self.host, self._requested_port), self)
        self._server = server
        self.port = server.server_address[1]
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=server.serve_until, args=(self._wake[0], self._stopping),
                                        name=f"vast-emulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection; idempotent."""
        server, thread, wake = self._server, self._thread, self._wake
        if server is None:
            return
        self._stopping.set()
        if wake is not None:
            try:
                wake[1].send(b"x")
            except OSError:
                pass
        if thread is not None:
            thread.join(5)
        server.server_close()
        server.close_connections()
        server.wait_idle(2.0)
        if wake is not None:
            for s in wake:
                s.close()
        self._server = self._thread = self._wake = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Emulator {self.url} {state}>"

    # -- accounts, sessions, codes -------------------------------------------------

    def add_account(self, api_key: str | None = None, email: str = "user@example.com",
                    email_verified: bool = True, backup_codes: list[str] | None = None, *,
                    username: str | None = None, team: bool = False) -> Account:
        """Declare an account. ``api_key`` None: a random key. ``backup_codes``
        None: ten fresh codes; a list: exactly those (any length)."""
        return self.model.add_account(api_key, email, email_verified, backup_codes,
                                      username=username, team=team)

    def account(self, api_key: str) -> Account:
        """The account of an API key (or of a session key); KeyError if none."""
        return self.model.account(api_key)

    @property
    def accounts(self) -> list[Account]:
        return self.model.accounts

    def create_session(self, api_key: str) -> str:
        """A 2FA session key for the account, as a login would return."""
        return self.model.create_session(self.model.account(api_key))

    def totp_now(self, method: Method | str) -> str:
        """The code an authenticator app shows at the emulator clock's time
        (``method`` is a TOTP :class:`Method` or a base32 secret)."""
        secret = method.secret if isinstance(method, Method) else method
        if not secret:
            raise ValueError("not a TOTP method")
        return totp.code_at(secret, self.clock.now())

    def totp_code(self, api_key: str, method_id: int | None = None) -> str:
        """The current code of an account's TOTP method (the only one if no id)."""
        return self.model.totp_code(api_key, method_id)

    # -- outbox ----------------------------------------------------------------

    def messages(self, api_key: str | None = None, channel: str | None = None) -> list[Message]:
        """Messages in the outbox, oldest first, optionally filtered."""
        return self.model.messages(api_key, channel)

    def last_message(self, api_key: str | None = None, channel: str | None = None) -> Message | None:
        found = self.messages(api_key, channel)
        return found[-1] if found else None

    def last_code(self, api_key: str | None = None, channel: str | None = None) -> str | None:
        """The code of the newest matching message, or None."""
        m = self.last_message(api_key, channel)
        return m.code if m else None

    def _announce(self, sent: list[Message]) -> None:
        for msg in sent:
            hook = self.on_send
            if hook is None:
                break
            try:
                hook(msg)
            except Exception:
                traceback.print_exc(file=sys.stderr)

    # -- faults ----------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int | None = AUTO, body: str | bytes | None = None,
                  retry_after: float | str | None = None, delay: float = 0.0, drop: bool = False,
                  error: str | None = None, msg: str | None = None,
                  content_type: str | None = None) -> None:
        """Give the next ``n`` API requests a fault (queued after earlier ones);
        what the CLI asks besides the 2FA API (``/users/current``, GPU names)
        never takes one.

        - ``delay`` seconds first (real time); with nothing else, the request
          is then answered normally;
        - ``drop=True``: close the connection without an answer;
        - ``error="service_unavailable"`` (any code of the error table): the
          documented JSON ``{"error", "msg"}`` with that code's status;
        - otherwise ``status`` (default 503, from 100 to 599) with ``body``
          (default: an HTML gateway page; none for 1xx, 204 and 304);
          ``retry_after`` (seconds or a string) adds a ``Retry-After`` header.

        ValueError for a fault that could not be sent as a well-formed answer:
        a delay that is negative or not finite, a status out of range, a body
        on 1xx/204/304, control characters (CR, LF, ...) in ``retry_after`` or
        ``content_type``.
        """
        self._faults.add(make_fault(n, status, body, retry_after, delay, drop, error, msg,
                                    content_type))

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def pending_faults(self) -> int:
        """How many API requests still have a fault waiting."""
        return self._faults.pending

    # -- reset -----------------------------------------------------------------

    def reset(self) -> None:
        """Demo accounts only, empty outbox/log/faults/sessions, clock at real time."""
        with self.model.lock:
            self._faults.clear()
            self.log.clear()
            self.clock.reset()
            self.model.reset()

    # -- HTTP entry point ------------------------------------------------------

    def handle_request(self, method: str, path: str, query: str, headers: Any, body: bytes,
                       body_error: ApiError | None = None, client: str = "") -> Response | object:
        """Answer one request (called by the server, in the connection's thread):
        the side-door, or a logged API request, faulted unless it is one the CLI
        asks besides the 2FA API (``/users/current``, GPU names). Returns a
        :class:`~vast_magic.emulator.api.Response`, or :data:`DROP`."""
        try:
            if path == sidedoor.PREFIX or path.startswith(sidedoor.PREFIX + "/"):
                if body_error is not None:
                    return error_response(body_error)
                return sidedoor.handle(self, method, path, query, body)
            hdrs = Headers(headers.items())
            self.log.append(LoggedRequest(method, path, hdrs, body, _try_json(body), query,
                                          self.clock.now(), client))
            fault = None if is_support_path(path) else self._faults.take()
            if fault is not None:
                if fault.delay > 0:
                    self._stopping.wait(fault.delay)
                if fault.drop:
                    return DROP
                if fault.status is not None:
                    return fault.response()
            if body_error is not None:
                return error_response(body_error)
            resp = self._api.handle(method, path, hdrs, body)
            self._announce(self.model.take_sent())
            return resp
        except Exception as e:  # never let a bug kill the connection silently
            traceback.print_exc(file=sys.stderr)
            return json_response(500, {"error": "internal_error",
                                       "msg": f"Internal error in the emulator: {type(e).__name__}"})


def _try_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None
