"""``%vast tfa send-sms [-p PHONE]``: text a code.

With ``-p PHONE`` it starts adding that number as an SMS method (finish with
``%vast tfa activate CODE -t sms``); without, it texts your SMS method a code
to verify with (finish with ``-s``/the kept secret, as login will).  The
challenge's secret is kept either way.
"""

from __future__ import annotations

from ..api import tfa
from ..api.challenge import Challenge
from ..api.errors import TransportError, VastError
from ..constants import CODE_LIFE_MINUTES, PENDING
from ..credentials import fingerprint
from ..render import RawAnswer
from . import activate
from .base import Command

SENT = ("SMS may have been sent before the connection failed: wait a minute for it before "
        "asking again (`%vast tfa resend-sms` sends it again).")


def arguments(parser):
    parser.add_argument("-p", "--phone-number", metavar="PHONE",
                        help="a new number to add as an SMS method (international format, "
                             "+15551234567)")


def advise(exc) -> list[str]:
    """This command's next step for a failure (shared with resend-sms)."""
    if isinstance(exc, TransportError) and exc.may_have_acted:
        return [SENT]
    if exc.code == "tfa_challenge_exists":
        return ["Wait for it, or send it again: `%vast tfa resend-sms`."]
    if exc.code == "authorization_required":
        return activate.advise(exc)
    return []


def run(ctx, opts):
    client = ctx.client()
    phone = opts.phone_number
    try:
        data = tfa.send_sms(client, phone_number=phone)
    except VastError as exc:
        raise exc.advise(*advise(exc)) from None
    challenge = Challenge(secret=tfa.secret_of(data), method="sms",
                          purpose="sms_setup" if phone else "verify", url=client.url,
                          key_id=fingerprint(client.api_key), phone_number=phone or "")
    ctx.pending.keep(challenge)
    if opts.raw:
        return RawAnswer(data)
    flow = activate.flow("sms")
    where = f"to {phone}" if phone else "to your SMS method"
    ctx.say(f"A 6-digit code was texted {where} (valid {CODE_LIFE_MINUTES} minutes); its secret "
            f"is kept in {PENDING[challenge.purpose][0]}.")
    if phone:
        ctx.say(f"When it arrives, finish with: {flow.finish_line}  (inside the add-method "
                "window: `%vast tfa auth-new` opens it)")
    else:
        ctx.say("Verify with it where a command asks for an SMS code and its secret "
                "(`-t sms -c CODE`; the kept secret is used).")
    return None


COMMAND = Command(
    ("tfa", "send-sms"), run, arguments=arguments,
    help="text a code: to a new number (-p, to add it) or to your SMS method",
    description="Text a 6-digit code.  With -p PHONE it starts adding that number as an SMS "
                "method: finish with `%vast tfa activate CODE -t sms` inside the add-method "
                "window.  Without -p it texts your SMS method a code to verify with.  The "
                "challenge's secret is kept; `%vast tfa resend-sms` sends the code again.",
    epilog="examples:\n  %vast tfa send-sms -p +15551234567\n  %vast tfa send-sms\n")
