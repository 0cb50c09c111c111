"""``%vast tfa activate CODE``: make a new method (TOTP or SMS) active with its code.

``POST /tfa/confirm-new/`` with the setup's secret (kept by totp-setup or
send-sms -p), the code, and for SMS the phone number.  Needs the add-method
window that auth-new opens.  The account's first method brings backup codes.
"""

from __future__ import annotations

from IPython.core.error import UsageError

from .. import reveal
from ..api import tfa
from ..context import Result
from . import options, twostep
from .base import Command

NAME = "%vast tfa activate"
KINDS = {"totp": "totp_setup", "sms": "sms_setup"}
ACTED = ("The server may have activated it before the connection failed: `%vast tfa status` "
         "shows your methods.")


def flow(kind: str) -> twostep.Flow:
    """The two-step flow of a new method of this kind (totp-setup or send-sms -p, then
    activate)."""
    start = "%vast tfa totp-setup" if kind == "totp" else "%vast tfa send-sms -p PHONE"
    return twostep.Flow(purpose=KINDS[kind], command=start, acted=ACTED,
                        finish_with=f"{NAME} CODE" + (" -t sms" if kind == "sms" else ""),
                        advise=advise)


def advise(exc, client=None) -> list[str]:
    if exc.code == "authorization_required":
        return ["Open the 30-minute window with `%vast tfa auth-new`, then activate again "
                "with the same code source (the setup is kept)."]
    if exc.code == "duplicate_tfa_method":
        return ["`%vast tfa status` shows your methods."]
    return []


def arguments(parser):
    parser.add_argument("code", metavar="CODE",
                        help="the 6-digit code your app shows, or that was texted to you")
    parser.add_argument("--secret", metavar="SECRET",
                        help="the setup's secret (default: the one totp-setup or send-sms kept)")
    parser.add_argument("-t", "--method-type", choices=tuple(KINDS), default=None,
                        help="which setup to finish (default: the most recent one pending, "
                             "else totp)")
    parser.add_argument("--phone-number", metavar="PHONE",
                        help="the SMS number (default: the one send-sms was given)")
    options.add_label(parser)
    options.add_backup_codes_file(parser)


def confirm(challenge, *, label: str | None = None, phone: str | None = None):
    """The step-2 function for twostep: confirm-new with the setup's label and phone."""
    def finish(client, secret: str, code: str, method: str | None):
        kind = "sms" if challenge.purpose == "sms_setup" else "totp"
        data = tfa.confirm_new(client, tfa_method=kind, code=code, secret=secret,
                               phone_number=(phone or challenge.phone_number or None)
                               if kind == "sms" else None,
                               label=label or challenge.method_label or None)
        number = phone or challenge.phone_number
        what = "Your authenticator app" if kind == "totp" else f"SMS to {number}"
        return Result(data, [f"{what} is now a 2FA method."])
    return finish


def done(ctx, result: Result, target):
    """Say it is active and hand over the backup codes a first method brings."""
    if ctx.opts.raw:
        return ctx.show(result)
    ctx.say("\n".join(result.lines))
    codes = reveal.codes_in(result.data)
    if codes:
        reveal.hand_over_codes(ctx, codes, target)
    return None


def run(ctx, opts):
    target = reveal.check_codes_file(opts.backup_codes_file)
    kind = opts.method_type or _latest_kind(ctx)
    pending = ctx.pending.get(KINDS[kind])
    if opts.secret is None and pending is None:
        other = "sms" if kind == "totp" else "totp"
        if opts.method_type is None or ctx.pending.get(KINDS[other]) is None:
            raise UsageError("Nothing to activate: start with `%vast tfa totp-setup` (an "
                             "authenticator app) or `%vast tfa send-sms -p PHONE`, or give "
                             "--secret (no request was sent).")
        raise UsageError(f"No {kind} setup is pending (an {other} one is): leave out -t, or "
                         f"say -t {other} (no request was sent).")
    if kind == "sms" and not (opts.phone_number or (pending and pending.phone_number)):
        raise UsageError("An SMS method needs its number: --phone-number PHONE (no request "
                         "was sent).")
    from ..api.challenge import Challenge

    challenge = pending if pending is not None and opts.secret in (None, pending.secret) \
        else Challenge(secret=opts.secret, method=kind, purpose=KINDS[kind])
    result = twostep.finish_later(ctx, flow(kind),
                                  confirm(challenge, label=opts.label, phone=opts.phone_number),
                                  code=opts.code, secret=opts.secret)
    return done(ctx, result, target)


def _latest_kind(ctx) -> str:
    """The kind of the most recent pending setup (totp when there is none)."""
    kept = [(c.sent_at, kind) for kind, purpose in KINDS.items()
            if (c := ctx.pending.get(purpose)) is not None]
    return max(kept)[1] if kept else "totp"


COMMAND = Command(
    ("tfa", "activate"), run, arguments=arguments,
    help="activate a new 2FA method (TOTP or SMS) with its code",
    description="Activate the authenticator app that `%vast tfa totp-setup` set up (or the "
                "number `%vast tfa send-sms -p PHONE` texted) with the code it shows.  Needs "
                "the 30-minute window that `%vast tfa auth-new` opens.  The account's first "
                "method brings 10 backup codes: shown once where you are (never kept in a "
                "saved notebook), or written to --backup-codes-file.",
    epilog="examples:\n  %vast tfa activate 123456\n  %vast tfa activate 123456 -t sms\n"
           "  %vast tfa activate 123456 --secret S -l phone --phone-number +15551234567\n")
