"""``%vast tfa update METHOD_ID [-l LABEL] [-p [BOOL]]``: rename a method, or
make it the primary one (``PUT /tfa/update/``)."""

from __future__ import annotations

import argparse

from IPython.core.error import UsageError

from ..api import tfa
from ..api.errors import VastError
from ..render import RawAnswer
from . import options, verify
from .base import Command

_WORDS = {"t": True, "true": True, "yes": True, "y": True, "1": True,
          "f": False, "false": False, "no": False, "n": False, "0": False}


def boolean(text: str) -> bool:
    try:
        return _WORDS[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}") from None


def arguments(parser):
    parser.add_argument("method_id", type=options.method_id, metavar="METHOD_ID",
                        help="the method to change (the 'id' from `%%vast tfa status`)")
    options.add_label(parser, "a new name for the method (at most 30 characters)")
    parser.add_argument("-p", "--set-primary", nargs="?", const=True, type=boolean,
                        metavar="BOOL", help="make it the primary method (a bare -p, or "
                                             "true); false: no longer primary")


def run(ctx, opts):
    if opts.label is None and opts.set_primary is None:
        raise UsageError("Nothing to change (no request was sent): give -l LABEL and/or "
                         "-p/--set-primary [true|false].")
    client = ctx.client()
    try:
        data = tfa.update(client, opts.method_id, label=opts.label,
                          is_primary=opts.set_primary)
    except VastError as exc:
        raise exc.advise(*verify.advice(exc, "%vast tfa update", client)) from None
    if opts.raw:
        return RawAnswer(data)
    changes = []
    if opts.label is not None:
        changes.append(f"label {opts.label!r}")
    if opts.set_primary is not None:
        changes.append("now the primary method" if opts.set_primary else "no longer primary")
    ctx.say(f"Method {opts.method_id} updated: {'; '.join(changes)}. "
            "`%vast tfa status` shows your methods.")
    return None


COMMAND = Command(
    ("tfa", "update"), run, arguments=arguments,
    help="rename a 2FA method or make it the primary one",
    description="Change a 2FA method's label or whether it is the primary one.  METHOD_ID "
                "comes first, as in the vastai CLI; a bare -p (or -p true) makes it primary, "
                "-p false makes it not.",
    epilog="examples:\n  %vast tfa update 101 -l phone-app\n  %vast tfa update 101 -p\n"
           "  %vast tfa update 102 --set-primary false\n")
