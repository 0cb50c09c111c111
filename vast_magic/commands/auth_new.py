"""``%vast tfa auth-new``: authorize the account to add a new 2FA method.

Step 1 (``POST /tfa/authorize-new-method/``) emails or texts a code, or asks
the app's; a backup code authorizes at once.  Step 2 (``PUT``) sends the code
and opens the 30-minute window in which a method may be added.
"""

from __future__ import annotations

import time

from IPython.core.error import UsageError

from ..api import tfa
from ..api.challenge import Challenge
from ..api.errors import VastError
from ..constants import CODE_LIFE_MINUTES, METHOD_TYPES, WINDOW_MINUTES
from ..context import Result
from ..credentials import fingerprint
from ..render import RawAnswer
from . import options, twostep, verify
from .base import Command

NAME = "%vast tfa auth-new"

DESCRIPTION = """\
Authorize your account to add a new 2FA method.

Step 1 sends a code by email (the default, and the only choice while the
account has no 2FA method), by SMS, or asks your authenticator app; or a
backup code authorizes at once.  Step 2 sends the code back: a prompt asks for
it in a terminal (and in Jupyter when the front end allows input); elsewhere,
finish in a later cell with `%vast tfa auth-new --code CODE`.  The pending
challenge is kept in the variable _vast_pending_tfa until it succeeds or
expires.  A successful authorization opens a 30-minute window to add a method.
"""

EPILOG = """\
examples:
  %vast tfa auth-new                      email a code, then ask for it
  %vast tfa auth-new -t totp              verify with your authenticator app
  %vast tfa auth-new --method-id 456      a method from `%vast tfa status`
  %vast tfa auth-new --backup-code ABCD-EFGH-IJKL
  %vast tfa auth-new --code 123456        finish the pending authorization
  %vast tfa auth-new --secret S --code 123456
"""


def arguments(parser):
    step1 = parser.add_argument_group("step 1: choose how to verify (one of)")
    choose = step1.add_mutually_exclusive_group()
    choose.add_argument("-t", "--method-type", choices=METHOD_TYPES, default=None,
                        help="verify with your one method of this type (default email)")
    choose.add_argument("-id", "--method-id", type=options.method_id, metavar="ID",
                        help="verify with this method (the 'id' from `%%vast tfa status`)")
    choose.add_argument("-bc", "--backup-code", metavar="CODE",
                        help="a one-time backup code: authorizes at once, no step 2")
    step2 = parser.add_argument_group("step 2: finish")
    step2.add_argument("-c", "--code", metavar="CODE",
                       help="the 6-digit code from the email, SMS or authenticator app")
    step2.add_argument("-s", "--secret", metavar="SECRET",
                       help="the secret of a step 1 (default: the pending one)")
    options.add_no_prompt(step2, "do not ask for the code; finish later with --code")


FLOW = twostep.Flow(
    purpose="authorize", command=NAME,
    acted="The server may have acted on it (sent you a code, or accepted the one you sent): "
          "`%vast tfa status` shows whether the 30-minute window is open; check your "
          "email/SMS before asking for another code.",
    how_to_start=" (add -t sms, -t totp or --method-id ID to choose how)",
    advise=lambda exc, client: verify.advice(exc, NAME, client))


def next_steps(now: float | None = None) -> list[str]:
    until = time.strftime("%H:%M", time.localtime((now or time.time()) + WINDOW_MINUTES * 60))
    return [
        f"Authorized: you may add a new 2FA method in the next {WINDOW_MINUTES} minutes "
        f"(until {until}).",
        "Next, add one of:",
        "  an authenticator app:  %vast tfa totp-setup   (QR code, code, activation)",
        "  an SMS method:         %vast tfa send-sms -p PHONE",
        "                   then  %vast tfa activate CODE -t sms",
    ]


def finish(client, secret: str, code: str, method: str | None):
    data = tfa.finish_authorize_new_method(client, secret=secret, code=code, method=method)
    return Result(data, next_steps())


def started_message(challenge: Challenge) -> str:
    with_id = f" (method {challenge.method_id})" if challenge.method_id is not None else ""
    if challenge.method == "email" and challenge.asked not in ("", "email"):
        return ("This account has no 2FA method yet, so the server emailed the code instead "
                f"(valid {CODE_LIFE_MINUTES} minutes).")
    if challenge.method == "email":
        return ("Authorization started: a 6-digit code was emailed to you "
                f"(valid {CODE_LIFE_MINUTES} minutes).")
    if challenge.method == "sms":
        return (f"Authorization started with SMS{with_id}: a 6-digit code was texted to you "
                f"(valid {CODE_LIFE_MINUTES} minutes).")
    if challenge.method == "totp":
        return (f"Authorization started with your authenticator app{with_id}: use the code "
                "it shows now.")
    return (f"Authorization started with {challenge.method}: a code was sent to it, or read "
            "it from your authenticator app if that is what it is.")


def run(ctx, opts):
    finishing = opts.code is not None or opts.secret is not None
    starting = (opts.method_type is not None or opts.method_id is not None
                or opts.backup_code is not None)
    if finishing and starting:
        raise UsageError("--code/--secret finish a pending authorization, while "
                         "-t/--method-id/--backup-code start one: use one or the other.")
    if finishing:
        return ctx.show(twostep.finish_later(ctx, FLOW, finish, code=opts.code,
                                             secret=opts.secret))
    client = ctx.client()
    if opts.backup_code is not None:
        return _with_backup_code(ctx, client, opts.backup_code)
    challenge = _start(client, opts.method_type, opts.method_id)
    if opts.raw:
        ctx.pending.keep(challenge)
        return RawAnswer({"success": True, "secret": challenge.secret})
    result = twostep.ask_and_finish(ctx, FLOW, challenge, finish, client,
                                    started=started_message(challenge))
    return ctx.show(result) if result is not None else None


def authorize(ctx, client) -> bool:
    """auth-new's default way (an emailed code, asked for here) for a command
    that needs the add-method window; True once it is open."""
    challenge = _start(client, None, None)
    result = twostep.ask_and_finish(ctx, FLOW, challenge, finish, client,
                                    started=started_message(challenge))
    if result is not None:
        ctx.say(next_steps()[0])
    return result is not None


def _with_backup_code(ctx, client, backup_code: str):
    code = backup_code.strip()
    if not code:
        raise VastError("The backup code is empty.", ["Backup codes look like ABCD-EFGH-IJKL."],
                        code="usage")
    data = twostep.step_one(FLOW, lambda: tfa.authorize_new_method(client, {"backup_code": code}),
                            spends="the backup code may be used up", client=client)
    return ctx.show(Result(data, ["Backup code accepted (it cannot be used again)."]
                           + next_steps()))


def _start(client, method_type: str | None, method_id: int | None) -> Challenge:
    """Step 1 with a code: learn the method's kind when one is named, then ask."""
    kinds = None
    if method_id is not None or method_type in ("sms", "totp"):
        try:
            kinds = verify.lookup_methods(client)
        except KeyboardInterrupt:
            raise VastError("Interrupted while looking up your 2FA methods; no code was "
                            "requested.", [f"Start again: {NAME}"],
                            code="interrupted") from None
    if method_id is not None:
        method = (kinds or {}).get(method_id) or f"method {method_id}"
        body = {"tfa_method_id": method_id}
    else:
        method = method_type or "email"
        body = {"tfa_method": method}
    if kinds == {}:  # no 2FA method yet: the server emails the code whatever was asked
        method = "email"
    known = method if method in METHOD_TYPES else None
    data = twostep.step_one(
        FLOW, lambda: tfa.authorize_new_method(client, body, method=known, method_id=method_id),
        spends="a code may arrive, but without its secret it cannot be used", client=client)
    return Challenge(secret=tfa.secret_of(data), method=method, method_id=method_id,
                     url=client.url, key_id=fingerprint(client.api_key),
                     asked=method_type or ("id" if method_id is not None else "email"))


COMMAND = Command(("tfa", "auth-new"), run, arguments=arguments,
                  help="authorize your account to add a new 2FA method",
                  description=DESCRIPTION, epilog=EPILOG)
