"""``%vast tfa status``: 2FA on or off, the methods and their ids, backup codes left."""

from __future__ import annotations

from .. import credentials
from ..api import tfa
from ..render import RawAnswer, StatusView
from .base import Command


def run(ctx, opts):
    data = tfa.status(ctx.client())
    if opts.raw:
        return RawAnswer(data)
    locks = ctx.locks.unshown(ctx.where, data.get("methods") or [])
    return StatusView(data, sending=sending(ctx.key), locks=locks)


def sending(key) -> str:
    """Which key this line sent, from where, and for a session how to end it."""
    text = credentials.describe(key)
    return text + (" (`%vast tfa logout` ends the session)"
                   if key is not None and credentials.is_session(key.source) else "")


COMMAND = Command(
    ("tfa", "status"), run,
    help="show your 2FA methods, their ids and the backup codes left",
    description="Show whether 2FA is on, each method (id, type, label, primary, phone, "
                "failures, lock, last used), the backup codes left, and which key %vast "
                "sends (your API key or a 2FA session key, and from where; never the key).")
