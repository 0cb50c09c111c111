"""Next steps that fit any ``%vast`` command, for errors no command advised on.

The API layer says what happened; a command adds its own next step (start
again, finish with ``--code``, verify another way).  What is left — a bad
key, an unreachable server, a refusal that no command treats specially —
gets its hint here, in ``%vast`` words.
"""

from __future__ import annotations

from .api.errors import BadAnswer, BadKey, Refusal, TransportError, VastError
from .credentials import Key, how_to_replace, refused_key_hint

EXPLAIN = "Run it again with --explain to see the exchange."
CHECK_URL = "Check {address}: it should be the Vast.ai console's."

#: Refusal codes -> what to do next, whatever the command.
REFUSALS = {
    "email_not_verified": "Verify it in the Vast.ai console (Account settings), then start "
                          "again.",
    "invalid_backup_code": "Check it for typos, or use another one.",
    "invalid_tfa_method": "Use email, sms or totp.",
    "authorization_required": "Authorize first: %vast tfa auth-new",
    "duplicate_tfa_method": "`%vast tfa status` shows your methods.",
    "tfa_challenge_exists": "If it does not arrive, ask for it to be sent again in a minute.",
    "sms_rate_limited": "Wait a while before asking for another SMS.",
    "twilio_error": "Check the number, or use another 2FA method.",
    "sms_fraud_detected": "Contact Vast.ai support to restore SMS.",
    "team_user_forbidden": "Use your personal API key (`%vast set api-key`).",
    "service_unavailable": "Nothing is lost; try again in a minute (more attempts: --retry N).",
    "not_found": CHECK_URL,
    "bad_request": "If this persists, report it with the output of --explain (it hides your "
                   "key and secrets).",
}
REFUSALS["twilio_rate_limited"] = REFUSALS["preauth_phone_cap"] = REFUSALS["sms_rate_limited"]
REFUSALS["sms_blocked_number"] = REFUSALS["twilio_error"]
REFUSALS["challenge_creation_failed"] = REFUSALS["service_unavailable"]

TRANSPORT = {
    "connection_refused": "Check {address} and your network.",
    "host_not_found": "Check {address} for typos, and that this machine can look up names "
                      "(network, DNS).",
    "connect_timeout": "Check your network, a firewall or the proxy settings, then try again.",
    "timeout": "The server may be overloaded or down, and waiting longer rarely helps: try "
               "again in a few minutes.",
    "tls_error": "Check the address; behind a company proxy, point REQUESTS_CA_BUNDLE at its "
                 "certificate.",
    "proxy_error": "Check the proxy settings, or set NO_PROXY for this host.",
    "bad_url": "Check {address} (for example https://console.vast.ai).",
}
MAY_HAVE_ACTED = ("The server may have acted on it before the connection failed: check "
                  "(`%vast tfa status`, your email or SMS) before you repeat it.")


def generic(exc: VastError, key: Key | None = None, url_from: str | None = None) -> list[str]:
    """The next step for an error, from its type and code, naming where the key
    that was sent (``key``) and the server address (``url_from``: "--url",
    "VAST_URL", ...; None for the default) came from."""
    address = f"the server address from {url_from}" if url_from else "the server address"
    return [hint.replace("{address}", address) for hint in _hints(exc, key)]


def _hints(exc: VastError, key: Key | None) -> list[str]:
    """generic's hints, with ``{address}`` where the server address goes."""
    if isinstance(exc, TransportError):
        if exc.may_have_acted:
            return [MAY_HAVE_ACTED]
        return [TRANSPORT.get(exc.code or "", "Try again in a moment.")]
    if isinstance(exc, BadAnswer):
        return [_bad_answer_hint(exc.status)]
    if isinstance(exc, BadKey):
        if key is not None:
            return [refused_key_hint(key)]
        return ["Check it, or store the right one with `%vast set api-key`."]
    if exc.code == "team_user_forbidden" and key is not None:
        return [f"Use your personal API key: {how_to_replace(key.source)}."]
    if isinstance(exc, Refusal):
        return [REFUSALS.get(exc.code or "", EXPLAIN)]
    return []


def _bad_answer_hint(status: int | None) -> str:
    if status is None:  # a JSON answer of the wrong shape
        return EXPLAIN
    if status >= 500:
        return "Try again in a minute; nothing was changed by this answer."
    if status == 429:
        return "Wait a minute, then try again."
    return CHECK_URL
