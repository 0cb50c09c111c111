"""The 2FA commands as plain Python: no IPython in here.

They take a :class:`~vast_magic.client.Client` and plain values, and return
results or raise :class:`~vast_magic.errors.VastError`.  Anything interactive
(asking for the code, saying something between two tries) comes in as a
callable, so the same code serves the terminal prompt, a Jupyter input box,
a later cell and the tests.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from .errors import AUTH_NEW, CODE_LIFE_MINUTES, VastError
from .pending import PendingChallenge

AUTHORIZE = "/tfa/authorize-new-method/"
STATUS = "/tfa/status/"
WINDOW_MINUTES = 30
def normalize_code(text: str | None) -> str | None:
    """``"123 456"`` / ``"123-456"`` → ``"123456"``; None unless exactly 6 digits.

    Digits of other scripts (a full-width ``１２３４５６`` from an IME) become
    ASCII, which is what the server compares.
    """
    if text is None:
        return None
    compact = re.sub(r"[\s-]", "", text)
    if len(compact) != 6 or not compact.isdecimal():
        return None
    return "".join(str(int(ch)) for ch in compact)


def bad_code_message(text: str) -> str:
    return (f"{text!r} is not a 2FA code: a code is 6 digits. Nothing was sent "
            "(a wrong code counts towards a lockout).")


@dataclass
class Result:
    """What a command returns: the server's answer and the lines to show."""

    data: dict
    lines: list[str] = field(default_factory=list)


def next_steps(now: float | None = None) -> list[str]:
    until = time.strftime("%H:%M", time.localtime((now or time.time()) + WINDOW_MINUTES * 60))
    return [
        f"Authorized: you may add a new 2FA method in the next {WINDOW_MINUTES} minutes "
        f"(until {until}).",
        "Next, add one of:",
        "  an authenticator app:  %vast tfa totp-setup",
        "                   then  %vast tfa activate -t totp --secret SECRET --code CODE",
        "  an SMS method:         %vast tfa send-sms --phone-number PHONE",
        "                   then  %vast tfa activate -t sms --secret SECRET --code CODE "
        "--phone-number PHONE",
        "  (these are not in vast-magic yet: until they are, the `vastai` CLI takes the same "
        "words)",
    ]


def start(client, *, method_type: str | None = None, method_id: int | None = None,
          backup_code: str | None = None) -> Result | PendingChallenge:
    """Step 1: a backup code authorizes at once (a Result); otherwise a challenge."""
    if backup_code is not None:
        code = backup_code.strip()
        if not code:
            raise VastError("The backup code is empty.",
                            ["Backup codes look like ABCD-EFGH-IJKL."], code="usage")
        data = client.call("POST", AUTHORIZE, {"backup_code": code}, unsafe=True)
        return Result(data, ["Backup code accepted (it cannot be used again)."] + next_steps())
    kinds = None
    if method_id is not None or method_type in ("sms", "totp"):
        try:
            kinds = configured_methods(client)
        except KeyboardInterrupt:
            raise VastError("Interrupted while looking up your 2FA methods; no code was "
                            "requested.", [f"Start again: {AUTH_NEW}"],
                            code="interrupted") from None
    if method_id is not None:
        method = (kinds or {}).get(int(method_id)) or f"method {method_id}"
        body = {"tfa_method_id": int(method_id)}
    else:
        method = method_type or "email"
        body = {"tfa_method": method}
    if kinds == {}:  # no 2FA method yet: the server emails the code whatever was asked
        method = "email"
    context = {"method": method if method in ("email", "sms", "totp") else None,
               "method_id": method_id, "step": 1}
    data = client.call("POST", AUTHORIZE, body, unsafe=True, context=context)
    secret = data.get("secret")
    if not isinstance(secret, str) or not secret:
        raise VastError("The server accepted step 1 but sent no challenge secret back.",
                        ["Run it again with --explain to see the exchange."],
                        code="bad_answer", data=data)
    from .credentials import fingerprint

    return PendingChallenge(secret=secret, method=method, method_id=method_id, url=client.url,
                            key_id=fingerprint(client.api_key),
                            asked=method_type or ("id" if method_id is not None else "email"))


def configured_methods(client) -> dict | None:
    """The account's methods as {id: "sms"/"totp"} ({} when it has none), or None
    if they cannot be told.

    Asked before a step 1 that names a method, so the prompt can name it, the
    failures are counted against its own limit, and an account with no method
    yet (where the server emails the code whatever was asked) is told so. The
    request is safe; any trouble with it is left for step 1 to report.
    """
    try:  # one attempt: step 1 reports (and retries) any trouble with the server
        methods = client.call("GET", STATUS, attempts=1).get("methods")
    except VastError:
        return None
    if not isinstance(methods, list):
        return None
    kinds = {m.get("id"): m.get("method") for m in methods if isinstance(m, dict)}
    if methods and not kinds:
        return None  # methods we cannot read: tell nothing rather than "none"
    return kinds


def finish(client, *, secret: str, code: str, method: str | None = None) -> Result:
    """Step 2: send the code with the challenge's secret."""
    data = client.call("PUT", AUTHORIZE, {"code": code, "secret": secret}, unsafe=True,
                       context={"method": method})
    return Result(data, next_steps())


AskCode = Callable[[PendingChallenge], Optional[str]]


def complete(client, pending: PendingChallenge, ask_code: AskCode,
             say: Callable[[str], None]) -> Result | None:
    """Ask for the code until it is right; None when the user put it off.

    A wrong code is reported through ``say`` and asked again (the prompt only
    accepts 6 digits, so typos never reach the server); every other refusal
    (lock, expiry, ...) is raised for the caller to show.
    """
    while True:
        code = ask_code(pending)
        if code is None:
            return None
        try:
            return finish(client, secret=pending.secret, code=code, method=pending.method_type)
        except VastError as exc:
            if exc.code != "2fa_verification_failed" or (exc.data or {}).get("locked_until"):
                raise
            say(exc.message)


def finish_later_hint(pending: PendingChallenge) -> str:
    """How to finish in a later cell: two short lines."""
    left = pending.seconds_left()
    life = (f"valid about {left // 60:.0f} more min" if left >= 60 else
            f"it may be about to expire; codes last {CODE_LIFE_MINUTES} minutes")
    return (f"When you have {pending.where()}, finish with: {AUTH_NEW} --code CODE\n"
            f"({life}; the secret is kept in _vast_pending_tfa)")


def status(client) -> dict:
    data = client.call("GET", STATUS)
    methods = data.get("methods") or []
    if not isinstance(methods, list) or not all(isinstance(m, dict) for m in methods):
        raise VastError("The server's status answer has an unexpected shape ('methods' is not "
                        "a list of methods).", ["Run it again with --raw to see the answer."],
                        code="bad_answer", data=data)
    return data
