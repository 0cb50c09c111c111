"""The 2FA endpoints over HTTP: paths, bodies and field types in, JSON answers out.

:class:`TfaApi` routes a request, checks the caller's ``Authorization`` and
the body's fields, calls the :class:`~vast_magic.emulator.model.TfaModel`
under its lock, and renders the answer: the JSON object of a 200, or an
:class:`~vast_magic.emulator.errors.ApiError` as ``{"error": code, "msg":
text, ...extra}`` with its status. No sockets here, and no rules. Besides the
2FA API, it answers the two requests the official CLI makes on every run
(:data:`SUPPORT_ROUTES`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import totp
from .errors import ApiError
from .model import Proof, TfaModel
from .state import Account, mask_email, mask_phone

PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_LABEL = 30
KINDS = ("email", "sms", "totp")
AUTH_OK = {"success": True, "msg": "Authorization successful."}


@dataclass
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, obj: Any, headers: list[tuple[str, str]] | tuple = ()) -> Response:
    body = json.dumps(obj).encode("utf-8")
    return Response(status, body, [("Content-Type", "application/json"), *headers])


def error_response(e: ApiError) -> Response:
    return json_response(e.status, e.payload(), e.headers)


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


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "a boolean", float: "a number"}


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


def field_of(body: dict[str, Any], name: str, typ: type) -> Any:
    """``body[name]`` checked against ``typ`` (None when absent or null); a
    ``float`` field takes any JSON number."""
    v = body.get(name)
    if v is None:
        return None
    if typ is float:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        v = float(v) if ok else v
    elif typ is int:
        ok = isinstance(v, int) and not isinstance(v, bool)
    else:
        ok = isinstance(v, typ)
    if not ok:
        raise ApiError("bad_request", f"'{name}' must be {_TYPE_NAMES[typ]}, not {_json_type(v)}.")
    return v


def method_id_of(body: dict[str, Any]) -> int | None:
    """``tfa_method_id``: an integer, as documented, or a numeric string such as
    ``"42"`` (what the official CLI sends), which the service accepts too."""
    v = body.get("tfa_method_id")
    if not isinstance(v, str):
        return field_of(body, "tfa_method_id", int)
    if not (v.isascii() and v.isdigit() and len(v) <= 18):
        raise ApiError("bad_request", "'tfa_method_id' must be an integer (or a string of digits).")
    return int(v)


def _known_kind(kind: str | None) -> str | None:
    """A ``tfa_method`` must be one the API knows."""
    if kind is not None and kind not in KINDS:
        raise ApiError("invalid_tfa_method",
                       f"Unsupported tfa_method {kind!r}; use one of: email, sms, totp.")
    return kind


def _proof_of(body: dict[str, Any]) -> Proof:
    """The verification fields of a login, delete or regen body."""
    kind = field_of(body, "tfa_method", str)
    proof = Proof(kind=kind, code=field_of(body, "code", str), secret=field_of(body, "secret", str),
                  method_id=method_id_of(body), backup_code=field_of(body, "backup_code", str))
    _known_kind(kind)
    return proof


def api_path(path: str) -> str:
    """``/api/v0/tfa/status`` and ``/tfa/status/`` both -> ``/tfa/status/``."""
    if path == "/api/v0" or path.startswith("/api/v0/"):
        path = path[len("/api/v0"):] or "/"
    if not path.endswith("/"):
        path += "/"
    return path


#: What the official CLI asks besides the 2FA API (answered minimally, never faulted):
#: the account before every command, and the GPU names at import (without auth).
SUPPORT_ROUTES: dict[str, dict[str, str]] = {
    "/users/current/": {"GET": "current_user"},
    "/gpu_names/unique/": {"GET": "gpu_names"},
}
NO_AUTH = frozenset({"gpu_names"})

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
    **SUPPORT_ROUTES,
}


def is_support_path(path: str) -> bool:
    """Whether ``path`` is one of :data:`SUPPORT_ROUTES` (not the 2FA API)."""
    return api_path(path) in SUPPORT_ROUTES


def user_json(acct: Account) -> dict[str, Any]:
    """The user object (``/users/current``, and what a login answers with)."""
    return {"id": acct.user_id, "username": acct.username, "email": acct.email,
            "email_verified": acct.email_verified, "tfa_enabled": bool(acct.methods)}


def _bearer_token(headers: Any) -> str:
    value = headers.get("Authorization")
    if not value or not value.strip():
        raise ApiError("auth_error", "Missing API key: send 'Authorization: Bearer <key>'.")
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError("auth_error", "Malformed Authorization header; expected 'Bearer <key>'.")
    return token


@dataclass
class Ctx:
    account: Account
    token: str  # what the caller sent: its API key or a session key
    via_session: bool
    body: dict[str, Any]
    now: float


class TfaApi:
    def __init__(self, model: TfaModel) -> None:
        self.model = model

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
            if name in NO_AUTH:
                return json_response(200, getattr(self, "do_" + name)())
            with self.model.lock:
                now = self.model.clock.now()
                token = _bearer_token(headers)
                acct, via_session = self.model.caller(token, now,
                                                      personal=not is_support_path(path))
                body = parse_json_object(raw)
                result = getattr(self, "do_" + name)(Ctx(acct, token, via_session, body, now))
            return json_response(200, result)
        except ApiError as e:
            return error_response(e)

    # -- authorize-new-method ------------------------------------------------

    def do_authorize_start(self, c: Ctx) -> dict[str, Any]:
        b = c.body
        given = [k for k in ("tfa_method", "tfa_method_id", "backup_code") if b.get(k) is not None]
        if len(given) != 1:
            raise ApiError("bad_request", "Send exactly one of 'tfa_method', 'tfa_method_id' "
                                          f"or 'backup_code' (got {len(given)}).")
        ch = self.model.start_authorization(c.account, c.now, kind=_known_kind(field_of(b, "tfa_method", str)),
                                            method_id=method_id_of(b),
                                            backup_code=field_of(b, "backup_code", str))
        return dict(AUTH_OK) if ch is None else {"success": True, "secret": ch.secret}

    def do_authorize_finish(self, c: Ctx) -> dict[str, Any]:
        code = field_of(c.body, "code", str)
        secret = field_of(c.body, "secret", str)
        if not code or not secret:
            raise ApiError("missing_params")
        self.model.finish_authorization(c.account, c.now, code, secret)
        return dict(AUTH_OK)

    # -- status, email, sms, totp-setup, confirm-new ---------------------------

    def do_status(self, c: Ctx) -> dict[str, Any]:
        acct = c.account
        self.model.refresh_locks(acct, c.now)
        return {
            "success": True,
            "tfa_enabled": bool(acct.methods),
            "methods": [m.to_json() for m in acct.methods],
            "backup_codes_remaining": len(acct.backup_codes),
            "new_method_authorized": acct.window_open(c.now),
        }

    def do_email(self, c: Ctx) -> dict[str, Any]:
        ch = self.model.send_email_code(c.account, c.now)
        return {"success": True, "msg": f"Verification code sent to {mask_email(c.account.email)}.",
                "secret": ch.secret}

    def do_sms(self, c: Ctx) -> dict[str, Any]:
        phone = field_of(c.body, "phone_number", str)
        method_id = method_id_of(c.body)
        if phone is not None and method_id is not None:
            raise ApiError("bad_request", "Pass either 'phone_number' or 'tfa_method_id', not both.")
        if phone is not None:
            phone = phone.strip()
            if not PHONE_RE.match(phone):
                raise ApiError("bad_request", "'phone_number' must be in E.164 form, e.g. +15551234567.")
            ch = self.model.send_setup_sms(c.account, c.now, phone)
        else:
            ch = self.model.send_method_sms(c.account, c.now, method_id)
        return {"msg": f"SMS sent to {mask_phone(ch.to)}.", "secret": ch.secret}

    def do_sms_resend(self, c: Ctx) -> dict[str, Any]:
        secret = field_of(c.body, "secret", str)
        phone = field_of(c.body, "phone_number", str)
        method_id = method_id_of(c.body)
        if not secret:
            raise ApiError("missing_params", "'secret' (from the first SMS) is required.")
        ch = self.model.resend_sms(c.account, c.now, secret, phone, method_id)
        return {"msg": f"SMS re-sent to {mask_phone(ch.to)}.", "secret": ch.secret}

    def do_totp_setup(self, c: Ctx) -> dict[str, Any]:
        secret = self.model.start_totp_setup(c.account, c.now).secret
        return {"secret": secret, "provisioning_uri": totp.provisioning_uri(secret, c.account.email)}

    def do_confirm_new(self, c: Ctx) -> dict[str, Any]:
        b = c.body
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
        method, backup_codes = self.model.confirm_new(c.account, c.now, kind, code, secret, phone, label)
        result: dict[str, Any] = {
            "success": True,
            "msg": f"{'SMS' if kind == 'sms' else 'TOTP'} 2FA method added.",
            "method": method.to_json(),
        }
        if backup_codes is not None:
            result["backup_codes"] = backup_codes
        return result

    # -- what the CLI asks besides 2FA ------------------------------------------

    def do_current_user(self, c: Ctx) -> dict[str, Any]:
        return user_json(c.account)

    def do_gpu_names(self) -> dict[str, Any]:
        return {"gpu_names": []}

    # -- login, delete, regen, update -------------------------------------------

    def do_login(self, c: Ctx) -> dict[str, Any]:
        acct, proof = c.account, _proof_of(c.body)
        self.model.verify(acct, c.now, proof)
        result = user_json(acct)
        if c.via_session:  # a caller already in a session gets that key back, refreshed
            result["session_key"] = self.model.refresh_session(c.token, c.now)
        else:
            result["session_key"] = self.model.create_session(acct, c.now)
        if proof.backup_code and acct.backup_codes:
            result["backup_codes_remaining"] = len(acct.backup_codes)
        return result

    def do_delete(self, c: Ctx) -> dict[str, Any]:
        target_id = field_of(c.body, "target_id", int)
        left = self.model.delete_method(c.account, c.now, _proof_of(c.body), target_id)
        if not left:
            return {"msg": "2FA Successfully Disabled"}
        return {"msg": "2FA method removed", "remaining_methods": left}

    def do_regen_backup_codes(self, c: Ctx) -> dict[str, Any]:
        codes = self.model.regen_backup_codes(c.account, c.now, _proof_of(c.body))
        return {"msg": "success", "backup_codes": codes}

    def do_update(self, c: Ctx) -> dict[str, Any]:
        b = c.body
        method_id = method_id_of(b)
        label = field_of(b, "label", str)
        is_primary = field_of(b, "is_primary", bool)
        if method_id is None:
            raise ApiError("bad_request", "'tfa_method_id' is required.")
        if label is not None:
            label = label.strip()
            if not label or len(label) > MAX_LABEL:
                raise ApiError("bad_request", f"'label' must be 1 to {MAX_LABEL} characters.")
        m = self.model.update_method(c.account, method_id, label, is_primary)
        return {"success": True, "msg": "2FA method updated.", "method": m.to_json()}
