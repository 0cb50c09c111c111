"""``%vast tfa delete -id TARGET [verification] [--yes]``: remove a 2FA method
(``DELETE /tfa/``).  It asks to confirm where a person is; ``--yes`` skips
that; where nobody can be asked and there is no ``--yes``, nothing is sent."""

from __future__ import annotations

from ..api import tfa
from ..api.errors import VastError
from ..render import RawAnswer
from . import options, verify
from .base import Command

NAME = "%vast tfa delete"


def arguments(parser):
    parser.add_argument("-id", "--id-to-delete", dest="target", type=options.method_id,
                        required=True, metavar="TARGET",
                        help="the method to remove (the 'id' from `%%vast tfa status`)")
    verify.add_options(parser, short_id=False, confirms="delete")


def run(ctx, opts):
    line = f"{NAME} -id {opts.target}"
    question = (f"Remove 2FA method {opts.target}? It cannot be undone (removing your last "
                "method turns 2FA off).")
    if not verify.confirm(ctx, opts, question, f"Removing 2FA method {opts.target}"):
        return None

    def act(client, fields: dict, method=None, method_id=None) -> dict:
        return tfa.delete(client, fields, target_id=opts.target, method=method,
                          method_id=method_id)

    try:
        data = verify.verified(ctx, opts, verify.flow(line + (" --yes" if opts.yes else "")),
                               act)
    except VastError as exc:
        if exc.code == "not_found":  # the target, or the method verified with
            _which_is_missing(ctx, exc, opts.target)
        raise
    if data is None or opts.raw:
        return None if data is None else RawAnswer(data)
    left = data.get("remaining_methods")
    if type(left) is int and left > 0:
        ctx.say(f"2FA method {opts.target} removed; {left} method{'s' if left != 1 else ''} "
                "left (`%vast tfa status` shows them).")
    else:
        ctx.say(f"2FA method {opts.target} removed. It was your last, so 2FA is now off and "
                "your backup codes no longer work; `%vast tfa auth-new` starts adding a "
                "method again.")
    return None


def _which_is_missing(ctx, exc: VastError, target: int) -> None:
    """A not_found names the target or the method verified with: the account's
    methods tell which (and when they cannot be looked up, the message says both)."""
    try:
        ids = _method_ids(ctx.client())
    except KeyboardInterrupt:
        ids = None
    if ids is not None and target not in ids:
        exc.message = f"This account has no 2FA method with id {target}."
        exc.hints = [verify.STATUS_HINT]  # verifying another way would not help
        return
    if ids is None:
        exc.message = (f"This account has no 2FA method with id {target}, or none like the "
                       "one you verify with.")
    exc.hints = exc.hints or [verify.STATUS_HINT]


def _method_ids(client) -> set[int] | None:
    """The ids of every method the account has, or None when any cannot be read
    (a kind this version does not know still has an id that counts)."""
    answer = verify.status_answer(client)
    if answer is None:
        return None
    methods = answer["methods"]
    if not all(isinstance(m, dict) and type(m.get("id")) is int for m in methods):
        return None
    return {m["id"] for m in methods}


COMMAND = Command(
    ("tfa", "delete"), run, arguments=arguments,
    help="remove a 2FA method (asks to confirm)",
    description="Remove the 2FA method -id TARGET (as in the vastai CLI: -id is the method to "
                "remove, --method-id the one you verify with).  Asks to confirm where a person "
                "is; --yes skips that; where nobody can be asked, nothing is sent without "
                "--yes.  Removing your last method turns 2FA off.",
    epilog="examples:\n  %vast tfa delete -id 103 -t totp\n"
           "  %vast tfa delete -id 103 -t totp -c 123456 --yes\n"
           "  %vast tfa delete -id 103 -bc ABCD-EFGH-IJKL\n")
