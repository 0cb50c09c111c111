"""The 2FA service's state and rules, with no HTTP in them.

:class:`TfaModel` holds the accounts, sessions, pending challenges and the
outbox, and applies the reference's rules: which factor a request verifies
with, sending codes, expiry, failure counts and locks, the add-method window,
backup codes and sessions. Its rule methods (one per endpoint) take the
request's time and raise :class:`~vast_magic.emulator.errors.ApiError`; the
caller holds :attr:`TfaModel.lock` around a whole request
(:mod:`vast_magic.emulator.api` does). The other public methods take the lock
themselves.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from . import totp
from .errors import ApiError
from .state import (
    CODE_TTL,
    FAIL_LIMITS,
    SESSION_TTL,
    SMS_RESEND_GAP,
    WINDOW_SECONDS,
    Account,
    Challenge,
    Clock,
    EmailFactor,
    Message,
    Method,
    Record,
    new_backup_codes,
    new_challenge_secret,
    new_sent_code,
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

#: Phone numbers that make any SMS send fail with an operational error.
SPECIAL_PHONES: dict[str, str] = {
    "+15005550001": "twilio_error",
    "+15005550002": "sms_blocked_number",
    "+15005550003": "sms_rate_limited",
    "+15005550004": "twilio_rate_limited",
    "+15005550005": "preauth_phone_cap",
    "+15005550006": "sms_fraud_detected",
    "+15005550007": "challenge_creation_failed",
}

_FIRST_USER_ID = 2001
_FIRST_METHOD_ID = 201


@dataclass
class Session:
    key: str
    api_key: str
    expires_at: float


@dataclass(frozen=True)
class Proof:
    """The verification a login, delete or regen request offers."""

    kind: str | None = None
    code: str | None = None
    secret: str | None = None
    method_id: int | None = None
    backup_code: str | None = None


@dataclass
class _Resolved:
    """What a :class:`Proof` verifies with (nothing consumed yet)."""

    backup_code: str | None = None
    factor: Method | EmailFactor | None = None
    challenge: Challenge | None = None
    code: str | None = None


class TfaModel:
    """Accounts, sessions, challenges and the outbox, and the rules over them."""

    def __init__(self, clock: Clock, *, session_ttl: float = SESSION_TTL,
                 demo_accounts: bool = True) -> None:
        self.clock = clock
        self.session_ttl = float(session_ttl)
        #: Every message sent, oldest first.
        self.outbox: Record[Message] = Record()
        #: Held around each API request; hold it to read or change several things at once.
        self.lock = threading.RLock()
        self._demo = demo_accounts
        self._accounts: dict[str, Account] = {}
        self._sessions: dict[str, Session] = {}
        self._challenges: dict[str, Challenge] = {}
        self._unannounced: list[Message] = []
        self.reset()

    def reset(self) -> None:
        """The demo accounts only (if any); no sessions, challenges or messages."""
        with self.lock:
            self._accounts.clear()
            self._sessions.clear()
            self._challenges.clear()
            self._unannounced.clear()
            self.outbox.clear()
            self._method_ids = _FIRST_METHOD_ID
            self._user_ids = _FIRST_USER_ID
            if self._demo:
                self._load_demo()

    def _load_demo(self) -> None:
        now = self.clock.now()
        self._put(Account(api_key=DEMO_KEYS["fresh"], user_id=1001, email="fresh@example.com",
                          username="fresh", model=self))
        multi = self._put(Account(api_key=DEMO_KEYS["multi"], user_id=1002, email="multi@example.com",
                                  username="multi", backup_codes=list(DEMO_BACKUP_CODES), model=self))
        multi.methods = [
            Method(id=101, user_id=1002, method="totp", label="authenticator",
                   secret=DEMO_TOTP_SECRET, created_at=now),
            Method(id=102, user_id=1002, method="sms", label="phone",
                   phone_number=DEMO_PHONES[102], is_primary=True, created_at=now),
            Method(id=103, user_id=1002, method="sms", label="backup phone",
                   phone_number=DEMO_PHONES[103], created_at=now),
        ]
        self._put(Account(api_key=DEMO_KEYS["unverified"], user_id=1003,
                          email="unverified@example.com", email_verified=False,
                          username="unverified", model=self))

    def _put(self, acct: Account) -> Account:
        self._accounts[acct.api_key] = acct
        return acct

    # -- accounts, methods, sessions -----------------------------------------

    def add_account(self, api_key: str | None = None, email: str = "user@example.com",
                    email_verified: bool = True, backup_codes: list[str] | None = None, *,
                    username: str | None = None, team: bool = False) -> Account:
        """Declare an account. ``api_key`` None: a random key. ``backup_codes``
        None: ten fresh codes; a list: exactly those (any length)."""
        with self.lock:
            key = api_key if api_key is not None else "test-" + secrets.token_hex(16)
            if key in self._accounts:
                raise ValueError(f"an account with api_key {key!r} already exists")
            uid = self._user_ids
            self._user_ids += 1
            codes = new_backup_codes() if backup_codes is None else list(backup_codes)
            return self._put(Account(
                api_key=key, user_id=uid, email=email, email_verified=email_verified,
                username=username or email.split("@")[0], backup_codes=codes, team=team, model=self))

    def account(self, key: str) -> Account:
        """The account of an API key (or of a session key); KeyError if none."""
        with self.lock:
            acct = self._accounts.get(key)
            if acct is None and key in self._sessions:
                acct = self._accounts.get(self._sessions[key].api_key)
            if acct is None:
                raise KeyError(key)
            return acct

    @property
    def accounts(self) -> list[Account]:
        with self.lock:
            return list(self._accounts.values())

    def add_method(self, acct: Account, kind: str, label: str, *, is_primary: bool = False,
                   phone_number: str | None = None, secret: str | None = None,
                   now: float | None = None) -> Method:
        """Give ``acct`` a method with the next id (a TOTP one gets a fresh secret
        unless one is given); the first method, or ``is_primary``, becomes primary."""
        with self.lock:
            if kind == "totp" and not secret:
                secret = totp.random_secret()
            m = Method(id=self._method_ids, user_id=acct.user_id, method=kind, label=label,
                       phone_number=phone_number, secret=secret,
                       created_at=self.clock.now() if now is None else now)
            self._method_ids += 1
            acct.methods.append(m)
            if is_primary or len(acct.methods) == 1:
                _make_primary(acct, m)
            return m

    def open_window(self, acct: Account, now: float | None = None,
                    seconds: float = WINDOW_SECONDS) -> None:
        """Open the add-method window for ``seconds`` from ``now`` (default: the clock's)."""
        with self.lock:
            acct.authorized_until = (self.clock.now() if now is None else now) + seconds

    def create_session(self, acct: Account, now: float | None = None) -> str:
        """A new session key for ``acct``, as a login returns."""
        with self.lock:
            key = "tfa-session-" + secrets.token_hex(24)
            start = self.clock.now() if now is None else now
            self._sessions[key] = Session(key, acct.api_key, start + self.session_ttl)
            return key

    def refresh_session(self, key: str, now: float) -> str:
        """Give a live session key a full life again from ``now``; returns it."""
        with self.lock:
            self._sessions[key].expires_at = now + self.session_ttl
            return key

    def caller(self, token: str, now: float, *, personal: bool = True) -> tuple[Account, bool]:
        """The account a bearer token acts for, and whether the token is a session key.
        An unknown key answers 401 "Invalid user key", an expired session 404;
        ``personal`` (the 2FA endpoints) refuses a team context."""
        acct, via_session = self._accounts.get(token), False
        session = self._sessions.get(token)
        if acct is None and session is not None:
            if now >= session.expires_at:
                raise ApiError("auth_error", "Session expired. Please log in again.", status=404)
            acct, via_session = self._accounts.get(session.api_key), True
        if acct is None:
            raise ApiError("auth_error", "Invalid user key")
        if personal and acct.team:
            raise ApiError("team_user_forbidden")
        return acct, via_session

    def totp_code(self, api_key: str, method_id: int | None = None) -> str:
        """The current code of an account's TOTP method (the only one if no id)."""
        acct = self.account(api_key)
        with self.lock:
            if method_id is None:
                totps = acct.methods_of("totp")
                if len(totps) != 1:
                    raise KeyError(f"account has {len(totps)} TOTP methods; pass method_id")
                m: Method | None = totps[0]
            else:
                m = acct.method(method_id)
            if m is None or m.method != "totp" or not m.secret:
                raise KeyError(f"no TOTP method {method_id} on that account")
            return totp.code_at(m.secret, self.clock.now())

    # -- the outbox ------------------------------------------------------------

    def messages(self, api_key: str | None = None, channel: str | None = None) -> list[Message]:
        """Messages in the outbox, oldest first, optionally filtered (a session
        key stands for its account)."""
        key = api_key
        if api_key is not None:
            try:
                key = self.account(api_key).api_key
            except KeyError:
                pass
        return [m for m in self.outbox
                if (key is None or m.api_key == key) and (channel is None or m.channel == channel)]

    def take_sent(self) -> list[Message]:
        """The messages sent since the last call (for an ``on_send`` hook)."""
        with self.lock:
            sent, self._unannounced = self._unannounced, []
            return sent

    def _send(self, acct: Account, channel: str, to: str, now: float) -> str:
        if channel == "sms" and to in SPECIAL_PHONES:
            raise ApiError(SPECIAL_PHONES[to])
        code = new_sent_code()
        text = (f"Your Vast.ai verification code is {code}. "
                f"It expires in {int(CODE_TTL // 60)} minutes.")
        msg = Message(channel, to, code, text, now, acct.api_key)
        self.outbox.append(msg)
        self._unannounced.append(msg)
        return code

    # -- shared pieces of the rules ----------------------------------------------

    @staticmethod
    def _require_verified_email(acct: Account) -> None:
        if not acct.email_verified:
            raise ApiError("email_not_verified", "Please verify your email address before using 2FA.")

    @staticmethod
    def _locked_error(factor: Method | EmailFactor) -> ApiError:
        return ApiError("tfa_locked",
                        f"Too many failed attempts; {factor.method} verification is locked "
                        "for 15 minutes.",
                        fail_count=factor.fail_count, locked_until=factor.locked_until)

    def _check_unlocked(self, factor: Method | EmailFactor, now: float) -> None:
        if factor.is_locked(now):
            raise self._locked_error(factor)

    def _fail(self, factor: Method | EmailFactor, now: float) -> None:
        """Count a wrong code and raise the matching error."""
        if factor.record_failure(now):
            raise self._locked_error(factor)
        left = factor.fail_limit - factor.fail_count
        raise ApiError("2fa_verification_failed",
                       f"Invalid 2FA code. {left} attempt(s) left before this method is locked.",
                       fail_count=factor.fail_count, locked_until=None)

    def _challenge(self, acct: Account, purpose: str, kind: str, now: float, *,
                   method_id: int | None = None, code: str | None = None, to: str | None = None,
                   secret: str | None = None, totp_secret: str | None = None) -> Challenge:
        ch = Challenge(secret=secret or new_challenge_secret(), api_key=acct.api_key,
                       purpose=purpose, kind=kind, method_id=method_id, code=code,
                       created_at=now, to=to, totp_secret=totp_secret)
        self._challenges[ch.secret] = ch
        return ch

    def _drop_challenge(self, ch: Challenge) -> None:
        self._challenges.pop(ch.secret, None)

    def _live_challenge(self, ch: Challenge, now: float) -> None:
        """Drop an expired challenge and answer ``2fa_expired``."""
        if ch.expired(now):
            self._drop_challenge(ch)
            raise ApiError("2fa_expired")

    def _start_code(self, acct: Account, factor: Method | EmailFactor, purpose: str,
                    now: float) -> Challenge:
        """Send (email/SMS) or expect (TOTP) a code for ``factor``."""
        self._check_unlocked(factor, now)
        if factor.method == "email":
            self._require_verified_email(acct)
            code = self._send(acct, "email", acct.email, now)
            return self._challenge(acct, purpose, "email", now, code=code, to=acct.email)
        if factor.method == "sms":
            self._require_verified_email(acct)
            code = self._send(acct, "sms", factor.phone_number or "", now)
            return self._challenge(acct, purpose, "sms", now, method_id=factor.id, code=code,
                                   to=factor.phone_number)
        return self._challenge(acct, purpose, "totp", now, method_id=factor.id)

    @staticmethod
    def _code_matches(code: str, *, expected: str | None = None,
                      totp_secret: str | None = None, now: float = 0.0) -> bool:
        code = code.replace(" ", "").strip()
        if totp_secret is not None:
            return code.isdigit() and totp.verify(totp_secret, code, now)
        if expected is None:
            return False
        return secrets.compare_digest(code.encode("utf-8"), expected.encode("utf-8"))

    def _factor_code_ok(self, factor: Method | EmailFactor, ch: Challenge | None, code: str,
                        now: float) -> bool:
        if factor.method == "totp":
            return self._code_matches(code, totp_secret=factor.secret, now=now)
        return self._code_matches(code, expected=ch.code if ch else None)

    @staticmethod
    def _factor_of(acct: Account, ch: Challenge) -> Method | EmailFactor | None:
        if ch.kind == "email":
            return acct.email_factor
        m = acct.method(ch.method_id) if ch.method_id is not None else None
        return m if (m is not None and m.method == ch.kind) else None

    @staticmethod
    def _only_method(acct: Account, kind: str) -> Method:
        found = acct.methods_of(kind)
        if not found:
            raise ApiError("not_found", f"No {kind} 2FA method is configured on this account.")
        if len(found) > 1:
            ids = ", ".join(str(m.id) for m in found)
            raise ApiError("bad_request",
                           f"This account has {len(found)} {kind} methods (ids {ids}); "
                           "pass tfa_method_id to choose one.")
        return found[0]

    @staticmethod
    def _method_of(acct: Account, method_id: int) -> Method:
        m = acct.method(method_id)
        if m is None:
            raise ApiError("not_found", f"No 2FA method with id {method_id} on this account.")
        return m

    @staticmethod
    def _consume_backup_code(acct: Account, code: str) -> bool:
        wanted = code.strip().upper()
        for i, c in enumerate(acct.backup_codes):
            if c.upper() == wanted:
                del acct.backup_codes[i]
                return True
        return False

    def _passed(self, factor: Method | EmailFactor, ch: Challenge | None, now: float) -> None:
        """A right code: the challenge is used up, the failure count starts again."""
        if ch is not None:
            self._drop_challenge(ch)
        factor.record_success(now)
        if isinstance(factor, Method):
            factor.last_used = now

    # -- authorize-new-method ------------------------------------------------------

    def start_authorization(self, acct: Account, now: float, *, kind: str | None = None,
                            method_id: int | None = None,
                            backup_code: str | None = None) -> Challenge | None:
        """Step 1: a challenge for the chosen factor, or None when a backup code
        opened the window at once. An account without methods always gets email."""
        if backup_code is not None:
            if not self._consume_backup_code(acct, backup_code):
                raise ApiError("invalid_backup_code")
            self.open_window(acct, now)
            return None
        factor: Method | EmailFactor
        if not acct.methods or kind == "email":
            factor = acct.email_factor
        elif kind is not None:
            factor = self._only_method(acct, kind)
        else:
            assert method_id is not None
            factor = self._method_of(acct, method_id)
        return self._start_code(acct, factor, "authorize", now)

    def finish_authorization(self, acct: Account, now: float, code: str, secret: str) -> None:
        """Step 2: the code of step 1's challenge opens the add-method window."""
        ch = self._challenges.get(secret)
        if ch is None or ch.api_key != acct.api_key or ch.purpose != "authorize":
            raise ApiError("no_pending_authorization")
        self._live_challenge(ch, now)
        factor = self._factor_of(acct, ch)
        if factor is None:  # the method was deleted meanwhile
            self._drop_challenge(ch)
            raise ApiError("no_pending_authorization")
        self._check_unlocked(factor, now)
        if not self._factor_code_ok(factor, ch, code, now):
            self._fail(factor, now)
        self._passed(factor, ch, now)
        self.open_window(acct, now)

    # -- status, email, sms, totp-setup, confirm-new ---------------------------------

    @staticmethod
    def refresh_locks(acct: Account, now: float) -> None:
        """Forget the expired locks of ``acct``'s methods (before showing them)."""
        for m in acct.methods:
            m.refresh(now)

    def send_email_code(self, acct: Account, now: float) -> Challenge:
        self._require_verified_email(acct)
        return self._start_code(acct, acct.email_factor, "verify", now)

    def send_setup_sms(self, acct: Account, now: float, phone: str) -> Challenge:
        """A code to a new phone, to confirm it as a method."""
        self._require_verified_email(acct)
        self._refuse_if_just_sent(acct, "setup", phone, now)
        code = self._send(acct, "sms", phone, now)
        return self._challenge(acct, "setup", "sms", now, code=code, to=phone)

    def send_method_sms(self, acct: Account, now: float, method_id: int | None = None) -> Challenge:
        """A code to an SMS method: ``method_id``, or the only (or primary) one."""
        if method_id is not None:
            m = self._method_of(acct, method_id)
            if m.method != "sms":
                raise ApiError("bad_request", f"Method {method_id} is not an SMS method.")
        else:
            sms = acct.methods_of("sms")
            if not sms:
                raise ApiError("bad_request", "'phone_number' or 'tfa_method_id' is required.")
            primary = acct.primary
            if len(sms) == 1:
                m = sms[0]
            elif primary is not None and primary.method == "sms":
                m = primary
            else:
                raise ApiError("bad_request", "This account has several SMS methods; "
                                              "pass tfa_method_id to choose one.")
        self._require_verified_email(acct)
        self._check_unlocked(m, now)
        self._refuse_if_just_sent(acct, "verify", m.phone_number, now)
        return self._start_code(acct, m, "verify", now)

    def _refuse_if_just_sent(self, acct: Account, purpose: str, to: str | None, now: float) -> None:
        for ch in self._challenges.values():
            if (ch.api_key == acct.api_key and ch.kind == "sms" and ch.purpose == purpose
                    and ch.to == to and now - ch.created_at < SMS_RESEND_GAP):
                raise ApiError("tfa_challenge_exists",
                               "A code was just sent to this number; use /tfa/sms/resend/ "
                               "with its secret.")

    def resend_sms(self, acct: Account, now: float, secret: str, phone: str | None = None,
                   method_id: int | None = None) -> Challenge:
        """A new code for an SMS challenge: the same secret finishes it, the old
        code stops working and the code's 10 minutes start again."""
        ch = self._challenges.get(secret)
        if ch is None or ch.api_key != acct.api_key or ch.kind != "sms":
            raise ApiError("challenge_not_found")
        if phone is not None and phone.strip() != ch.to:
            raise ApiError("bad_request", "'phone_number' does not match that challenge.")
        if method_id is not None and method_id != ch.method_id:
            raise ApiError("bad_request", "'tfa_method_id' does not match that challenge.")
        self._require_verified_email(acct)
        if ch.method_id is not None:
            m = acct.method(ch.method_id)
            if m is None:
                self._drop_challenge(ch)
                raise ApiError("challenge_not_found")
            self._check_unlocked(m, now)
        ch.code = self._send(acct, "sms", ch.to or "", now)
        ch.created_at = now
        return ch

    def start_totp_setup(self, acct: Account, now: float) -> Challenge:
        """A fresh TOTP secret to confirm (the challenge's ``totp_secret``)."""
        secret = totp.random_secret()
        return self._challenge(acct, "setup", "totp", now, secret=secret, totp_secret=secret)

    def confirm_new(self, acct: Account, now: float, kind: str, code: str, secret: str,
                    phone: str | None = None, label: str | None = None
                    ) -> tuple[Method, list[str] | None]:
        """Add the method a setup challenge was for; the new backup codes when it
        is the account's first method (else None)."""
        if not acct.window_open(now):
            raise ApiError("authorization_required")
        ch = self._challenges.get(secret)
        if ch is None or ch.api_key != acct.api_key or ch.purpose != "setup" or ch.kind != kind:
            raise ApiError("challenge_not_found")
        self._live_challenge(ch, now)
        if kind == "sms" and phone is not None and phone.strip() != ch.to:
            raise ApiError("bad_request", "'phone_number' does not match the number the code was sent to.")
        for m in acct.methods:
            if (kind == "sms" and m.method == "sms" and m.phone_number == ch.to) or \
               (kind == "totp" and m.method == "totp" and m.secret == ch.totp_secret):
                raise ApiError("duplicate_tfa_method",
                               f"That {kind} method is already configured (id {m.id}).")
        if kind == "totp":
            ok = self._code_matches(code, totp_secret=ch.totp_secret, now=now)
        else:
            ok = self._code_matches(code, expected=ch.code)
        if not ok:
            ch.fail_count += 1
            if ch.fail_count >= FAIL_LIMITS[kind]:
                self._drop_challenge(ch)
                msg = "Invalid 2FA code. Too many attempts: start the setup again."
            else:
                msg = "Invalid 2FA code."
            raise ApiError("2fa_verification_failed", msg, fail_count=ch.fail_count,
                           locked_until=None)
        self._drop_challenge(ch)
        first = not acct.methods
        method = self.add_method(acct, kind, label or ("phone" if kind == "sms" else "authenticator"),
                                 phone_number=ch.to if kind == "sms" else None,
                                 secret=ch.totp_secret if kind == "totp" else None, now=now)
        method.last_used = now
        if not first:
            return method, None
        acct.backup_codes = new_backup_codes()
        return method, list(acct.backup_codes)

    # -- login, delete, regen, update ----------------------------------------------------

    def _resolve(self, acct: Account, p: Proof, now: float) -> _Resolved:
        """What ``p`` verifies with; nothing is consumed yet."""
        if not acct.methods:
            raise ApiError("bad_request", "2FA is not enabled on this account.")
        if p.backup_code:
            return _Resolved(backup_code=p.backup_code)
        if not p.code:
            raise ApiError("missing_auth_value")

        factor: Method | EmailFactor | None = None
        if p.method_id is not None:
            factor = self._method_of(acct, p.method_id)
        elif p.kind == "totp":
            factor = self._only_method(acct, "totp")
        elif p.kind is None and not p.secret:
            primary = acct.primary
            totps = acct.methods_of("totp")
            if primary is not None and primary.method == "totp":
                factor = primary
            elif len(totps) == 1:
                factor = totps[0]
            else:
                raise ApiError("missing_params", "'secret' is required with an SMS or email code.")
        if factor is not None and factor.method == "totp":
            return _Resolved(factor=factor, code=p.code)

        if not p.secret:
            raise ApiError("missing_params", "'secret' is required with an SMS or email code.")
        ch = self._challenges.get(p.secret)
        if ch is None or ch.api_key != acct.api_key or ch.purpose != "verify":
            raise ApiError("challenge_not_found")
        if (p.kind is not None and ch.kind != p.kind) or (factor is not None and ch.method_id != factor.id):
            raise ApiError("challenge_not_found", "That secret belongs to a different 2FA method.")
        self._live_challenge(ch, now)
        factor = self._factor_of(acct, ch)
        if factor is None:
            self._drop_challenge(ch)
            raise ApiError("challenge_not_found")
        return _Resolved(factor=factor, challenge=ch, code=p.code)

    def _check(self, acct: Account, r: _Resolved, now: float) -> None:
        """Verify (and consume) what :meth:`_resolve` found."""
        if r.backup_code is not None:
            if not self._consume_backup_code(acct, r.backup_code):
                raise ApiError("invalid_backup_code")
            return
        assert r.factor is not None and r.code is not None
        self._check_unlocked(r.factor, now)
        if not self._factor_code_ok(r.factor, r.challenge, r.code, now):
            self._fail(r.factor, now)
        self._passed(r.factor, r.challenge, now)

    def verify(self, acct: Account, now: float, proof: Proof) -> None:
        """Check (and consume) a proof: a backup code, or a method's code."""
        self._check(acct, self._resolve(acct, proof, now), now)

    def delete_method(self, acct: Account, now: float, proof: Proof,
                      target_id: int | None = None) -> int:
        """Remove ``target_id`` (default: the method the proof used); returns how
        many methods remain (none: 2FA is off and the backup codes are gone)."""
        if target_id is not None:
            self._method_of(acct, target_id)
        r = self._resolve(acct, proof, now)
        if target_id is None:
            if r.backup_code is not None:
                raise ApiError("bad_request", "'target_id' is required with a backup code.")
            if not isinstance(r.factor, Method):
                raise ApiError("bad_request", "'target_id' is required: which method to remove?")
            target_id = r.factor.id
        self._check(acct, r, now)
        target = self._method_of(acct, target_id)
        acct.methods.remove(target)
        for ch in list(self._challenges.values()):
            if ch.api_key == acct.api_key and ch.method_id == target_id:
                self._drop_challenge(ch)
        if not acct.methods:
            acct.backup_codes = []
        elif target.is_primary:
            acct.methods[0].is_primary = True
        return len(acct.methods)

    def regen_backup_codes(self, acct: Account, now: float, proof: Proof) -> list[str]:
        """Ten new backup codes in place of the old ones."""
        self.verify(acct, now, proof)
        acct.backup_codes = new_backup_codes()
        return list(acct.backup_codes)

    def update_method(self, acct: Account, method_id: int, label: str | None = None,
                      is_primary: bool | None = None) -> Method:
        m = self._method_of(acct, method_id)
        if label is not None:
            m.label = label
        if is_primary is True:
            _make_primary(acct, m)
        elif is_primary is False:
            m.is_primary = False
        return m


def _make_primary(acct: Account, m: Method) -> None:
    for other in acct.methods:
        other.is_primary = other is m
