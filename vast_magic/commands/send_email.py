"""``%vast tfa send-email``: email a code to verify with (``POST /tfa/email/``).

The challenge's secret is kept in ``_vast_pending_verification``, so a later
``%vast tfa login -c CODE`` (or delete / regen-codes) finishes with it.
"""

from __future__ import annotations

from ..api import tfa
from ..api.challenge import Challenge
from ..api.errors import TransportError, VastError
from ..constants import PENDING
from ..credentials import fingerprint
from ..render import RawAnswer
from . import verify
from .base import Command

SENT = ("An email may have been sent before the connection failed: check your inbox before "
        "asking again.")


def run(ctx, opts):
    client = ctx.client()
    try:
        data = tfa.send_email(client)
    except VastError as exc:
        sent = isinstance(exc, TransportError) and exc.may_have_acted
        hints = [SENT] if sent else verify.advice(exc, "%vast tfa login", client)
        raise exc.advise(*hints) from None
    challenge = Challenge(secret=tfa.secret_of(data), method="email", purpose="verify",
                          url=client.url, key_id=fingerprint(client.api_key), asked="email")
    ctx.pending.keep(challenge)
    if opts.raw:
        return RawAnswer(data)
    ctx.say(f"{verify.sent_message(challenge)} Its secret is kept in {PENDING['verify'][0]}.")
    ctx.say("Use it with: %vast tfa login -c CODE  (or delete / regen-codes with -c CODE)")
    return None


COMMAND = Command(
    ("tfa", "send-email"), run,
    help="email a code to verify with (login, delete, regen-codes)",
    description="Email a 6-digit code to your account's verified address.  Its secret is "
                "kept in _vast_pending_verification, so `%vast tfa login -c CODE` (or "
                "`%vast tfa delete ... -c CODE`, `%vast tfa regen-codes -c CODE`) finishes "
                "with it.  `%vast tfa login` alone sends it and asks for the code in one line.",
    epilog="examples:\n  %vast tfa send-email\n  %vast tfa login -c 123456\n")
