"""The emulator's data: clock, accounts, 2FA methods, challenges, records.

Plain objects and the rules of one object (a factor's failure count and
lock, a challenge's age); :mod:`vast_magic.emulator.model` applies the
service's rules to them. Nothing here speaks HTTP.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Iterator, TypeVar, overload

if TYPE_CHECKING:  # pragma: no cover
    from .model import TfaModel

#: A code sent by email or SMS (and a step-1 challenge) lives this long.
CODE_TTL = 600.0
#: A method stays locked this long after too many failures.
LOCK_SECONDS = 900.0
#: The add-method window opened by a successful authorization.
WINDOW_SECONDS = 1800.0
#: A login session key (``POST /tfa/``) is valid this long.
SESSION_TTL = 3600.0
#: A second ``POST /tfa/sms/`` to the same phone within this many seconds
#: answers ``tfa_challenge_exists``.
SMS_RESEND_GAP = 60.0
#: Failures that lock a method: 3 for SMS, 5 for TOTP; the emulator uses 5 for email.
FAIL_LIMITS = {"sms": 3, "totp": 5, "email": 5}

BACKUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_backup_code() -> str:
    """A random ``XXXX-XXXX-XXXX`` code."""
    chars = "".join(secrets.choice(BACKUP_ALPHABET) for _ in range(12))
    return f"{chars[0:4]}-{chars[4:8]}-{chars[8:12]}"


def new_backup_codes(n: int = 10) -> list[str]:
    codes: list[str] = []
    while len(codes) < n:
        code = new_backup_code()
        if code not in codes:
            codes.append(code)
    return codes


def new_sent_code() -> str:
    """A 6-digit code for email or SMS."""
    return f"{secrets.randbelow(10**6):06d}"


def new_challenge_secret() -> str:
    return secrets.token_hex(16)


def mask_phone(phone: str | None) -> str | None:
    """``+15551234567`` -> ``+1******4567``."""
    if not phone:
        return phone
    if len(phone) <= 6:
        return "*" * (len(phone) - 2) + phone[-2:]
    return phone[:2] + "*" * (len(phone) - 6) + phone[-4:]


def mask_email(email: str) -> str:
    name, at, domain = email.partition("@")
    if not at:
        return email[:1] + "***"
    return f"{name[:1]}***@{domain}"


class Clock:
    """The time the emulator uses for everything: real time plus an offset.

    ``advance()`` moves it forward (or back, with a negative number); ``set()``
    jumps to an epoch; ``freeze()`` stops it (handy at a TOTP step boundary);
    ``reset()`` returns to real time. Times and moves must be finite numbers
    (ValueError otherwise).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen: float | None = None

    def now(self) -> float:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward; returns the new time."""
        seconds = finite(seconds, "seconds")
        with self._lock:
            offset = finite(self._offset + seconds, "the new time")
            frozen = None if self._frozen is None else finite(self._frozen + seconds, "the new time")
            self._offset, self._frozen = offset, frozen
            return frozen if frozen is not None else time.time() + offset

    def set(self, epoch: float) -> float:
        """Jump to ``epoch`` (seconds); keeps running unless frozen."""
        epoch = finite(epoch, "epoch")
        with self._lock:
            self._offset = epoch - time.time()
            if self._frozen is not None:
                self._frozen = epoch
            return epoch

    def freeze(self, at: float | None = None) -> float:
        """Stop the clock at ``at`` (default: now)."""
        now = self.now() if at is None else finite(at, "at")
        with self._lock:
            self._frozen = now
            self._offset = now - time.time()
        return now

    def unfreeze(self) -> None:
        """Let a frozen clock run again from where it stopped."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - time.time()
                self._frozen = None

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._frozen = None


def finite(value: float, name: str) -> float:
    """``value`` as a float; ValueError if it is NaN or infinite."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return value


class _Factor:
    """Failure counting and locking shared by methods and the email factor."""

    method: str
    fail_count: int
    locked_until: float | None

    @property
    def fail_limit(self) -> int:
        return FAIL_LIMITS[self.method]

    def refresh(self, now: float) -> None:
        """Forget an expired lock (and the failures that caused it)."""
        if self.locked_until is not None and now >= self.locked_until:
            self.locked_until = None
            self.fail_count = 0

    def is_locked(self, now: float) -> bool:
        self.refresh(now)
        return self.locked_until is not None

    def record_failure(self, now: float) -> bool:
        """Count a wrong code; returns True when this failure locked the factor."""
        self.refresh(now)
        self.fail_count += 1
        if self.fail_count >= self.fail_limit:
            self.locked_until = now + LOCK_SECONDS
            return True
        return False

    def record_success(self, now: float) -> None:
        self.fail_count = 0
        self.locked_until = None


@dataclass(eq=False)
class Method(_Factor):
    """A configured 2FA method (``method`` is ``"sms"`` or ``"totp"``)."""

    id: int
    user_id: int
    method: str
    label: str
    phone_number: str | None = None
    secret: str | None = None
    is_primary: bool = False
    fail_count: int = 0
    locked_until: float | None = None
    created_at: float = 0.0
    last_used: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "method": self.method,
            "label": self.label,
            "phone_number": mask_phone(self.phone_number),
            "is_primary": self.is_primary,
            "fail_count": self.fail_count,
            "locked_until": self.locked_until,
            "created_at": self.created_at,
            "last_used": self.last_used,
        }


@dataclass(eq=False)
class EmailFactor(_Factor):
    """Failure counter and lock for codes sent to the account's email."""

    method: str = "email"
    fail_count: int = 0
    locked_until: float | None = None
    id: None = None


@dataclass(eq=False)
class Account:
    """An account, keyed by its API key.

    Change it freely from a test (``acct.email_verified = False``); use
    :meth:`add_sms` / :meth:`add_totp` to add methods (they take the
    emulator's lock and hand out ids).
    """

    api_key: str
    user_id: int
    email: str
    email_verified: bool = True
    username: str = ""
    backup_codes: list[str] = field(default_factory=list)
    methods: list[Method] = field(default_factory=list)
    #: End of the 30-minute add-method window (epoch seconds) or None.
    authorized_until: float | None = None
    #: True makes every 2FA call answer 403 ``team_user_forbidden``.
    team: bool = False
    email_factor: EmailFactor = field(default_factory=EmailFactor)
    #: The model that holds the account (set by ``add_account``).
    model: TfaModel | None = field(default=None, repr=False)

    def method(self, method_id: int) -> Method | None:
        for m in self.methods:
            if m.id == method_id:
                return m
        return None

    def methods_of(self, kind: str) -> list[Method]:
        return [m for m in self.methods if m.method == kind]

    @property
    def primary(self) -> Method | None:
        for m in self.methods:
            if m.is_primary:
                return m
        return None

    def window_open(self, now: float) -> bool:
        return self.authorized_until is not None and now < self.authorized_until

    def add_sms(self, phone: str = "+15551234567", label: str = "phone",
                is_primary: bool = False) -> Method:
        """Add an SMS method; the first method of an account becomes primary."""
        return self._model().add_method(self, "sms", label, is_primary=is_primary, phone_number=phone)

    def add_totp(self, label: str = "authenticator", secret: str | None = None,
                 is_primary: bool = False) -> Method:
        """Add a TOTP method with a fresh (or the given) base32 secret."""
        return self._model().add_method(self, "totp", label, is_primary=is_primary, secret=secret)

    def authorize(self, seconds: float = WINDOW_SECONDS) -> None:
        """Open the add-method window without going through the API."""
        self._model().open_window(self, seconds=seconds)

    def _model(self) -> TfaModel:
        if self.model is None:
            raise RuntimeError("this account belongs to no emulator; declare it with emu.add_account()")
        return self.model


@dataclass(eq=False)
class Challenge:
    """A pending verification, keyed by its secret.

    ``purpose``: ``"authorize"`` (step 1 of authorize-new-method),
    ``"verify"`` (``/tfa/email/``, ``/tfa/sms/`` for an existing method: used by
    login, delete, regen) or ``"setup"`` (a new phone or TOTP secret, used by
    confirm-new). ``kind``: ``"email"``, ``"sms"`` or ``"totp"``.
    """

    secret: str
    api_key: str
    purpose: str
    kind: str
    method_id: int | None
    code: str | None
    created_at: float
    to: str | None = None
    totp_secret: str | None = None
    fail_count: int = 0

    def expired(self, now: float) -> bool:
        return now - self.created_at > CODE_TTL


@dataclass(frozen=True)
class Message:
    """A code "sent" by email or SMS, as the person would read it."""

    channel: str  # "email" | "sms"
    to: str
    code: str
    text: str
    sent_at: float
    api_key: str

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "to": self.to, "code": self.code, "text": self.text,
                "sent_at": self.sent_at, "api_key": self.api_key}


class Headers(dict):
    """A plain dict of request headers (names as the client sent them) whose
    lookups (``[]``, ``get``, ``in``) ignore case."""

    def _find(self, key: object) -> object:
        if isinstance(key, str) and not dict.__contains__(self, key):
            lower = key.lower()
            for k in self.keys():
                if k.lower() == lower:
                    return k
        return key

    def __getitem__(self, key: object) -> str:
        return dict.__getitem__(self, self._find(key))

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, self._find(key))

    def get(self, key: object, default: Any = None) -> Any:
        return dict.get(self, self._find(key), default)


@dataclass(frozen=True)
class LoggedRequest:
    """One API request exactly as the client sent it."""

    method: str
    path: str
    headers: Headers
    body: bytes
    json: Any
    query: str = ""
    #: emulator clock time of arrival
    time: float = 0.0
    #: the client's "host:port" (one per TCP connection: shows keep-alive reuse)
    client: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "query": self.query,
                "headers": dict(self.headers), "body": self.body.decode("utf-8", "replace"),
                "json": self.json, "time": self.time, "client": self.client}


T = TypeVar("T")


class Record(Sequence, Generic[T]):
    """A thread-safe, append-only (and clearable) list-like record."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._lock = threading.Lock()

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[T]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @overload
    def __getitem__(self, i: int) -> T: ...

    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        with self._lock:
            return self._items[i]

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self.snapshot() == other.snapshot()
        if isinstance(other, list):
            return self.snapshot() == other
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.snapshot()!r})"
