"""``%vast tfa login``: start a 2FA session with a code (``POST /tfa/``).

The session key that comes back is kept where the CLI reads it
(``~/.config/vastai/vast_tfa_key``, mode 0600), so ``!vastai`` on this machine
runs in the session too, and later ``%vast`` lines send it after ``--api-key``
and ``VAST_API_KEY``.  It is never shown; ``--raw`` returns the answer (its
display masks the key) for Python code that needs it.
"""

from __future__ import annotations

from .. import credentials
from ..api import tfa
from ..api.errors import VastError
from ..render import RawAnswer
from . import verify
from .base import Command

NAME = "%vast tfa login"
FEW_CODES = 3  # warn when this many backup codes or fewer are left

EPILOG = """\
examples:
  %vast tfa login                      email a code, then ask for it
  %vast tfa login -t totp              ask for your authenticator app's code
  %vast tfa login -t totp -c 123456    (the CLI's way)
  %vast tfa login -t sms               text a code, then ask for it
  %vast tfa login --method-id 102      that method (ids from `%vast tfa status`)
  %vast tfa login -c 123456            finish with the code of the kept SMS/email
  %vast tfa login -bc ABCD-EFGH-IJKL   a backup code
"""


def arguments(parser):
    verify.add_options(parser)


def act(client, fields: dict, method=None, method_id=None) -> dict:
    return tfa.login(client, fields, method=method, method_id=method_id)


def run(ctx, opts):
    data = verify.verified(ctx, opts, verify.flow(NAME), act)
    if data is None:
        return None
    key = data["session_key"]
    refreshed = ctx.key is not None and ctx.key.value == key
    path = credentials.store_session(key)
    if opts.raw:
        return RawAnswer(data)
    ctx.say("\n".join(stored_lines(path, refreshed, opts.api_key)
                      + _backup_codes_left(data, opts)))
    return None


def stored_lines(path, refreshed: bool, flag: str | None) -> list[str]:
    """Where the session key went, what sends it, and how to end it."""
    what = "Your 2FA session was refreshed" if refreshed else "Logged in: a 2FA session began"
    lines = [f"{what}; its key is in {credentials.tilde(path)} (readable by you only), where "
             "`vastai` on this machine finds it too."]
    winner = credentials.resolve(flag)
    if winner is not None and credentials.is_session(winner.source):
        lines.append("Later %vast lines send it instead of your API key.")
    else:
        lines.append(f"But {credentials.describe(winner)} comes first, so later %vast lines "
                     "keep sending that (as the CLI does).")
    lines.append("`%vast tfa logout` ends it here; `%vast --raw tfa login` returns the key for "
                 "Python code (such as the SDK's VastAI(api_key=...)).")
    return lines


def _backup_codes_left(data: dict, opts) -> list[str]:
    if opts.backup_code is None:
        return []
    said = "Backup code accepted (it cannot be used again)"
    left = data.get("backup_codes_remaining")
    if type(left) is not int:
        return [said + "."]
    return [f"{said}; {left} left."] + (
        ["Few are left: `%vast tfa regen-codes` issues a new set."] if left <= FEW_CODES else [])


def session_required_hints(ctx) -> list[str]:
    """For a 401 that needs a 2FA session: the login lines for the account's methods."""
    try:
        kinds = verify.lookup_methods(ctx.client()) or {}
    except VastError:  # hints only: any trouble leaves the generic lines
        kinds = {}
    counts = {kind: list(kinds.values()).count(kind) for kind in set(kinds.values())}
    lines = [f"  {NAME} -t {kind}" if counts[kind] == 1 else f"  {NAME} --method-id {i}"
             f"  ({kind})" for i, kind in sorted(kinds.items())]
    lines = list(dict.fromkeys(lines)) + [f"  {NAME} -t email", f"  {NAME} -bc BACKUP-CODE"]
    hints = ["Start one with a 2FA code, then run this line again:", *lines]
    sent = credentials.resolve(ctx.opts.api_key)
    if sent is not None and not credentials.is_session(sent.source) \
            and credentials.session_file().exists():
        hints.append(f"A session key is stored, but {credentials.describe(sent)} comes first.")
    return hints


COMMAND = Command(
    ("tfa", "login"), run, arguments=arguments,
    help="start a 2FA session with a code (its key is kept for %vast and vastai)",
    description="Log in with a 2FA code and keep the session key it returns where the vastai "
                "CLI reads it (~/.config/vastai/vast_tfa_key, readable by you only), so "
                "`!vastai` runs in the session too; later %vast lines send it after --api-key "
                "and VAST_API_KEY.  The key is never shown: `%vast --raw tfa login` returns the "
                "answer with it (displayed masked).  With no -c, a code is emailed (or texted: "
                "-t sms) and asked for where the line runs, or finished in a later cell with "
                "`%vast tfa login -c CODE`; `-t totp` asks for your authenticator app's code.  "
                "`%vast tfa logout` ends it here.",
    epilog=EPILOG)
