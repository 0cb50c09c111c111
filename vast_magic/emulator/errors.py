"""The API's error table and the exception that carries one of its codes.

Imports nothing: the model raises these errors, the HTTP layers turn them into
``{"error": code, "msg": text, ...extra}`` answers.
"""

from __future__ import annotations

from typing import Any

#: error code -> (HTTP status, default message). The first block is the
#: reference's table; the last entries are the emulator's own HTTP-level errors.
ERRORS: dict[str, tuple[int, str]] = {
    "bad_request": (400, "Invalid request."),
    "auth_error": (401, "Invalid user key"),
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


class ApiError(Exception):
    """An error answer: ``{"error": error, "msg": msg, **extra}`` with ``status``
    (by default the table's) and extra ``headers``."""

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
