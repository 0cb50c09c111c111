"""``%vast tfa status``: 2FA on or off, the methods and their ids, backup codes left."""

from __future__ import annotations

from ..api import tfa
from ..render import RawAnswer, StatusView
from .base import Command


def run(ctx, opts):
    data = tfa.status(ctx.client())
    return RawAnswer(data) if opts.raw else StatusView(data)


COMMAND = Command(
    ("tfa", "status"), run,
    help="show your 2FA methods, their ids and the backup codes left",
    description="Show whether 2FA is on, each method (id, type, label, primary, phone, "
                "failures, lock, last used) and the backup codes left.")
