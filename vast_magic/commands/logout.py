"""``%vast tfa logout``: forget the 2FA session key (new: the CLI has no logout).

It is removed from everywhere the magic stores or reads one — the keyring and
the CLI's ``~/.config/vastai/vast_tfa_key`` — so ``!vastai`` leaves the session
too.  The API has no logout call: the key stays valid on the server until it
expires, but nothing here keeps or sends it any more.
"""

from __future__ import annotations

from .. import credentials
from .base import Command


def run(ctx, opts):
    gone = credentials.forget_session()
    now = credentials.describe(credentials.resolve(opts.api_key))
    if gone:
        ctx.say(f"Logged out: the 2FA session key was removed from {' and '.join(gone)}, so "
                "neither %vast nor `vastai` sends it any more (the server forgets it when it "
                "expires).")
    else:
        ctx.say("No 2FA session key was stored: nothing to forget.")
    ctx.say(f"Later %vast lines send {now}.")
    return None


COMMAND = Command(
    ("tfa", "logout"), run,
    help="end the 2FA session here: forget its key (for %vast and vastai)",
    description="Forget the 2FA session key that `%vast tfa login` (or `vastai tfa login`) "
                "stored: from the keyring and from ~/.config/vastai/vast_tfa_key, so "
                "`!vastai` leaves the session too.  Says which key later lines send.  Sends "
                "nothing: the API has no logout call, and the key lapses on the server when "
                "it expires.")
