"""``%vast tfa regen-codes [verification] [--yes] [--backup-codes-file PATH]``:
a new set of backup codes (``PUT /tfa/regen-backup-codes/``); the old ones stop
working.  The new codes are handed over as activate's are: shown once, never
kept in a saved notebook, or written to a new 0600 file."""

from __future__ import annotations

from .. import reveal
from ..api import tfa
from ..render import RawAnswer
from . import options, verify
from .base import Command

NAME = "%vast tfa regen-codes"


def arguments(parser):
    verify.add_options(parser, confirms="replace the codes")
    options.add_backup_codes_file(parser)


def act(client, fields: dict, method=None, method_id=None) -> dict:
    return tfa.regen_backup_codes(client, fields, method=method, method_id=method_id)


def run(ctx, opts):
    target = reveal.check_codes_file(opts.backup_codes_file)
    if not verify.confirm(ctx, opts, "Replace your backup codes? The old ones stop working.",
                          "Replacing your backup codes"):
        return None
    data = verify.verified(ctx, opts, verify.flow(NAME + (" --yes" if opts.yes else "")), act)
    if data is None or opts.raw:
        return None if data is None else RawAnswer(data)
    ctx.say("New backup codes issued; the old ones no longer work.")
    reveal.hand_over_codes(ctx, reveal.codes_in(data), target)  # tfa checked there are some
    return None


COMMAND = Command(
    ("tfa", "regen-codes"), run, arguments=arguments,
    help="issue new backup codes (the old ones stop working; asks to confirm)",
    description="Replace your 10 backup codes with a new set; the old ones stop working.  "
                "Asks to confirm where a person is (--yes skips that; where nobody can be "
                "asked, nothing is sent without --yes).  The new codes are shown once where "
                "you are (never kept in a saved notebook), or written to --backup-codes-file "
                "(a new file, readable by you only).",
    epilog="examples:\n  %vast tfa regen-codes -t totp\n"
           "  %vast tfa regen-codes -t totp -c 123456 --yes --backup-codes-file codes.txt\n")
