"""One function per REST endpoint of the Vast 2FA API (see the API reference).

Each takes a :class:`~vast_magic.api.client.Client` and plain values and
returns the server's answer as a dict, or raises a
:class:`~vast_magic.api.errors.VastError`.  A request that may send a code or
spend one is marked ``unsafe`` (see :func:`~vast_magic.api.client.should_retry`).
"""

from __future__ import annotations

from .errors import BadAnswer

AUTHORIZE = "/tfa/authorize-new-method/"
STATUS = "/tfa/status/"


def secret_of(data: dict) -> str:
    """The challenge secret of a step 1 answer; BadAnswer when there is none."""
    secret = data.get("secret")
    if not isinstance(secret, str) or not secret:
        raise BadAnswer("The server accepted step 1 but sent no challenge secret back.",
                        code="bad_answer", data=data)
    return secret


def authorize_new_method(client, body: dict, *, method: str | None = None,
                         method_id: int | None = None) -> dict:
    """``POST /tfa/authorize-new-method/``: step 1 with ``{"tfa_method"}``,
    ``{"tfa_method_id"}`` (a challenge secret comes back) or ``{"backup_code"}``
    (authorized at once)."""
    return client.call("POST", AUTHORIZE, body, unsafe=True,
                       context={"method": method, "method_id": method_id, "step": 1,
                                "noun": "authorization"})


def finish_authorize_new_method(client, *, secret: str, code: str,
                                method: str | None = None) -> dict:
    """``PUT /tfa/authorize-new-method/ {"code", "secret"}``: step 2."""
    return client.call("PUT", AUTHORIZE, {"code": code, "secret": secret}, unsafe=True,
                       context={"method": method, "noun": "authorization"})


def status(client, *, attempts: int | None = None) -> dict:
    """``GET /tfa/status/``: 2FA on or off, the methods, the backup codes left."""
    data = client.call("GET", STATUS, attempts=attempts)
    methods = data.get("methods") or []
    if not isinstance(methods, list) or not all(isinstance(m, dict) for m in methods):
        raise BadAnswer("The server's status answer has an unexpected shape ('methods' is not "
                        "a list of methods).", code="bad_answer", data=data)
    return data


def send_email(client) -> dict:
    """``POST /tfa/email/ {}``: email a code; the answer's secret finishes it."""
    return client.call("POST", "/tfa/email/", {}, unsafe=True,
                       context={"method": "email", "step": 1, "noun": "verification"})


def send_sms(client, *, phone_number: str | None = None,
             method_id: int | None = None) -> dict:
    """``POST /tfa/sms/``: text a code, to a new number (``phone_number``: adding
    it) or to a configured method; the answer's secret finishes it."""
    body = {k: v for k, v in (("phone_number", phone_number), ("tfa_method_id", method_id))
            if v is not None}
    return client.call("POST", "/tfa/sms/", body, unsafe=True,
                       context={"method": "sms", "method_id": method_id, "step": 1,
                                "noun": "SMS challenge"})


def resend_sms(client, *, secret: str, phone_number: str | None = None,
               method_id: int | None = None) -> dict:
    """``POST /tfa/sms/resend/``: text the code again; the original secret stays
    the one to finish with."""
    body = {"secret": secret, **{k: v for k, v in (("phone_number", phone_number),
                                                   ("tfa_method_id", method_id))
                                 if v is not None}}
    return client.call("POST", "/tfa/sms/resend/", body, unsafe=True,
                       context={"method": "sms", "method_id": method_id, "step": 1,
                                "noun": "SMS challenge"})


def totp_setup(client) -> dict:
    """``POST /tfa/totp-setup/ {}``: a new base32 secret and its ``otpauth://`` URI
    (nothing is sent to anyone, so it may be repeated)."""
    data = client.call("POST", "/tfa/totp-setup/", {})
    if not isinstance(data.get("secret"), str) or not data["secret"] \
            or not isinstance(data.get("provisioning_uri"), str):
        raise BadAnswer("The server's totp-setup answer has no secret or provisioning URI.",
                        code="bad_answer", data=data)
    return data


def confirm_new(client, *, tfa_method: str, code: str, secret: str,
                phone_number: str | None = None, label: str | None = None) -> dict:
    """``POST /tfa/confirm-new/``: activate a new method with the code it shows;
    ``backup_codes`` come back when it is the account's first method."""
    body = {"tfa_method": tfa_method, "code": code, "secret": secret}
    body.update({k: v for k, v in (("phone_number", phone_number), ("label", label))
                 if v is not None})
    return client.call("POST", "/tfa/confirm-new/", body, unsafe=True,
                       context={"method": tfa_method, "noun": "setup"})


def _verifying(method: str | None, method_id: int | None) -> dict:
    """The error context of a request that spends a verification code."""
    return {"method": method, "method_id": method_id, "noun": "verification"}


def login(client, fields: dict, *, method: str | None = None,
          method_id: int | None = None) -> dict:
    """``POST /tfa/`` with the verification fields: the user, and ``session_key``."""
    data = client.call("POST", "/tfa/", fields, unsafe=True,
                       context=_verifying(method, method_id))
    if not isinstance(data.get("session_key"), str) or not data["session_key"]:
        raise BadAnswer("The server accepted the login but sent no session key back.",
                        code="bad_answer", data=data)
    return data


def delete(client, fields: dict, *, target_id: int, method: str | None = None,
           method_id: int | None = None) -> dict:
    """``DELETE /tfa/`` with ``target_id`` and the verification fields."""
    return client.call("DELETE", "/tfa/", {"target_id": target_id, **fields}, unsafe=True,
                       context=_verifying(method, method_id))


def regen_backup_codes(client, fields: dict, *, method: str | None = None,
                       method_id: int | None = None) -> dict:
    """``PUT /tfa/regen-backup-codes/``: ten new backup codes; the old ones stop working."""
    data = client.call("PUT", "/tfa/regen-backup-codes/", fields, unsafe=True,
                       context=_verifying(method, method_id))
    codes = data.get("backup_codes")
    if not isinstance(codes, list) or not codes:
        raise BadAnswer("The server accepted the request but sent no backup codes back.",
                        code="bad_answer", data=data)
    return data


def update(client, method_id: int, *, label: str | None = None,
           is_primary: bool | None = None) -> dict:
    """``PUT /tfa/update/ {"tfa_method_id", "label"?, "is_primary"?}`` (safe to repeat)."""
    body = {"tfa_method_id": method_id,
            **{k: v for k, v in (("label", label), ("is_primary", is_primary)) if v is not None}}
    return client.call("PUT", "/tfa/update/", body, context={"method_id": method_id})
