"""The 2FA endpoints: request in, JSON answer out (no sockets here).

Every handler runs under the emulator's lock and either returns the JSON
object of a 200 answer or raises :class:`ApiError`, which becomes
``{"error": code, "msg": text, ...extra}`` with the status of the reference's
error table (:data:`ERRORS`).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyotp

from .state import (
    CODE_TTL,
    FAIL_LIMITS,
    SMS_RESEND_GAP,
    WINDOW_SECONDS,
    Account,
    Challenge,
    EmailFactor,
    Message,
    Method,
    mask_email,
    mask_phone,
    new_backup_codes,
    new_challenge_secret,
    new_sent_code,
)

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator

#: error code -> (HTTP status, default message). The first block is the
#: reference's table; the last entries are the emulator's own HTTP-level errors.
ERRORS: dict[str, tuple[int, str]] = {
    "bad_request": (400, "Invalid request."),
    "auth_error": (403, "Invalid user key"),
    "invalid_tfa_method": (400, "Unsupported 2FA method; use one of: email, sms, totp."),
    "missing_auth_value": (400, "A 2FA code or a backup code is required."),
    "missing_params": (400, "Both 'code' and 'secret' are required."),
    "email_not_verified": (400, "Please verify your email address before using 2FA."),
    "2fa_expired": (400, "The 2FA code has expired. Please request a new one."),
    "challenge_not_found": (400, "No 2FA challenge found for that secret."),
    "no_pending_authorization": (400, "No pending authorization for that secret. Start again with step 1."),
    "authorization_required": (403, "Adding a 2FA method needs a recent authorization (tfa auth-new)."),
    "invalid_backup_code": (401, "Invalid or already used backup code."),
    "tfa_challenge_exists": (400, "A code was just sent to this number; use resend."),
    "duplicate_tfa_method": (400, "That 2FA method is already configured."),
    "2fa_verification_failed": (400, "Invalid 2FA code."),
    "tfa_locked": (429, "Too many failed attempts; this 2FA method is locked for 15 minutes."),
    "sms_rate_limited": (429, "Too many SMS requests. Please try again later."),
    "twilio_rate_limited": (429, "The SMS provider is rate limiting. Please try again later."),
    "preauth_phone_cap": (429, "Too many SMS to this phone number. Please try again later."),
    "not_found": (404, "2FA method not found."),
    "team_user_forbidden": (403, "2FA is personal: it cannot be managed from a team context."),
    "service_unavailable": (503, "Service temporarily unavailable. Please retry."),
    "challenge_creation_failed": (500, "Could not create the 2FA challenge. Please retry."),
    "twilio_error": (400, "The SMS could not be sent to that number."),
    "sms_blocked_number": (400, "SMS to that number is blocked."),
    "sms_fraud_detected": (403, "SMS 2FA is disabled on this account."),
    # not in the reference's table: HTTP-level answers of the emulator
    "method_not_allowed": (405, "Method not allowed."),
    "internal_error": (500, "Internal error in the emulator."),
}

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

PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_LABEL = 30
AUTH_OK = {"success": True, "msg": "Authorization successful."}


class ApiError(Exception):
    """An error answer: ``{"error": error, "msg": msg, **extra}`` with ``status``."""

    def __init__(self, error: str, msg: str | None = None, *, status: int | None = None,
                 headers: list[tuple[str, str]] | None = None, **extra: Any) -> None:
        default_status, default_msg = ERRORS.get(error, (400, error))
        self.error = error
        self.msg = msg or default_msg
        self.status = status or default_status
        self.headers = headers or []
        self.extra = extra
        super().__init__(f"{self.status} {error}: {self.msg}")

    def payload(self) -> dict[str, Any]:
        return {"error": self.error, "msg": self.msg, **self.extra}

    def response(self) -> Response:
        return json_response(self.status, self.payload(), self.headers)


@dataclass
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, obj: Any, headers: list[tuple[str, str]] | tuple = ()) -> Response:
    body = json.dumps(obj).encode("utf-8")
    return Response(status, body, [("Content-Type", "application/json"), *headers])


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; an empty body counts as ``{}``."""
    if not raw.strip():
        return {}
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError("bad_request", "The request body is not valid JSON.") from None
    if not isinstance(obj, dict):
        raise ApiError("bad_request", "The request body must be a JSON object.")
    return obj


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "a boolean"}


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def _check_kind(kind: str | None) -> None:
    """A ``tfa_method`` value must be one the API knows."""
    if kind is not None and kind not in ("email", "sms", "totp"):
        raise ApiError("invalid_tfa_method",
                       f"Unsupported tfa_method {kind!r}; use one of: email, sms, totp.")


def field_of(body: dict[str, Any], name: str, typ: type) -> Any:
    """``body[name]`` checked against ``typ`` (None when absent or null)."""
    v = body.get(name)
    if v is None:
        return None
    if typ is int:
        ok = isinstance(v, int) and not isinstance(v, bool)
    else:
        ok = isinstance(v, typ)
    if not ok:
        raise ApiError("bad_request", f"'{name}' must be {_TYPE_NAMES[typ]}, not {_json_type(v)}.")
    return v


def api_path(path: str) -> str:
    """``/api/v0/tfa/status`` and ``/tfa/status/`` both -> ``/tfa/status/``."""
    if path == "/api/v0" or path.startswith("/api/v0/"):
        path = path[len("/api/v0"):] or "/"
    if not path.endswith("/"):
        path += "/"
    return path


ROUTES: dict[str, dict[str, str]] = {
    "/tfa/authorize-new-method/": {"POST": "authorize_start", "PUT": "authorize_finish"},
    "/tfa/status/": {"GET": "status"},
    "/tfa/email/": {"POST": "email"},
    "/tfa/sms/": {"POST": "sms"},
    "/tfa/sms/resend/": {"POST": "sms_resend"},
    "/tfa/totp-setup/": {"POST": "totp_setup"},
    "/tfa/confirm-new/": {"POST": "confirm_new"},
    "/tfa/": {"POST": "login", "DELETE": "delete"},
    "/tfa/regen-backup-codes/": {"PUT": "regen_backup_codes"},
    "/tfa/update/": {"PUT": "update"},
}


@dataclass
class Ctx:
    account: Account
    via_session: bool
    body: dict[str, Any]
    now: float


@dataclass
class _Resolved:
    """What a login/delete/regen body asks to verify with (nothing consumed yet)."""

    backup_code: str | None = None
    factor: Method | EmailFactor | None = None
    challenge: Challenge | None = None
    code: str | None = None


class TfaApi:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    # -- entry point -----------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> Response:
        try:
            route = ROUTES.get(api_path(path))
            if route is None:
                raise ApiError("not_found", f"No such endpoint: {path}")
            name = route.get(method)
            if name is None:
                allow = ", ".join(route)
                raise ApiError("method_not_allowed", f"{method} is not allowed on {path}; use {allow}.",
                               headers=[("Allow", allow)])
            with self.emu._lock:
                now = self.emu.clock.now()
                acct, via_session = self._authenticate(headers, now)
                if acct.team:
                    raise ApiError("team_user_forbidden")
                body = parse_json_object(raw)
                result = getattr(self, "do_" + name)(Ctx(acct, via_session, body, now))
            return json_response(200, result)
        except ApiError as e:
            return e.response()

    # -- shared pieces ---------------------------------------------------

    def _authenticate(self, headers: Any, now: float) -> tuple[Account, bool]:
        value = headers.get("Authorization")
        if not value or not value.strip():
            raise ApiError("auth_error", "Missing API key: send 'Authorization: Bearer <key>'.")
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError("auth_error", "Malformed Authorization header; expected 'Bearer <key>'.")
        acct = self.emu._accounts.get(token)
        if acct is not None:
            return acct, False
        session = self.emu._sessions.get(token)
        if session is not None:
            if now >= session.expires_at:
                raise ApiError("auth_error", "Session expired. Please log in again.", status=404)
            acct = self.emu._accounts.get(session.api_key)
            if acct is not None:
                return acct, True
        raise ApiError("auth_error", "Invalid user key")

    @staticmethod
    def _require_verified_email(acct: Account) -> None:
        if not acct.email_verified:
            raise ApiError("email_not_verified",
                           "Please verify your email address before using 2FA.")

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

    def _send(self, acct: Account, channel: str, to: str, now: float) -> str:
        if channel == "sms" and to in SPECIAL_PHONES:
            raise ApiError(SPECIAL_PHONES[to])
        code = new_sent_code()
        minutes = int(CODE_TTL // 60)
        text = f"Your Vast.ai verification code is {code}. It expires in {minutes} minutes."
        self.emu._deliver(Message(channel, to, code, text, now, acct.api_key))
        return code

    def _challenge(self, acct: Account, purpose: str, kind: str, now: float, *,
                   method_id: int | None = None, code: str | None = None, to: str | None = None,
                   secret: str | None = None, totp_secret: str | None = None) -> Challenge:
        ch = Challenge(secret=secret or new_challenge_secret(), api_key=acct.api_key,
                       purpose=purpose, kind=kind, method_id=method_id, code=code,
                       created_at=now, to=to, totp_secret=totp_secret)
        self.emu._challenges[ch.secret] = ch
        return ch

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
            if not code.isdigit():
                return False
            return pyotp.TOTP(totp_secret).verify(code, for_time=now, valid_window=1)
        if expected is None:
            return False
        return secrets.compare_digest(code.encode("utf-8"), expected.encode("utf-8"))

    def _factor_code_ok(self, factor: Method | EmailFactor, ch: Challenge | None, code: str,
                        now: float) -> bool:
        if factor.method == "totp":
            return self._code_matches(code, totp_secret=factor.secret, now=now)
        return self._code_matches(code, expected=ch.code if ch else None)

    def _factor_of(self, acct: Account, ch: Challenge) -> Method | EmailFactor | None:
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
    def _consume_backup_code(acct: Account, code: str) -> bool:
        wanted = code.strip().upper()
        for i, c in enumerate(acct.backup_codes):
            if c.upper() == wanted:
                del acct.backup_codes[i]
                return True
        return False

    def _drop_challenge(self, ch: Challenge) -> None:
        self.emu._challenges.pop(ch.secret, None)

    # -- authorize-new-method ------------------------------------------------

    def do_authorize_start(self, c: Ctx) -> dict[str, Any]:
        acct, b, now = c.account, c.body, c.now
        given = [k for k in ("tfa_method", "tfa_method_id", "backup_code") if b.get(k) is not None]
        if len(given) != 1:
            raise ApiError("bad_request", "Send exactly one of 'tfa_method', 'tfa_method_id' "
                                          f"or 'backup_code' (got {len(given)}).")
        tfa_method = field_of(b, "tfa_method", str)
        method_id = field_of(b, "tfa_method_id", int)
        backup_code = field_of(b, "backup_code", str)
        _check_kind(tfa_method)

        if backup_code is not None:
            if not self._consume_backup_code(acct, backup_code):
                raise ApiError("invalid_backup_code")
            acct.authorized_until = now + WINDOW_SECONDS
            return dict(AUTH_OK)

        factor: Method | EmailFactor
        if not acct.methods or tfa_method == "email":
            factor = acct.email_factor  # no method yet: the server forces email
        elif tfa_method is not None:
            factor = self._only_method(acct, tfa_method)
        else:
            m = acct.method(method_id)
            if m is None:
                raise ApiError("not_found", f"No 2FA method with id {method_id} on this account.")
            factor = m
        ch = self._start_code(acct, factor, "authorize", now)
        return {"success": True, "secret": ch.secret}

    def do_authorize_finish(self, c: Ctx) -> dict[str, Any]:
        acct, b, now = c.account, c.body, c.now
        code = field_of(b, "code", str)
        secret = field_of(b, "secret", str)
        if not code or not secret:
            raise ApiError("missing_params")
        ch = self.emu._challenges.get(secret)
        if ch is None or ch.api_key != acct.api_key or ch.purpose != "authorize":
            raise ApiError("no_pending_authorization")
        if ch.expired(now):
            self._drop_challenge(ch)
            raise ApiError("2fa_expired")
        factor = self._factor_of(acct, ch)
        if factor is None:  # the method was deleted meanwhile
            self._drop_challenge(ch)
            raise ApiError("no_pending_authorization")
        self._check_unlocked(factor, now)
        if not self._factor_code_ok(factor, ch, code, now):
            self._fail(factor, now)
        self._drop_challenge(ch)
        factor.record_success(now)
        if isinstance(factor, Method):
            factor.last_used = now
        acct.authorized_until = now + WINDOW_SECONDS
        return dict(AUTH_OK)

    # -- status, email, sms, totp-setup, confirm-new ---------------------------

    def do_status(self, c: Ctx) -> dict[str, Any]:
        acct, now = c.account, c.now
        for m in acct.methods:
            m.refresh(now)
        return {
            "success": True,
            "tfa_enabled": bool(acct.methods),
            "methods": [m.to_json() for m in acct.methods],
            "backup_codes_remaining": len(acct.backup_codes),
            "new_method_authorized": acct.window_open(now),
        }

    def do_email(self, c: Ctx) -> dict[str, Any]:
        acct, now = c.account, c.now
        self._require_verified_email(acct)
        ch = self._start_code(acct, acct.email_factor, "verify", now)
        return {"success": True, "msg": f"Verification code sent to {mask_email(acct.email)}.",
                "secret": ch.secret}

    def do_sms(self, c: Ctx) -> dict[str, Any]:
        acct, b, now = c.account, c.body, c.now
        phone = field_of(b, "phone_number", str)
        method_id = field_of(b, "tfa_method_id", int)
        if phone is not None and method_id is not None:
            raise ApiError("bad_request", "Pass either 'phone_number' or 'tfa_method_id', not both.")
        if phone is not None:
            phone = phone.strip()
            if not PHONE_RE.match(phone):
                raise ApiError("bad_request",
                               "'phone_number' must be in E.164 form, e.g. +15551234567.")
            self._require_verified_email(acct)
            self._refuse_if_just_sent(acct, "setup", phone, now)
            code = self._send(acct, "sms", phone, now)
            ch = self._challenge(acct, "setup", "sms", now, code=code, to=phone)
            return {"msg": f"SMS sent to {mask_phone(phone)}.", "secret": ch.secret}

        if method_id is not None:
            m = acct.method(method_id)
            if m is None:
                raise ApiError("not_found", f"No 2FA method with id {method_id} on this account.")
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
        ch = self._start_code(acct, m, "verify", now)
        return {"msg": f"SMS sent to {mask_phone(m.phone_number)}.", "secret": ch.secret}

    def _refuse_if_just_sent(self, acct: Account, purpose: str, to: str | None, now: float) -> None:
        for ch in self.emu._challenges.values():
            if (ch.api_key == acct.api_key and ch.kind == "sms" and ch.purpose == purpose
                    and ch.to == to and now - ch.created_at < SMS_RESEND_GAP):
                raise ApiError("tfa_challenge_exists",
                               "A code was just sent to this number; use /tfa/sms/resend/ "
                               "with its secret.")

    def do_sms_resend(self, c: Ctx) -> dict[str, Any]:
        acct, b, now = c.account, c.body, c.now
        secret = field_of(b, "secret", str)
        phone = field_of(b, "phone_number", str)
        method_id = field_of(b, "tfa_method_id", int)
        if not secret:
            raise ApiError("missing_params", "'secret' (from the first SMS) is required.")
        ch = self.emu._challenges.get(secret)
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
        code = self._send(acct, "sms", ch.to or "", now)
        self._drop_challenge(ch)
        new = self._challenge(acct, ch.purpose, "sms", now, method_id=ch.method_id, code=code,
                              to=ch.to)
        return {"msg": f"SMS re-sent to {mask_phone(ch.to)}.", "secret": new.secret}

    def do_totp_setup(self, c: Ctx) -> dict[str, Any]:
        acct, now = c.account, c.now
        secret = pyotp.random_base32()
        uri = pyotp.TOTP(secret).provisioning_uri(name=acct.email, issuer_name="Vast.ai")
        self._challenge(acct, "setup", "totp", now, secret=secret, totp_secret=secret)
        return {"secret": secret, "provisioning_uri": uri}

    def do_confirm_new(self, c: Ctx) -> dict[str, Any]:
        acct, b, now = c.account, c.body, c.now
        kind = field_of(b, "tfa_method", str)
        code = field_of(b, "code", str)
        secret = field_of(b, "secret", str)
        phone = field_of(b, "phone_number", str)
        label = field_of(b, "label", str)
        if kind is None:
            raise ApiError("bad_request", "'tfa_method' is required (sms or totp).")
        if kind not in ("sms", "totp"):
            raise ApiError("invalid_tfa_method",
                           f"Unsupported tfa_method {kind!r} for a new method; use sms or totp.")
        if not code or not secret:
            raise ApiError("missing_params")
        if label is not None:
            label = label.strip()
            if len(label) > MAX_LABEL:
                raise ApiError("bad_request", f"'label' must be at most {MAX_LABEL} characters.")
        if not acct.window_open(now):
            raise ApiError("authorization_required")
        ch = self.emu._challenges.get(secret)
        if ch is None or ch.api_key != acct.api_key or ch.purpose != "setup" or ch.kind != kind:
            raise ApiError("challenge_not_found")
        if ch.expired(now):
            self._drop_challenge(ch)
            raise ApiError("2fa_expired")
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
        method = Method(id=self.emu._next_method_id(), user_id=acct.user_id, method=kind,
                        label=label or ("phone" if kind == "sms" else "authenticator"),
                        phone_number=ch.to if kind == "sms" else None,
                        secret=ch.totp_secret if kind == "totp" else None,
                        created_at=now, last_used=now)
        acct._insert(method, first)
        result: dict[str, Any] = {
            "success": True,
            "msg": f"{'SMS' if kind == 'sms' else 'TOTP'} 2FA method added.",
            "method": method.to_json(),
        }
        if first:
            acct.backup_codes = new_backup_codes()
            result["backup_codes"] = list(acct.backup_codes)
        return result

    # -- login, delete, regen, update -------------------------------------------

    def _resolve(self, acct: Account, b: dict[str, Any], now: float) -> _Resolved:
        """Validate the verification fields; nothing is consumed yet."""
        kind = field_of(b, "tfa_method", str)
        code = field_of(b, "code", str)
        secret = field_of(b, "secret", str)
        method_id = field_of(b, "tfa_method_id", int)
        backup_code = field_of(b, "backup_code", str)
        _check_kind(kind)
        if not acct.methods:
            raise ApiError("bad_request", "2FA is not enabled on this account.")
        if backup_code:
            return _Resolved(backup_code=backup_code)
        if not code:
            raise ApiError("missing_auth_value")

        factor: Method | EmailFactor | None = None
        if method_id is not None:
            factor = acct.method(method_id)
            if factor is None:
                raise ApiError("not_found", f"No 2FA method with id {method_id} on this account.")
        elif kind == "totp":
            factor = self._only_method(acct, "totp")
        elif kind is None and not secret:
            primary = acct.primary
            totps = acct.methods_of("totp")
            if primary is not None and primary.method == "totp":
                factor = primary
            elif len(totps) == 1:
                factor = totps[0]
            else:
                raise ApiError("missing_params", "'secret' is required with an SMS or email code.")
        if factor is not None and factor.method == "totp":
            return _Resolved(factor=factor, code=code)

        if not secret:
            raise ApiError("missing_params", "'secret' is required with an SMS or email code.")
        ch = self.emu._challenges.get(secret)
        if ch is None or ch.api_key != acct.api_key or ch.purpose != "verify":
            raise ApiError("challenge_not_found")
        if (kind is not None and ch.kind != kind) or (factor is not None and ch.method_id != factor.id):
            raise ApiError("challenge_not_found", "That secret belongs to a different 2FA method.")
        if ch.expired(now):
            self._drop_challenge(ch)
            raise ApiError("2fa_expired")
        factor = self._factor_of(acct, ch)
        if factor is None:
            self._drop_challenge(ch)
            raise ApiError("challenge_not_found")
        return _Resolved(factor=factor, challenge=ch, code=code)

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
        if r.challenge is not None:
            self._drop_challenge(r.challenge)
        r.factor.record_success(now)
        if isinstance(r.factor, Method):
            r.factor.last_used = now

    def do_login(self, c: Ctx) -> dict[str, Any]:
        acct, now = c.account, c.now
        r = self._resolve(acct, c.body, now)
        self._check(acct, r, now)
        result: dict[str, Any] = {
            "id": acct.user_id,
            "username": acct.username,
            "email": acct.email,
            "email_verified": acct.email_verified,
            "tfa_enabled": bool(acct.methods),
        }
        if not c.via_session:
            result["session_key"] = self.emu._new_session(acct, now)
        if r.backup_code is not None and acct.backup_codes:
            result["backup_codes_remaining"] = len(acct.backup_codes)
        return result

    def do_delete(self, c: Ctx) -> dict[str, Any]:
        acct, b, now = c.account, c.body, c.now
        target_id = field_of(b, "target_id", int)
        if target_id is not None and acct.method(target_id) is None:
            raise ApiError("not_found", f"No 2FA method with id {target_id} on this account.")
        r = self._resolve(acct, b, now)
        if target_id is None:
            if r.backup_code is not None:
                raise ApiError("bad_request", "'target_id' is required with a backup code.")
            if not isinstance(r.factor, Method):
                raise ApiError("bad_request", "'target_id' is required: which method to remove?")
            target_id = r.factor.id
        self._check(acct, r, now)
        target = acct.method(target_id)
        assert target is not None
        acct.methods.remove(target)
        for ch in list(self.emu._challenges.values()):
            if ch.api_key == acct.api_key and ch.method_id == target_id:
                self._drop_challenge(ch)
        if not acct.methods:
            acct.backup_codes = []
            return {"msg": "2FA Successfully Disabled"}
        if target.is_primary:
            acct.methods[0].is_primary = True
        return {"msg": "2FA method removed", "remaining_methods": len(acct.methods)}

    def do_regen_backup_codes(self, c: Ctx) -> dict[str, Any]:
        acct, now = c.account, c.now
        r = self._resolve(acct, c.body, now)
        self._check(acct, r, now)
        acct.backup_codes = new_backup_codes()
        return {"msg": "success", "backup_codes": list(acct.backup_codes)}

    def do_update(self, c: Ctx) -> dict[str, Any]:
        acct, b = c.account, c.body
        method_id = field_of(b, "tfa_method_id", int)
        label = field_of(b, "label", str)
        is_primary = field_of(b, "is_primary", bool)
        if method_id is None:
            raise ApiError("bad_request", "'tfa_method_id' is required.")
        if label is not None:
            label = label.strip()
            if not label or len(label) > MAX_LABEL:
                raise ApiError("bad_request", f"'label' must be 1 to {MAX_LABEL} characters.")
        m = acct.method(method_id)
        if m is None:
            raise ApiError("not_found", f"No 2FA method with id {method_id} on this account.")
        if label is not None:
            m.label = label
        if is_primary is True:
            for other in acct.methods:
                other.is_primary = False
            m.is_primary = True
        elif is_primary is False:
            m.is_primary = False
        return {"success": True, "msg": "2FA method updated.", "method": m.to_json()}
