"""``%vast tfa totp-setup``: add an authenticator app, all the way in one line.

Where a person is (a terminal, a Jupyter front end that allows input): opens
the add-method window with auth-new if it is closed, shows the QR code and the
key, asks for the code the app then shows, activates, and hands over the
backup codes.  Where nobody is: sets up only (no email or SMS is sent), keeps
the key hidden, and says what to run next.
"""

from __future__ import annotations

from .. import reveal
from ..api import tfa
from ..api.challenge import Challenge
from ..api.errors import VastError
from ..credentials import fingerprint
from ..render import RawAnswer, TotpKey
from . import activate, auth_new, options, twostep
from .base import Command

FLOW = activate.flow("totp")
VARIABLE = FLOW.variable


def arguments(parser):
    options.add_label(parser)
    options.add_no_prompt(parser, "ask and show nothing: set up, keep the key hidden, and say "
                                  "how to finish")
    options.add_backup_codes_file(parser)


def window_open(client) -> bool | None:
    """Is the add-method window open? None when status cannot tell."""
    try:
        value = tfa.status(client, attempts=1).get("new_method_authorized")
    except VastError:  # one attempt: setting up reports any real trouble with the server
        return None
    return value if isinstance(value, bool) else None


def run(ctx, opts):
    target = reveal.check_codes_file(opts.backup_codes_file)
    client = ctx.client()
    person = None if opts.raw else ctx.person()
    window = window_open(client)
    if window is False and person is not None:
        ctx.say("Adding a method needs the 30-minute window that auth-new opens; opening it "
                "first.")
        if not auth_new.authorize(ctx, client):
            ctx.say("Once it is authorized, run `%vast tfa totp-setup` again.")
            return None
        window = True
    data = tfa.totp_setup(client)
    challenge = Challenge(secret=data["secret"], method="totp", purpose="totp_setup",
                          url=client.url, key_id=fingerprint(client.api_key),
                          method_label=opts.label or "",
                          provisioning_uri=data["provisioning_uri"])
    ctx.pending.keep(challenge)
    if opts.raw:
        return RawAnswer(data)
    if person is None:
        ctx.say(f"An authenticator key was made. Nobody can be shown it here, so it is kept "
                f"hidden in {VARIABLE} (.secret is the key to type into your app, "
                ".provisioning_uri the link its QR code holds).")
        first = "" if window else "open the add-method window with `%vast tfa auth-new`, then "
        ctx.say(f"To finish: {first}`{FLOW.finish_line}` with the code your app shows.")
        return None
    key = TotpKey(challenge.secret, challenge.provisioning_uri)
    shown = reveal.show(ctx, key, terminal_text=key.terminal_text())
    try:
        result = twostep.ask_and_finish(
            ctx, FLOW, challenge, activate.confirm(challenge), client,
            started="Add it to your authenticator app, then enter the code the app shows.")
    finally:
        shown.remove("The authenticator key and QR code")
    if result is None:
        return None
    return activate.done(ctx, result, target)


COMMAND = Command(
    ("tfa", "totp-setup"), run, arguments=arguments,
    help="add an authenticator app: QR code, code, activation, in one line",
    description="Set up an authenticator app (TOTP).  Where you can be asked, it goes all the "
                "way: opens the add-method window with auth-new if needed, shows a QR code and "
                "the key, asks for the code the app shows, activates it, and hands over the "
                "backup codes (first method only).  The key and QR code are never kept in a "
                "saved notebook.  Where nothing can be asked (or with --no-prompt), it only "
                "sets up, keeps the key hidden in _vast_pending_totp_setup, and says how to "
                "finish with `%vast tfa activate CODE`.",
    epilog="examples:\n  %vast tfa totp-setup\n  %vast tfa totp-setup -l phone-app "
           "--backup-codes-file ~/vast-backup-codes.txt\n")
