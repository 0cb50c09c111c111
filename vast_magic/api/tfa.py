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
