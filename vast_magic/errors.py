"""One place for the user-facing words about errors.

Every documented error code of the Vast 2FA API maps to a short message and
the next step, in ``%vast`` form.  :class:`VastError` renders as those lines
only: IPython calls ``_render_traceback_`` instead of printing a Python
traceback, and the cell still fails, so "Run All" stops.
"""

from __future__ import annotations

import time

AUTH_NEW = "%vast tfa auth-new"
FAIL_LIMITS = {"sms": 3, "totp": 5}
LOCK_MINUTES = 15
CODE_LIFE_MINUTES = 10


class VastError(Exception):
    """A refusal or a failure the user can act on: a message, then next steps.

    ``code`` is the server's error code (or a local one such as
    ``connection_refused``), ``status`` the HTTP status if there was one and
    ``data`` the server's JSON answer (what ``--raw`` shows).
    """

    def __init__(self, message: str, hints: list[str] | tuple[str, ...] = (), *,
                 code: str | None = None, status: int | None = None,
                 data: dict | None = None):
        super().__init__(message)
        self.message = message
        self.hints = list(hints)
        self.code = code
        self.status = status
        self.data = data

    def lines(self) -> list[str]:
        return [self.message, *self.hints]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines in place of a traceback.
        return ["VastError: " + self.message, *("  " + h for h in self.hints)]


def format_duration(seconds: float) -> str:
    """``14 min 5 s``, ``45 s``; never negative."""
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def _method_words(method: str | None) -> str:
    return {"sms": "this SMS method", "totp": "this authenticator app",
            "email": "email verification"}.get(method or "", "this method")


def _other_ways(method: str | None) -> str:
    """The ways to verify that do not use the method in trouble."""
    ways = {"email": "`-t email`", "totp": "`-t totp`", "sms": "`-t sms`"}
    ways.pop(method or "", None)
    return ("Meanwhile you can verify another way: " + ", ".join(ways.values())
            + ", `--method-id ID` (ids from `%vast tfa status`) or `--backup-code CODE`.")


def _lock_sentence(locked_until, now: float) -> str:
    if not isinstance(locked_until, (int, float)):
        return f"It is locked for a while (locks last {LOCK_MINUTES} minutes)."
    left = locked_until - now
    if left <= 0:
        return "The lock has just ended: you may try again now."
    return f"It stays locked for {format_duration(left)} more."


def _attempts_sentence(fail_count, method: str | None, server_words: str) -> str:
    """Failures so far and, where the limit is documented (SMS, TOTP), how many remain."""
    if not isinstance(fail_count, int) or isinstance(fail_count, bool):
        return "The code was wrong."
    limit = FAIL_LIMITS.get(method or "")
    plural = "s" if fail_count != 1 else ""
    if limit:
        left = max(0, limit - fail_count)
        return (f"Wrong code: {fail_count} failed attempt{plural} of {limit}; "
                f"{left} left before {_method_words(method)} locks for {LOCK_MINUTES} minutes.")
    # No documented limit (email, or a method id of unknown type): the server's words.
    said = f" (the server says: {server_words})" if server_words else ""
    return (f"Wrong code: {fail_count} failed attempt{plural} so far{said}; too many lock "
            f"this method for {LOCK_MINUTES} minutes.")


_OTHER_WAY = "Verify another way: `-t email`, `-t totp` or `--backup-code CODE`"

#: Error codes whose words do not depend on the answer beyond the server's
#: own text ({detail}): code -> (what happened, what to do next).
MESSAGES = {
    "email_not_verified": (
        "Your account's email address is not verified; the server sends no code (by email "
        "or SMS) until it is.",
        "Verify it in the Vast.ai console (Account settings), then start again. Meanwhile an "
        "authenticator app (`-t totp`) or a backup code (`--backup-code CODE`) still work."),
    "invalid_backup_code": (
        "That backup code is unknown or was already used (each works once).",
        f"Check it for typos, use another one, or verify with a code: `{AUTH_NEW} -t totp` "
        "(or -t sms, or email)."),
    "invalid_tfa_method": (
        "The server does not support that 2FA method{detail}.",
        "Use -t email, -t sms or -t totp."),
    "authorization_required": (
        "Adding a 2FA method needs a recent authorization (it lasts 30 minutes).",
        f"Authorize first: {AUTH_NEW}"),
    "duplicate_tfa_method": (
        "That 2FA method is already set up on your account.",
        "`%vast tfa status` shows your methods."),
    "tfa_challenge_exists": (
        "A code was sent by SMS moments ago; wait for it before asking again.",
        "If it does not arrive, ask for it to be sent again in a minute."),
    "sms_rate_limited": ("Too many SMS messages were sent recently{detail}.",
                         "Wait a while, or verify without SMS: `-t email`, `-t totp` or "
                         "`--backup-code CODE`."),
    "twilio_error": ("The SMS could not be sent to that number{detail}.", _OTHER_WAY + "."),
    "sms_fraud_detected": ("SMS is disabled on this account.",
                           _OTHER_WAY + "; contact Vast.ai support to restore SMS."),
    "team_user_forbidden": ("2FA is personal, but this key acts in a team context.",
                            "Use your personal API key (`%vast set api-key`)."),
    "service_unavailable": ("The Vast.ai service is temporarily unable to answer{detail}.",
                            "Nothing is lost; try again in a minute (more attempts: --retry N)."),
}
MESSAGES["twilio_rate_limited"] = MESSAGES["preauth_phone_cap"] = MESSAGES["sms_rate_limited"]
MESSAGES["sms_blocked_number"] = MESSAGES["twilio_error"]
MESSAGES["challenge_creation_failed"] = MESSAGES["service_unavailable"]


def from_answer(status: int, data: dict, *, method: str | None = None,
                key_source: str | None = None, method_id: int | None = None,
                step: int = 2, now: float | None = None) -> VastError:
    """Turn a JSON error answer into a VastError with a message and next steps.

    ``method`` is what the user verified with (email/sms/totp, if known), so
    the attempts left can be counted against the documented limits; ``step``
    is 1 for the request that starts an authorization, 2 for the code.
    """
    now = time.time() if now is None else now
    code = data.get("error") if isinstance(data.get("error"), str) else None
    msg = str(data.get("msg") or data.get("message") or "").strip().rstrip(".")
    fail_count = data.get("fail_count")
    locked_until = data.get("locked_until")
    start_again = f"Start again: {AUTH_NEW}"
    other_way = _other_ways(method)
    where = f" (from {key_source})" if key_source else ""

    def err(message, *hints):
        return VastError(message, hints, code=code, status=status, data=data)

    if code == "2fa_verification_failed":
        attempts = _attempts_sentence(fail_count, method, msg)
        if isinstance(locked_until, (int, float)) and locked_until > now:
            return err(attempts + " " + _lock_sentence(locked_until, now), other_way)
        return err(attempts,
                   f"The pending authorization is kept. Try again: {AUTH_NEW} --code CODE")
    if code == "tfa_locked":
        count = (f" after {fail_count} failed attempts"
                 if isinstance(fail_count, int) and not isinstance(fail_count, bool) else "")
        after = ("When the lock ends, start again" if step == 1 else
                 f"A code lives {CODE_LIFE_MINUTES} minutes and the lock {LOCK_MINUTES}, so when "
                 "the lock ends, start again")
        return err(f"Too many wrong codes: {_method_words(method)} is locked{count}. "
                   + _lock_sentence(locked_until, now), f"{after}: {AUTH_NEW}", other_way)
    if code == "2fa_expired":
        return err(f"The code expired (codes are valid for {CODE_LIFE_MINUTES} minutes); "
                   "the pending authorization was cleared.", start_again)
    if code in ("no_pending_authorization", "challenge_not_found"):
        return err("The server has no pending authorization for this secret (it was already "
                   "used, has expired, or never existed); it was cleared here too.", start_again)
    if code == "auth_error" or (status in (401, 404) and "session" in msg.lower()) \
            or (status == 401 and "invalid user key" in msg.lower()):
        if "session" in msg.lower():
            return err(f"Your 2FA session key{where} has expired.",
                       "Log in again, or remove it so your API key is used.")
        return err(f"The server did not accept your API key{where}.",
                   "Check it, or store the right one with `%vast set api-key` "
                   "(or pass --api-key / set VAST_API_KEY).")
    if code == "not_found":
        if method_id is not None:
            return err(f"This account has no 2FA method with id {method_id}.",
                       "`%vast tfa status` lists your methods and their ids.")
        if method in ("sms", "totp"):
            return err(f"This account has no {'SMS' if method == 'sms' else 'authenticator'} "
                       "method.", "`%vast tfa status` lists the methods you have; "
                       f"`{AUTH_NEW}` (email) works for every verified account.")
        return err(f"Not found: {msg or 'the server has no such resource'}.",
                   "Check --url: it should be the Vast.ai console address.")
    if code in MESSAGES:
        message, hint = MESSAGES[code]
        return err(message.format(detail=f": {msg}" if msg else ""), hint)
    if code == "bad_request":
        hints = []
        if "tfa_method_id" in msg or "method_id" in msg:
            hints.append("`%vast tfa status` lists your methods; choose one with --method-id ID.")
        else:
            hints.append("If this persists, report it with the output of --explain "
                         "(it hides your key and secrets).")
        return err(f"The server refused the request: {msg or 'malformed request'}.", *hints)
    if code in ("missing_params", "missing_auth_value"):
        return err(f"The server says a value is missing: {msg or code}.",
                   f"Finish with `{AUTH_NEW} --code CODE` (the pending secret is used).")
    label = f"{code}, HTTP {status}" if code else f"HTTP {status}"
    return err(f"The server refused the request ({label}){': ' + msg if msg else ''}.",
               "Run it again with --explain to see the exchange.")
