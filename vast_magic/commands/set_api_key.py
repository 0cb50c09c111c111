"""``%vast set api-key [KEY]``: store the API key (keyring, else a 0600 file)."""

from __future__ import annotations

from IPython.core.error import UsageError

from .. import credentials
from ..prompt import BOX_LEFT, Stopped
from ..render import RawAnswer
from .base import Command


def arguments(parser):
    parser.add_argument("key", nargs="?", metavar="KEY", help="the key (better: leave it out)")


def run(ctx, opts):
    key = opts.key
    if key is None:
        try:
            key = ctx.ask_hidden("Vast.ai API key: ")
        except Stopped:
            raise UsageError(f"Interrupted; nothing was stored. {BOX_LEFT} Run "
                             "`%vast set api-key` again to enter the key.") from None
        if key is None:
            raise UsageError("No key entered; nothing was stored. Where nothing can be asked "
                             "(a script or a pipe on standard input, a front end without "
                             "input), set VAST_API_KEY in the environment, or pass the key "
                             "from a variable: `%vast set api-key $key`.")
    key = credentials.clean(key)
    if not key:
        raise UsageError("The key is empty; nothing was stored.")
    if not credentials.sendable(key):
        raise UsageError("That key contains characters an API key cannot have (non-ASCII or "
                         "control characters); nothing was stored. Copy it again.")
    if opts.key is not None:
        ctx.warn_if_typed(key, "%vast set api-key KEY")
    where = credentials.store(key)
    if opts.raw:
        return RawAnswer({"success": True, "msg": where})
    ctx.say(where)
    return None


COMMAND = Command(
    ("set", "api-key"), run, arguments=arguments, globals=("raw",),  # it sends nothing
    help="store your API key in the system keyring",
    description="Store your Vast.ai API key in the system keyring (or, with no usable "
                "keyring, in ~/.config/vastai/vast_api_key with mode 0600).  With no "
                "KEY, a hidden prompt asks for it, so it never lands in the history.")
