"""What the commands that verify with a 2FA method share (auth-new today; login,
delete and regen-codes take the same options): the method lookup before a
step 1 that names a method, and the next steps for refusals about methods."""

from __future__ import annotations

from ..api import tfa
from ..api.errors import Locked, Refusal, VastError, WrongCode
from ..constants import METHOD_TYPES

_SMS_TROUBLE = ("sms_rate_limited", "twilio_rate_limited", "preauth_phone_cap")
_OTHER_WAY = "Verify another way: `-t email`, `-t totp` or `--backup-code CODE`"


def lookup_methods(client) -> dict | None:
    """The account's methods as {id: "sms"/"totp"} ({} when it has none), or None
    if they cannot be told.

    Asked before a step 1 that names a method, so the prompt can name it, the
    failures are counted against its own limit, and an account with no method
    yet (where the server emails the code whatever was asked) is told so. The
    request is safe; any trouble with it is left for step 1 to report.
    """
    try:  # one attempt: step 1 reports (and retries) any trouble with the server
        methods = tfa.status(client, attempts=1).get("methods")
    except VastError:
        return None
    if not isinstance(methods, list):
        return None
    kinds = {m["id"]: m["method"] for m in methods if _readable(m)}
    if methods and not kinds:
        return None  # methods we cannot read: tell nothing rather than "none"
    return kinds


def _readable(method) -> bool:
    """A method entry whose id is a whole number and whose kind is one we know."""
    return (isinstance(method, dict) and type(method.get("id")) is int
            and method.get("method") in METHOD_TYPES)


def other_ways(method: str | None) -> str:
    """The ways to verify that do not use the method in trouble."""
    ways = [f"`-t {kind}`" for kind in ("email", "totp", "sms") if kind != method]
    return ("Meanwhile you can verify another way: " + ", ".join(ways)
            + ", `--method-id ID` (ids from `%vast tfa status`) or `--backup-code CODE`.")


def advice(exc: VastError, command: str) -> list[str]:
    """Next steps for a refusal about the method verified with; ``command``
    starts the verification again."""
    if not isinstance(exc, Refusal):
        return []
    code = exc.code
    if isinstance(exc, Locked) or (isinstance(exc, WrongCode) and exc.locked()):
        return [other_ways(exc.method)]
    if code == "not_found" and exc.method_id is not None:
        return ["`%vast tfa status` lists your methods and their ids."]
    if code == "not_found" and exc.method in ("sms", "totp"):
        return ["`%vast tfa status` lists the methods you have; "
                f"`{command}` (email) works for every verified account."]
    if code == "email_not_verified":
        return ["Verify it in the Vast.ai console (Account settings), then start again. "
                "Meanwhile an authenticator app (`-t totp`) or a backup code "
                "(`--backup-code CODE`) still work."]
    if code == "invalid_backup_code":
        return [f"Check it for typos, use another one, or verify with a code: `{command} -t "
                "totp` (or -t sms, or email)."]
    if code == "invalid_tfa_method":
        return ["Use -t email, -t sms or -t totp."]
    if code in _SMS_TROUBLE:
        return ["Wait a while, or verify without SMS: `-t email`, `-t totp` or "
                "`--backup-code CODE`."]
    if code in ("twilio_error", "sms_blocked_number"):
        return [_OTHER_WAY + "."]
    if code == "sms_fraud_detected":
        return [_OTHER_WAY + "; contact Vast.ai support to restore SMS."]
    if code == "bad_request" and "method_id" in exc.server_words:
        return ["`%vast tfa status` lists your methods; choose one with --method-id ID."]
    return []
