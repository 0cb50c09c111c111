"""``%vast tfa resend-sms [-s S] [-p PHONE]``: text the pending SMS code again.

``POST /tfa/sms/resend/``; the original secret stays the one to finish with,
so the kept challenge is left as it is.
"""

from __future__ import annotations

from IPython.core.error import UsageError

from ..api import tfa
from ..api.errors import VastError
from ..render import RawAnswer
from . import send_sms
from .base import Command

PURPOSES = ("sms_setup", "verify")


def arguments(parser):
    parser.add_argument("-s", "--secret", metavar="SECRET",
                        help="the secret of the SMS challenge (default: the pending one)")
    parser.add_argument("-p", "--phone-number", metavar="PHONE",
                        help="the number (default: the pending challenge's)")


def pending_sms(ctx):
    """The most recent pending SMS challenge, of either purpose."""
    kept = [c for p in PURPOSES if (c := ctx.pending.get(p)) is not None and c.method == "sms"]
    return max(kept, key=lambda c: c.sent_at) if kept else None


def run(ctx, opts):
    pending = pending_sms(ctx)
    secret = opts.secret or (pending.secret if pending else None)
    if not secret:
        raise UsageError("No SMS challenge is pending, so there is nothing to send again: "
                         "`%vast tfa send-sms` (or -p PHONE) sends a first one, or give -s "
                         "SECRET (no request was sent).")
    ours = pending is not None and pending.secret == secret
    phone = opts.phone_number or (pending.phone_number if ours else "") or None
    client = ctx.client(url=pending.url if ours and pending.url and not ctx.opts.url else None)
    try:
        data = tfa.resend_sms(client, secret=secret, phone_number=phone)
    except VastError as exc:
        raise exc.advise(*send_sms.advise(exc)) from None
    if opts.raw:
        return RawAnswer(data)
    ctx.say("The code was texted again. Finish with the same secret as before"
            + (" (it is still kept)." if ours else "."))
    return None


COMMAND = Command(
    ("tfa", "resend-sms"), run, arguments=arguments,
    help="text the pending SMS code again (the original secret stays valid)",
    description="Text the code of a pending SMS challenge again (from `%vast tfa send-sms`).  "
                "The original secret stays the one to finish with, so nothing else changes.",
    epilog="examples:\n  %vast tfa resend-sms\n  %vast tfa resend-sms -s SECRET -p +15551234567\n")
