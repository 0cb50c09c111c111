"""The emulator's own HTTP side-door under ``/_emulator/`` (never clashes with
``/api/v0/...`` or ``/tfa/...``). Not logged, never faulted, no auth.

=======  ===============================  =============================================
GET      /_emulator/                      index: demo keys and this list
GET      /_emulator/outbox                sent messages (``?api_key=``, ``?channel=``)
GET      /_emulator/outbox/last           newest matching message + its code (404 if none)
DELETE   /_emulator/outbox                empty the outbox
GET      /_emulator/log                   logged API requests
DELETE   /_emulator/log                   empty the log
GET      /_emulator/clock                 ``{"now", "frozen"}``
POST     /_emulator/clock/advance         ``{"seconds": 601}``
POST     /_emulator/clock/set             ``{"now": epoch}``
POST     /_emulator/clock/reset           back to real time
POST     /_emulator/fail-next             ``{"n", "status", "body", "retry_after", "delay", "drop", "error", "msg",
                                          "content_type"}``
DELETE   /_emulator/faults                drop queued faults
POST     /_emulator/reset                 demo accounts only, everything else empty
GET      /_emulator/accounts              every account (full phones, TOTP secrets, backup codes)
GET      /_emulator/accounts/<api_key>    one account
POST     /_emulator/accounts              declare one: ``{"api_key"?, "email"?, "email_verified"?,
                                          "backup_codes"?, "team"?, "methods"?: [{"method": "sms",
                                          "phone_number", "label"?, "is_primary"?} | {"method": "totp",
                                          "secret"?, "label"?, "is_primary"?}]}``
GET      /_emulator/totp                  ``?api_key=&method_id=``: the code an app shows now
=======  ===============================  =============================================

Arguments the emulator refuses (a non-finite clock move, a fault that could
not be sent as a well-formed answer) answer 400 ``bad_request``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar
from urllib.parse import parse_qs

from .api import Response, error_response, field_of, json_response, parse_json_object
from .errors import ApiError
from .model import DEMO_KEYS

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator
    from .state import Account

PREFIX = "/_emulator"
T = TypeVar("T")

ROUTES = [
    ("GET", "/_emulator/"), ("GET", "/_emulator/outbox"), ("GET", "/_emulator/outbox/last"),
    ("DELETE", "/_emulator/outbox"), ("GET", "/_emulator/log"), ("DELETE", "/_emulator/log"),
    ("GET", "/_emulator/clock"), ("POST", "/_emulator/clock/advance"),
    ("POST", "/_emulator/clock/set"), ("POST", "/_emulator/clock/reset"),
    ("POST", "/_emulator/fail-next"), ("DELETE", "/_emulator/faults"),
    ("POST", "/_emulator/reset"), ("GET", "/_emulator/accounts"),
    ("GET", "/_emulator/accounts/<api_key>"), ("POST", "/_emulator/accounts"),
    ("GET", "/_emulator/totp"),
]


def account_json(acct: Account, now: float) -> dict[str, Any]:
    return {
        "api_key": acct.api_key,
        "user_id": acct.user_id,
        "email": acct.email,
        "email_verified": acct.email_verified,
        "team": acct.team,
        "backup_codes": list(acct.backup_codes),
        "new_method_authorized": acct.window_open(now),
        "authorized_until": acct.authorized_until,
        "methods": [{**m.to_json(), "phone_number": m.phone_number, "secret": m.secret}
                    for m in acct.methods],
    }


def handle(emu: Emulator, method: str, path: str, query: str, raw: bytes) -> Response:
    try:
        return _handle(emu, method, path.rstrip("/") or "/", parse_qs(query), raw)
    except ApiError as e:
        return error_response(e)


def _q(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _handle(emu: Emulator, method: str, path: str, params: dict[str, list[str]],
            raw: bytes) -> Response:
    ok = {"success": True}
    if path == PREFIX:
        _allow(method, "GET")
        return json_response(200, {
            "emulator": "Vast.ai 2FA API", "url": emu.url, "api": emu.url + "/api/v0/tfa/",
            "demo_keys": dict(DEMO_KEYS), "routes": [f"{m} {p}" for m, p in ROUTES]})

    if path == PREFIX + "/outbox":
        _allow(method, "GET", "DELETE")
        if method == "DELETE":
            emu.outbox.clear()
            return json_response(200, ok)
        msgs = emu.messages(_q(params, "api_key"), _q(params, "channel"))
        return json_response(200, [m.to_json() for m in msgs])

    if path == PREFIX + "/outbox/last":
        _allow(method, "GET")
        msg = emu.last_message(_q(params, "api_key"), _q(params, "channel"))
        if msg is None:
            raise ApiError("not_found", "No matching message in the outbox.")
        return json_response(200, {"code": msg.code, "message": msg.to_json()})

    if path == PREFIX + "/log":
        _allow(method, "GET", "DELETE")
        if method == "DELETE":
            emu.log.clear()
            return json_response(200, ok)
        return json_response(200, [r.to_json() for r in emu.log])

    if path == PREFIX + "/clock":
        _allow(method, "GET")
        return json_response(200, {"now": emu.clock.now(), "frozen": emu.clock.frozen})

    if path.startswith(PREFIX + "/clock/"):
        _allow(method, "POST")
        body = parse_json_object(raw)
        action = path[len(PREFIX + "/clock/"):]
        if action == "advance":
            seconds = body.get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise ApiError("bad_request", "'seconds' (a number) is required.")
            return json_response(200, {"now": _checked(emu.clock.advance, seconds)})
        if action == "set":
            now = body.get("now")
            if isinstance(now, bool) or not isinstance(now, (int, float)):
                raise ApiError("bad_request", "'now' (epoch seconds) is required.")
            return json_response(200, {"now": _checked(emu.clock.set, now)})
        if action == "reset":
            emu.clock.reset()
            return json_response(200, {"now": emu.clock.now()})
        raise ApiError("not_found", f"No such emulator route: {path}")

    if path == PREFIX + "/fail-next":
        _allow(method, "POST")
        body = parse_json_object(raw)
        kwargs: dict[str, Any] = {}
        for name, typ in (("n", int), ("status", int), ("body", str), ("delay", float),
                          ("drop", bool), ("error", str), ("msg", str), ("content_type", str)):
            if body.get(name) is not None:
                kwargs[name] = field_of(body, name, typ)
        if body.get("retry_after") is not None:
            ra = body["retry_after"]
            if isinstance(ra, bool) or not isinstance(ra, (int, float, str)):
                raise ApiError("bad_request", "'retry_after' must be a number or a string.")
            kwargs["retry_after"] = ra
        _checked(emu.fail_next, **kwargs)
        return json_response(200, {"success": True, "pending_faults": emu.pending_faults})

    if path == PREFIX + "/faults":
        _allow(method, "DELETE")
        emu.clear_faults()
        return json_response(200, ok)

    if path == PREFIX + "/reset":
        _allow(method, "POST")
        emu.reset()
        return json_response(200, ok)

    if path == PREFIX + "/accounts":
        _allow(method, "GET", "POST")
        if method == "GET":
            now = emu.clock.now()
            with emu.model.lock:
                return json_response(200, [account_json(a, now) for a in emu.accounts])
        return json_response(200, _create_account(emu, parse_json_object(raw)))

    if path.startswith(PREFIX + "/accounts/"):
        _allow(method, "GET")
        key = path[len(PREFIX + "/accounts/"):]
        try:
            acct = emu.account(key)
        except KeyError:
            raise ApiError("not_found", "No account with that API key.") from None
        with emu.model.lock:
            return json_response(200, account_json(acct, emu.clock.now()))

    if path == PREFIX + "/totp":
        _allow(method, "GET")
        key = _q(params, "api_key")
        if not key:
            raise ApiError("bad_request", "'api_key' is required.")
        mid = _q(params, "method_id")
        try:
            code = emu.totp_code(key, int(mid) if mid else None)
        except ValueError:
            raise ApiError("bad_request", "'method_id' must be an integer.") from None
        except KeyError as e:
            raise ApiError("not_found", str(e.args[0]) if e.args else "not found") from None
        return json_response(200, {"code": code})

    raise ApiError("not_found", f"No such emulator route: {path}")


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise ApiError("method_not_allowed", f"{method} is not allowed here; use {', '.join(allowed)}.",
                       headers=[("Allow", ", ".join(allowed))])


def _checked(f: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``f(...)``, with a ValueError (an argument the emulator refuses) as a 400."""
    try:
        return f(*args, **kwargs)
    except ValueError as e:
        raise ApiError("bad_request", str(e)) from None


def _create_account(emu: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    api_key = field_of(body, "api_key", str)
    email = field_of(body, "email", str) or "user@example.com"
    verified = field_of(body, "email_verified", bool)
    team = field_of(body, "team", bool) or False
    codes = body.get("backup_codes")
    if codes is not None and not (isinstance(codes, list) and all(isinstance(c, str) for c in codes)):
        raise ApiError("bad_request", "'backup_codes' must be a list of strings.")
    methods = body.get("methods") or []
    if not isinstance(methods, list) or not all(isinstance(m, dict) for m in methods):
        raise ApiError("bad_request", "'methods' must be a list of objects.")
    for m in methods:
        if m.get("method") not in ("sms", "totp"):
            raise ApiError("invalid_tfa_method", "Each method needs \"method\": \"sms\" or \"totp\".")
        if m["method"] == "sms" and not isinstance(m.get("phone_number"), str):
            raise ApiError("bad_request", "An sms method needs 'phone_number'.")
        for name, typ in (("label", str), ("secret", str), ("is_primary", bool)):
            field_of(m, name, typ)
    acct = _checked(emu.add_account, api_key, email, True if verified is None else verified, codes,
                    team=team)
    for m in methods:
        primary = bool(m.get("is_primary"))
        if m["method"] == "sms":
            acct.add_sms(m["phone_number"], m.get("label") or "phone", primary)
        else:
            acct.add_totp(m.get("label") or "authenticator", m.get("secret"), primary)
    with emu.model.lock:
        return account_json(acct, emu.clock.now())
