"""The :class:`Emulator`: state, test helpers, fault injection and the server's lifecycle."""

from __future__ import annotations

import json
import math
import secrets
import socket
import sys
import threading
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import pyotp

from . import sidedoor
from .api import ERRORS, ApiError, Response, TfaApi, json_response
from .state import (
    SESSION_TTL,
    Account,
    Clock,
    Headers,
    LoggedRequest,
    Message,
    Method,
    Record,
    new_backup_codes,
)

#: The demo accounts' API keys (stable across runs and resets).
DEMO_KEYS: dict[str, str] = {
    "fresh": "demo-fresh-000000000000000000001",
    "multi": "demo-multi-000000000000000000002",
    "unverified": "demo-unverified-0000000000000003",
}
#: The ``multi`` account's fixed TOTP secret (method 101).
DEMO_TOTP_SECRET = "VASTMAGICDEMOTOTPSECRETKEY234567"
#: The ``multi`` account's SMS numbers (methods 102, primary, and 103).
DEMO_PHONES = {102: "+15551230102", 103: "+15551230103"}
#: The ``multi`` account's ten backup codes (restored by ``reset()``).
DEMO_BACKUP_CODES = [f"DEMO-CODE-{i:04d}" for i in range(1, 11)]

#: Returned by the request handler to mean "close the connection, answer nothing".
DROP = object()

_UNSET: Any = object()
_FIRST_USER_ID = 2001
_FIRST_METHOD_ID = 201


@dataclass
class Session:
    key: str
    api_key: str
    expires_at: float


@dataclass
class Fault:
    """One queued fault, applied to the next ``remaining`` API requests."""

    remaining: int
    status: int | None
    body: bytes
    content_type: str
    retry_after: str | None
    delay: float
    drop: bool
    error: str | None

    def response(self) -> Response:
        headers = [("Content-Type", self.content_type)]
        if self.retry_after is not None:
            headers.append(("Retry-After", self.retry_after))
        assert self.status is not None
        return Response(self.status, self.body, headers)


def _html_page(status: int) -> bytes:
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return (f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>gateway</center>\r\n"
            "</body>\r\n</html>\r\n").encode()


def _format_retry_after(value: Any) -> str:
    if isinstance(value, str):
        return value
    value = float(value)
    return str(int(value)) if value.is_integer() else str(math.ceil(value))


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
        self.session_ttl = float(session_ttl)
        self.verbose = verbose
        self._demo = demo_accounts

        self.clock = Clock()
        self.outbox: Record[Message] = Record()
        self.log: Record[LoggedRequest] = Record()
        self._lock = threading.RLock()
        self._accounts: dict[str, Account] = {}
        self._sessions: dict[str, Session] = {}
        self._challenges: dict[str, Any] = {}
        self._faults: deque[Fault] = deque()
        self._pending_sends: list[Message] = []
        self._method_ids = _FIRST_METHOD_ID
        self._user_ids = _FIRST_USER_ID
        self._api = TfaApi(self)

        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._load_demo()

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

    # -- accounts --------------------------------------------------------------

    def _next_method_id(self) -> int:
        with self._lock:
            self._method_ids += 1
            return self._method_ids - 1

    def _load_demo(self) -> None:
        if not self._demo:
            return
        now = self.clock.now()
        self._put_account(Account(api_key=DEMO_KEYS["fresh"], user_id=1001, email="fresh@example.com",
                                  username="fresh", _emu=self))
        multi = self._put_account(Account(api_key=DEMO_KEYS["multi"], user_id=1002,
                                          email="multi@example.com", username="multi",
                                          backup_codes=list(DEMO_BACKUP_CODES), _emu=self))
        multi.methods = [
            Method(id=101, user_id=1002, method="totp", label="authenticator",
                   secret=DEMO_TOTP_SECRET, created_at=now),
            Method(id=102, user_id=1002, method="sms", label="phone",
                   phone_number=DEMO_PHONES[102], is_primary=True, created_at=now),
            Method(id=103, user_id=1002, method="sms", label="backup phone",
                   phone_number=DEMO_PHONES[103], created_at=now),
        ]
        self._put_account(Account(api_key=DEMO_KEYS["unverified"], user_id=1003,
                                  email="unverified@example.com", email_verified=False,
                                  username="unverified", _emu=self))

    def _put_account(self, acct: Account) -> Account:
        self._accounts[acct.api_key] = acct
        return acct

    def add_account(self, api_key: str | None = None, email: str = "user@example.com",
                    email_verified: bool = True, backup_codes: list[str] | None = None, *,
                    username: str | None = None, team: bool = False) -> Account:
        """Declare an account. ``api_key`` None: a random key. ``backup_codes``
        None: ten fresh codes; a list: exactly those (any length)."""
        with self._lock:
            key = api_key if api_key is not None else "test-" + secrets.token_hex(16)
            if key in self._accounts:
                raise ValueError(f"an account with api_key {key!r} already exists")
            uid = self._user_ids
            self._user_ids += 1
            codes = new_backup_codes() if backup_codes is None else list(backup_codes)
            return self._put_account(Account(
                api_key=key, user_id=uid, email=email, email_verified=email_verified,
                username=username or email.split("@")[0], backup_codes=codes, team=team,
                _emu=self))

    def account(self, api_key: str) -> Account:
        """The account of an API key (or of a live session key); KeyError if none."""
        with self._lock:
            acct = self._accounts.get(api_key)
            if acct is None and api_key in self._sessions:
                acct = self._accounts.get(self._sessions[api_key].api_key)
            if acct is None:
                raise KeyError(api_key)
            return acct

    @property
    def accounts(self) -> list[Account]:
        with self._lock:
            return list(self._accounts.values())

    def _new_session(self, acct: Account, now: float) -> str:
        key = "tfa-session-" + secrets.token_hex(24)
        self._sessions[key] = Session(key, acct.api_key, now + self.session_ttl)
        return key

    def create_session(self, api_key: str) -> str:
        """A 2FA session key for the account, as a login would return."""
        with self._lock:
            return self._new_session(self.account(api_key), self.clock.now())

    # -- codes -----------------------------------------------------------------

    def totp_now(self, method: Method | str) -> str:
        """The code an authenticator app shows at the emulator clock's time
        (``method`` is a TOTP :class:`Method` or a base32 secret)."""
        secret = method.secret if isinstance(method, Method) else method
        if not secret:
            raise ValueError("not a TOTP method")
        return pyotp.TOTP(secret).at(self.clock.now())

    def totp_code(self, api_key: str, method_id: int | None = None) -> str:
        """The current code of an account's TOTP method (the only one if no id)."""
        acct = self.account(api_key)
        with self._lock:
            if method_id is None:
                totps = acct.methods_of("totp")
                if len(totps) != 1:
                    raise KeyError(f"account has {len(totps)} TOTP methods; pass method_id")
                m: Method | None = totps[0]
            else:
                m = acct.method(method_id)
            if m is None or m.method != "totp":
                raise KeyError(f"no TOTP method {method_id} on that account")
            return self.totp_now(m)

    # -- outbox ----------------------------------------------------------------

    def _resolve_key(self, api_key: str | None) -> str | None:
        if api_key is None:
            return None
        try:
            return self.account(api_key).api_key
        except KeyError:
            return api_key

    def messages(self, api_key: str | None = None, channel: str | None = None) -> list[Message]:
        """Messages in the outbox, oldest first, optionally filtered."""
        key = self._resolve_key(api_key)
        return [m for m in self.outbox
                if (key is None or m.api_key == key) and (channel is None or m.channel == channel)]

    def last_message(self, api_key: str | None = None, channel: str | None = None) -> Message | None:
        found = self.messages(api_key, channel)
        return found[-1] if found else None

    def last_code(self, api_key: str | None = None, channel: str | None = None) -> str | None:
        """The code of the newest matching message, or None."""
        m = self.last_message(api_key, channel)
        return m.code if m else None

    def _deliver(self, msg: Message) -> None:
        self.outbox._append(msg)
        if self.on_send is not None:
            self._pending_sends.append(msg)

    def _flush_sends(self) -> None:
        with self._lock:
            pending, self._pending_sends = self._pending_sends, []
        hook = self.on_send
        for msg in pending:
            if hook is None:
                break
            try:
                hook(msg)
            except Exception:
                traceback.print_exc(file=sys.stderr)

    # -- faults ----------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int | None = _UNSET, body: str | bytes | None = None,
                  retry_after: float | str | None = None, delay: float = 0.0, drop: bool = False,
                  error: str | None = None, msg: str | None = None,
                  content_type: str | None = None) -> None:
        """Give the next ``n`` API requests a fault (queued after earlier ones).

        - ``delay`` seconds first (real time); with nothing else, the request
          is then answered normally;
        - ``drop=True``: close the connection without an answer;
        - ``error="service_unavailable"`` (any code of the error table): the
          documented JSON ``{"error", "msg"}`` with that code's status;
        - otherwise ``status`` (default 503) with ``body`` (default: an HTML
          gateway page); ``retry_after`` adds a ``Retry-After`` header.
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        if error is not None and error not in ERRORS:
            raise ValueError(f"unknown error code {error!r}")
        if status is _UNSET:
            only_delay = delay > 0 and not drop and error is None and body is None and retry_after is None
            if only_delay:
                status = None
            elif error is not None:
                status = ERRORS[error][0]
            else:
                status = 503
        if error is not None:
            raw = json.dumps({"error": error, "msg": msg or ERRORS[error][1]}).encode()
            ctype = content_type or "application/json"
        else:
            raw = body.encode() if isinstance(body, str) else body
            if raw is None:
                raw = _html_page(status) if status is not None else b""
            ctype = content_type or "text/html; charset=utf-8"
        fault = Fault(remaining=int(n), status=status, body=raw, content_type=ctype,
                      retry_after=None if retry_after is None else _format_retry_after(retry_after),
                      delay=float(delay), drop=bool(drop), error=error)
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> int:
        """How many API requests still have a fault waiting."""
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def _take_fault(self) -> Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.popleft()
            return fault

    # -- reset -----------------------------------------------------------------

    def reset(self) -> None:
        """Demo accounts only, empty outbox/log/faults/sessions, clock at real time."""
        with self._lock:
            self._accounts.clear()
            self._sessions.clear()
            self._challenges.clear()
            self._faults.clear()
            self._pending_sends.clear()
            self._method_ids = _FIRST_METHOD_ID
            self._user_ids = _FIRST_USER_ID
            self.outbox.clear()
            self.log.clear()
            self.clock.reset()
            self._load_demo()

    # -- HTTP entry point (called by the server, one thread per connection) ------

    def _handle_http(self, method: str, path: str, query: str, headers: Any, body: bytes,
                     body_error: ApiError | None = None, client: str = "") -> Response | object:
        try:
            if path == "/_emulator" or path.startswith("/_emulator/"):
                if body_error is not None:
                    return body_error.response()
                return sidedoor.handle(self, method, path, query, body)
            hdrs = Headers(headers.items())
            self.log._append(LoggedRequest(method, path, hdrs, body, _try_json(body), query,
                                           self.clock.now(), client))
            fault = self._take_fault()
            if fault is not None:
                if fault.delay > 0:
                    self._stopping.wait(fault.delay)
                if fault.drop:
                    return DROP
                if fault.status is not None:
                    return fault.response()
            if body_error is not None:
                return body_error.response()
            resp = self._api.handle(method, path, hdrs, body)
            if self._pending_sends:
                self._flush_sends()
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
