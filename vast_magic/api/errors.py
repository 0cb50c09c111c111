"""What went wrong, as error types: no IPython, and no advice naming a command.

::

    VastError                 a failure the user can act on: message, then hints
     ├── TransportError       no usable answer came (refused, lost, timed out, TLS, proxy)
     ├── BadAnswer            an answer that is not the API's (an HTML page, a wrong shape)
     └── Refusal              the server answered with one of its error codes
          ├── WrongCode       2fa_verification_failed (locked_until set: it also locked)
          ├── Locked          tfa_locked
          ├── ChallengeGone   2fa_expired, challenge_not_found, no_pending_authorization
          └── BadKey          the API key or 2FA session key was not accepted

The messages say what happened.  What to do next depends on the command and
on where it runs, so the hints are added by the caller
(:mod:`vast_magic.advice`, and each command for its own next step).
"""

from __future__ import annotations

import math
import re
import time
import unicodedata

from ..constants import CODE_LIFE_MINUTES, FAIL_LIMITS, LOCK_MINUTES


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

    def advise(self, *hints: str) -> VastError:
        """Add next steps (empty ones are skipped); returns the error, to raise."""
        self.hints += [h for h in hints if h]
        return self

    def lines(self) -> list[str]:
        return [self.message, *self.hints]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines in place of a traceback, wrapped for the screen.
        from ..wrap import wrap  # display only: the API layer itself never wraps

        return [wrap(line, indent="  ") for line in
                ["VastError: " + self.message, *("  " + h for h in self.hints)]]


class TransportError(VastError):
    """No usable answer came.  ``may_have_acted``: the request may have reached
    the server and done its work (sent a code, spent one) before the failure."""

    def __init__(self, message: str, *, code: str, may_have_acted: bool = False):
        super().__init__(message, code=code)
        self.may_have_acted = may_have_acted


class BadAnswer(VastError):
    """The server answered, but not as the API does."""


class Refusal(VastError):
    """The server refused with an API error code.

    ``method`` and ``method_id`` say what the user verified with (when known),
    ``step`` is 1 for a request that starts a challenge, 2 for the code.
    """

    def __init__(self, message: str, *, code: str | None, status: int, data: dict,
                 method: str | None = None, method_id: int | None = None, step: int = 2):
        super().__init__(message, code=code, status=status, data=data)
        self.method = method
        self.method_id = method_id
        self.step = step
        self.server_words = _server_words(data)

    @property
    def fail_count(self) -> int | None:
        value = self.data.get("fail_count")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def locked_until(self) -> float | None:
        return finite(self.data.get("locked_until"))


class WrongCode(Refusal):
    """The code was wrong; ``locked`` when this failure also locked the method."""

    def locked(self, now: float | None = None) -> bool:
        until = self.locked_until
        return until is not None and until > (time.time() if now is None else now)


class Locked(Refusal):
    """Too many wrong codes: the method is locked for a while."""


class ChallengeGone(Refusal):
    """The server has no such challenge any more (expired, used or unknown)."""


class BadKey(Refusal):
    """The API key (or 2FA session key) was not accepted."""


def printable(text, limit: int = 300) -> str:
    """Text from a server, safe to show: no control or format characters (no
    terminal escape sequences), whitespace collapsed, at most ``limit`` long."""
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in str(text))
    text = re.sub(r" +", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _server_words(data: dict) -> str:
    return printable(data.get("msg") or data.get("message") or "").rstrip(".")


def finite(value) -> float | None:
    """A number that can be computed with (not bool, NaN or infinite), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return value if math.isfinite(value) else None
    except OverflowError:  # an int too large for a float
        return None


def format_duration(seconds: float) -> str:
    """``14 min 5 s``, ``45 s``; never negative (nor infinite)."""
    seconds = max(0, int(round(finite(seconds) or 0)))
    minutes, secs = divmod(seconds, 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def method_words(method: str | None) -> str:
    return {"sms": "this SMS method", "totp": "this authenticator app",
            "email": "email verification"}.get(method or "", "this method")


def lock_sentence(locked_until, now: float) -> str:
    locked_until = finite(locked_until)
    if locked_until is None:
        return f"It is locked for a while (locks last {LOCK_MINUTES} minutes)."
    left = locked_until - now
    if left <= 0:
        return "The lock has just ended: you may try again now."
    return f"It stays locked for {format_duration(left)} more."


def attempts_left(server_words: str) -> int | None:
    """The attempts left as the server counts them ("4 attempt(s) left"), if it says."""
    found = re.search(r"(\d{1,4}) attempts?(?:\(s\))? left", server_words, re.IGNORECASE)
    return int(found.group(1)) if found else None


def _attempts_sentence(fail_count: int | None, method: str | None, server_words: str) -> str:
    """One form for every method: failures so far and how many remain, by the
    server's count when it gives one, else by the documented limit (SMS, TOTP)."""
    if fail_count is None:
        return "The code was wrong."
    plural = "s" if fail_count != 1 else ""
    left = attempts_left(server_words)
    limit = FAIL_LIMITS.get(method or "")
    if left is None and limit:
        left = max(0, limit - fail_count)
    locks = f"{method_words(method)} locks for {LOCK_MINUTES} minutes"
    rest = f"{left} left before {locks}" if left is not None else f"too many and {locks}"
    return f"Wrong code ({fail_count} failed attempt{plural}; {rest})."


#: What happened, for the error codes whose words depend on nothing but the
#: server's own text ({detail}).
MESSAGES = {
    "email_not_verified": "Your account's email address is not verified; the server sends no "
                          "code (by email or SMS) until it is.",
    "invalid_backup_code": "That backup code is unknown or was already used (each works once).",
    "invalid_tfa_method": "The server does not support that 2FA method{detail}.",
    "authorization_required": "Adding a 2FA method needs a recent authorization (it lasts 30 "
                              "minutes).",
    "duplicate_tfa_method": "That 2FA method is already set up on your account.",
    "tfa_challenge_exists": "A code was sent by SMS moments ago; wait for it before asking "
                            "again.",
    "sms_rate_limited": "Too many SMS messages were sent recently{detail}.",
    "twilio_error": "The SMS could not be sent to that number{detail}.",
    "sms_fraud_detected": "SMS is disabled on this account.",
    "team_user_forbidden": "2FA is personal, but this key acts in a team context.",
    "service_unavailable": "The Vast.ai service is temporarily unable to answer{detail}.",
    "bad_request": "The server refused the request: {words}.",
    "missing_params": "The server says a value is missing: {words}.",
}
MESSAGES["twilio_rate_limited"] = MESSAGES["preauth_phone_cap"] = MESSAGES["sms_rate_limited"]
MESSAGES["sms_blocked_number"] = MESSAGES["twilio_error"]
MESSAGES["challenge_creation_failed"] = MESSAGES["service_unavailable"]
MESSAGES["missing_auth_value"] = MESSAGES["missing_params"]

_NO_WORDS = {"bad_request": "malformed request"}

#: Our code for a 401 saying the endpoint needs Two Factor Authentication (a session).
SESSION_REQUIRED = "tfa_session_required"

#: Refusals after which the challenge is worthless.
GONE = frozenset({"2fa_expired", "no_pending_authorization", "challenge_not_found"})


def from_answer(status: int, data: dict, *, method: str | None = None,
                key_source: str | None = None, method_id: int | None = None,
                step: int = 2, noun: str = "challenge", now: float | None = None) -> Refusal:
    """Turn a JSON error answer into the Refusal that says what happened.

    ``method`` is what the user verified with (email/sms/totp, if known), so
    the attempts left can be counted against the documented limits; ``noun``
    names what a secret stands for ("authorization").
    """
    now = time.time() if now is None else now
    code = data.get("error") if isinstance(data.get("error"), str) else None
    words = _server_words(data)
    where = f" (from {key_source})" if key_source else ""
    facts = dict(code=code, status=status, data=data, method=method, method_id=method_id,
                 step=step)

    if code == "2fa_verification_failed":
        err = WrongCode("", **facts)
        err.message = _attempts_sentence(err.fail_count, method, words)
        if err.locked(now):
            err.message += " " + lock_sentence(err.locked_until, now)
        return err
    if code == "tfa_locked":
        err = Locked("", **facts)
        count = f" after {err.fail_count} failed attempts" if err.fail_count is not None else ""
        err.message = (f"Too many wrong codes: {method_words(method)} is locked{count}. "
                       + lock_sentence(err.locked_until, now))
        return err
    if code == "2fa_expired":
        return ChallengeGone(f"The code expired (codes are valid for {CODE_LIFE_MINUTES} "
                             "minutes).", **facts)
    if code in GONE:
        return ChallengeGone(f"The server has no pending {noun} for this secret (it was "
                             "already used, has expired, or never existed).", **facts)
    lowered = words.lower()
    if status == 401 and "two factor authentication" in lowered:
        return Refusal("This request needs a 2FA session, which a login with a 2FA code "
                       "starts.", **dict(facts, code=SESSION_REQUIRED))
    if code == "auth_error" or (status in (401, 404) and "session" in lowered) \
            or (status == 401 and "invalid user key" in lowered):
        if "session" in lowered:
            return BadKey(f"Your 2FA session key{where} has expired.", **facts)
        return BadKey(f"The server did not accept your API key{where}.", **facts)
    if code == "not_found":
        if method_id is not None:
            return Refusal(f"This account has no 2FA method with id {method_id}.", **facts)
        if method in ("sms", "totp"):
            kind = "SMS" if method == "sms" else "authenticator"
            return Refusal(f"This account has no {kind} method.", **facts)
        return Refusal(f"Not found: {words or 'the server has no such resource'}.", **facts)
    if code in MESSAGES:
        said = words or _NO_WORDS.get(code, code)
        ours = MESSAGES[code].format(detail="", words=said)
        news = words and words.lower() not in ours.lower()  # the server's words, unless ours
        return Refusal(MESSAGES[code].format(detail=f": {words}" if news else "", words=said),
                       **facts)
    label = f"{code}, HTTP {status}" if code else f"HTTP {status}"
    return Refusal(f"The server refused the request ({label}){': ' + words if words else ''}.",
                   **facts)
