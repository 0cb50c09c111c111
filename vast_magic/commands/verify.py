"""What the commands that verify with a 2FA method share: the method lookup
before a step 1 that names a method, the next steps for refusals about
methods, and for login, delete and regen-codes the CLI's verification options
(``-c``/``-bc``, ``-t``/``--method-id``, ``-s``), the confirmation, and
:func:`verified`, which sends a request with its proof."""

from __future__ import annotations

import dataclasses
from typing import Callable

from IPython.core.error import UsageError

from ..api import tfa
from ..api.challenge import Challenge, bad_code_message, normalize_code
from ..api.errors import Locked, Refusal, VastError, WrongCode
from ..constants import CODE_LIFE_MINUTES, METHOD_TYPES
from ..credentials import fingerprint
from ..prompt import BOX_LEFT, ask_once
from . import options, twostep

_SMS_TROUBLE = ("sms_rate_limited", "twilio_rate_limited", "preauth_phone_cap")
STATUS_HINT = "`%vast tfa status` lists your methods and their ids."


def lookup_methods(client) -> dict | None:
    """The account's methods as {id: "sms"/"totp"} ({} when it has none), or None
    if they cannot be told.

    Asked before a step 1 that names a method, so the prompt can name it, the
    failures are counted against its own limit, and an account with no method
    yet (where the server emails the code whatever was asked) is told so. The
    request is safe; any trouble with it is left for step 1 to report.
    """
    account = lookup_account(client)
    return None if account is None else account[0]


def status_answer(client) -> dict | None:
    """``tfa status``'s answer, with its "methods" a list, or None if it cannot be
    had.  One attempt: the request the lookup serves reports (and retries) any
    trouble with the server."""
    try:
        answer = tfa.status(client, attempts=1)
    except VastError:
        return None
    return answer if isinstance(answer.get("methods"), list) else None


def lookup_account(client) -> tuple[dict, int | None] | None:
    """The account's methods ({id: kind}) and its backup codes left (None if not
    said), or None if they cannot be told."""
    answer = status_answer(client)
    if answer is None:
        return None
    methods = answer["methods"]
    kinds = {m["id"]: m["method"] for m in methods if _readable(m)}
    if methods and not kinds:
        return None  # methods we cannot read: tell nothing rather than "none"
    left = answer.get("backup_codes_remaining")
    return kinds, left if type(left) is int else None


def _readable(method) -> bool:
    """A method entry whose id is a whole number and whose kind is one we know."""
    return (isinstance(method, dict) and type(method.get("id")) is int
            and method.get("method") in METHOD_TYPES)


def ways(account: tuple[dict, int | None], *, avoid=(), avoid_id=None,
         backup: bool = True) -> list[str]:
    """The options that verify with what the account has, except the kinds in
    ``avoid`` and the method ``avoid_id``; a kind with several methods is chosen
    by id."""
    kinds, left = account
    found = [] if "email" in avoid else ["`-t email`"]
    for kind in ("totp", "sms"):
        ids = sorted(i for i, k in kinds.items() if k == kind)
        usable = [i for i in ids if i != avoid_id and kind not in avoid]
        if len(ids) == 1 and usable:
            found.append(f"`-t {kind}`")
        else:
            found += [f"`--method-id {i}` ({kind})" for i in usable]
    if backup and left != 0:
        found.append("`--backup-code CODE`")
    return found


def other_ways(exc: Refusal, client, *, avoid=(), backup: bool = True,
               lead: str = "Meanwhile you can verify another way") -> str:
    """A sentence offering the ways the account has besides the one in trouble."""
    try:  # Ctrl-C here only gives up the lookup; the refusal is still shown
        account = lookup_account(client) if client is not None else None
    except KeyboardInterrupt:
        account = None
    if account is None:
        return (f"{lead} if your account has one (it could not be looked up): "
                f"{STATUS_HINT}")
    if not avoid and exc.method_id is None and exc.method:
        avoid = (exc.method,)
    found = ways(account, avoid=avoid, avoid_id=exc.method_id, backup=backup)
    if not found:
        return "Your account has no other way to verify."
    return f"{lead}: {_either(found)}."


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def advice(exc: VastError, command: str, client=None) -> list[str]:
    """Next steps for a refusal about the method verified with; ``command``
    starts the verification again; with ``client``, the other ways are the ones
    the account has."""
    if not isinstance(exc, Refusal):
        return []
    code = exc.code
    if isinstance(exc, Locked) or (isinstance(exc, WrongCode) and exc.locked()):
        return [other_ways(exc, client)]
    if code == "not_found" and exc.method_id is not None:
        return [STATUS_HINT]
    if code == "not_found" and exc.method in ("sms", "totp"):
        return ["`%vast tfa status` lists the methods you have; "
                f"`{command}` (email) works for every verified account."]
    if code == "email_not_verified":
        return ["Verify it in the Vast.ai console (Account settings), then start again.",
                other_ways(exc, client, avoid=("email", "sms"),
                           lead="Meanwhile, what sends nothing still works")]
    if code == "invalid_backup_code":
        return ["Check it for typos or use another one.",
                other_ways(exc, client, backup=False,
                           lead=f"Or start again with a code, `{command}` adding")]
    if code == "invalid_tfa_method":
        return ["Use -t email, -t sms or -t totp."]
    if code in _SMS_TROUBLE:
        return ["Wait a while.", other_ways(exc, client, avoid=("sms",))]
    if code in ("twilio_error", "sms_blocked_number"):
        return [other_ways(exc, client, avoid=("sms",), lead="Verify another way")]
    if code == "sms_fraud_detected":
        return [other_ways(exc, client, avoid=("sms",), lead="Verify another way"),
                "Contact Vast.ai support to restore SMS."]
    if code == "bad_request" and "method_id" in exc.server_words:
        return ["`%vast tfa status` lists your methods; choose one with --method-id ID."]
    return []


# -- login, delete, regen-codes: the CLI's verification options ----------------------

#: act(client, fields, method=..., method_id=...) -> the answer: the command's request
#: with the verification fields.
Act = Callable[..., dict]
_SENT = "a code may arrive, but without its secret it cannot be used"
_SPENT = "the code may have been used"


def add_options(parser, *, short_id: bool = True, confirms: str = "") -> None:
    """The verification options (the CLI's words); ``-id`` is --method-id unless the
    command uses it for something else; ``confirms`` adds --yes."""
    group = parser.add_argument_group("verification (default: a code emailed, then asked for)")
    code = group.add_mutually_exclusive_group()
    code.add_argument("-c", "--code", metavar="CODE",
                      help="the 6-digit code (default: asked for where the line runs)")
    code.add_argument("-bc", "--backup-code", metavar="CODE",
                      help="a one-time backup code instead of a code")
    how = group.add_mutually_exclusive_group()
    how.add_argument("-t", "--method-type", choices=METHOD_TYPES, default=None,
                     help="verify with your one method of this type: sms and email send a "
                          "code first; with -c alone, your authenticator app")
    how.add_argument(*(("-id", "--method-id") if short_id else ("--method-id",)),
                     dest="method_id", type=options.method_id, metavar="ID",
                     help="verify with this method (the 'id' from `%%vast tfa status`)")
    group.add_argument("-s", "--secret", metavar="SECRET",
                       help="the secret of an SMS or email code (default: the one kept in "
                            "_vast_pending_verification)")
    options.add_no_prompt(group, "do not ask for the code; finish later with -c CODE")
    if confirms:
        parser.add_argument("--yes", action="store_true",
                            help=f"{confirms} without asking for confirmation")


def flow(command: str, advise: Callable[[VastError], list[str]] = lambda exc: []):
    """The two-step flow of a verifying command; ``command`` starts it again."""
    return twostep.Flow(
        purpose="verify", command=command, finish_with=f"{command} -c CODE",
        acted="The server may have acted on it (sent you a code, or accepted the one you "
              "sent): `%vast tfa status` shows your methods; check your email/SMS before "
              "asking for another code.",
        advise=lambda exc, client: (advice(exc, command, client) + _missing_secret(exc, command)
                                    + advise(exc)))


def _missing_secret(exc: VastError, command: str) -> list[str]:
    if exc.code != "missing_params":
        return []
    return [f"An SMS or email code needs its secret: `{command} -t sms` (or -t email) sends "
            "one and asks for it; `-t totp` takes your authenticator app's code."]


def confirm(ctx, opts, question: str, doing: str) -> bool:
    """--yes, or a person's yes to ``question``; with nobody to ask and no --yes, a
    UsageError naming ``doing`` (nothing sent).  False: the person said no."""
    if opts.yes:
        return True
    if ctx.person() is None:
        raise UsageError(f"{doing} needs your confirmation, and nobody can be asked here, so "
                         "nothing was sent: add --yes to the line to confirm it there.")
    answer = ctx.ask_line(f"{question} [y/N] ")
    if (answer or "").strip().lower() in ("y", "yes"):
        return True
    ctx.say("Not confirmed: nothing was sent.")
    return False


def verified(ctx, opts, flow: twostep.Flow, act: Act) -> dict | None:
    """Send the command's request with its proof: a backup code, or a code given
    or asked for (an SMS or email code is sent first when none is kept).  The
    answer, or None when the code is to come in a later cell."""
    if opts.backup_code is not None:
        code = opts.backup_code.strip()
        if not code:
            raise UsageError("The backup code is empty (nothing was sent); backup codes look "
                             "like ABCD-EFGH-IJKL.")
        client = ctx.client()
        return twostep.step_one(flow, lambda: act(client, {"backup_code": code}),
                                spends="the backup code may have been used", client=client)
    pending = _fitting(ctx.pending.get("verify"), opts)
    if opts.code is not None or opts.secret is not None:
        if opts.secret is not None or pending is not None:
            return twostep.finish_later(ctx, flow, _finish(opts, act, pending),
                                        code=opts.code, secret=opts.secret)
        return _code_alone(ctx, opts, flow, act)
    client = ctx.client()
    if pending is not None and not pending.expired:
        return twostep.ask_and_finish(
            ctx, flow, pending, _finish(opts, act, pending), client,
            started=f"A code was sent earlier ({pending.label}); its secret is kept in "
                    f"{flow.variable}.")
    kind = opts.method_type or ("email" if opts.method_id is None
                                else _kind_of(client, opts.method_id))
    if kind in ("sms", "email"):
        challenge = _send_code(client, flow, kind, opts.method_id)
        return twostep.ask_and_finish(ctx, flow, challenge, _finish(opts, act, challenge),
                                      client, started=sent_message(challenge))
    return _ask_app(ctx, opts, flow, act, client, kind)


def sent_message(challenge: Challenge) -> str:
    how = "emailed to you" if challenge.method == "email" else "texted to you"
    which = f" (method {challenge.method_id})" if challenge.method_id is not None else ""
    return f"A 6-digit code was {how}{which} (valid {CODE_LIFE_MINUTES} minutes)."


def _fitting(pending: Challenge | None, opts) -> Challenge | None:
    """The kept verification, if it fits the -t/--method-id given."""
    if pending is None or opts.method_type not in (None, pending.method) \
            or opts.method_id not in (None, pending.method_id):
        return None
    return pending


def _fields(code: str, secret: str | None, method: str | None, method_id: int | None):
    fields = {"code": code, **({"secret": secret} if secret else {})}
    if method_id is not None:
        return {**fields, "tfa_method_id": method_id}
    return {**fields, "tfa_method": method} if method else fields


def _finish(opts, act: Act, challenge: Challenge | None) -> twostep.Finish:
    """Step 2 for twostep: the request with the code and the challenge's secret."""
    def finish(client, secret: str, code: str, method: str | None):
        ours = challenge is not None and challenge.secret == secret
        method = opts.method_type or method
        method_id = opts.method_id if opts.method_id is not None else (
            challenge.method_id if ours else None)
        return act(client, _fields(code, secret, method, method_id), method=method,
                   method_id=method_id)
    return finish


def _again(flow: twostep.Flow, opts) -> twostep.Flow:
    """The flow whose finishing line repeats the method chosen (no secret to keep)."""
    how = (f" --method-id {opts.method_id}" if opts.method_id is not None
           else f" -t {opts.method_type}" if opts.method_type else "")
    return dataclasses.replace(flow, finish_with=f"{flow.command}{how} -c CODE")


def _code_alone(ctx, opts, flow: twostep.Flow, act: Act):
    """-c with no secret: an authenticator code (the server's default method)."""
    if opts.method_type in ("sms", "email"):
        kind = "SMS" if opts.method_type == "sms" else "email"
        raise UsageError(
            f"An {kind} code needs the secret of the message it came in, and none "
            "is kept (nothing was sent): leave out -c to have a code sent and asked for, or "
            "give -s SECRET.")
    code = normalize_code(opts.code)
    if code is None:
        raise UsageError(bad_code_message(opts.code))
    client = ctx.client()
    return twostep.step_one(
        _again(flow, opts),
        lambda: act(client, _fields(code, None, opts.method_type, opts.method_id),
                    method=opts.method_type, method_id=opts.method_id), spends=_SPENT,
        client=client)


def _kind_of(client, method_id: int) -> str | None:
    """The kind of a method id (None if it cannot be told); an unknown id is refused."""
    kinds = lookup_methods(client)
    if kinds is not None and method_id not in kinds:
        raise VastError(f"This account has no 2FA method with id {method_id} (nothing was "
                        "sent).", [STATUS_HINT],
                        code="not_found")
    return (kinds or {}).get(method_id)


def _send_code(client, flow: twostep.Flow, kind: str, method_id: int | None) -> Challenge:
    """Step 1: text or email a code; the challenge to keep."""
    if kind == "sms":
        data = twostep.step_one(flow, lambda: tfa.send_sms(client, method_id=method_id),
                                spends=_SENT, client=client)
    else:
        data = twostep.step_one(flow, lambda: tfa.send_email(client), spends=_SENT,
                                client=client)
    return Challenge(secret=tfa.secret_of(data), method=kind, method_id=method_id,
                     url=client.url, key_id=fingerprint(client.api_key), asked=kind,
                     purpose="verify")


def _ask_app(ctx, opts, flow: twostep.Flow, act: Act, client, kind: str | None):
    """An authenticator code (``kind`` totp, or unknown), asked for here; nothing is
    sent first."""
    again = _again(flow, opts)
    asker = ctx.code_asker()
    shown = Challenge(secret="", method=kind or f"method {opts.method_id}",
                      method_id=opts.method_id, purpose="verify")
    while True:
        how, code = ask_once(asker, shown)
        if how == "nobody":
            raise UsageError("Nobody can be asked for the code here, so nothing was sent: "
                             f"give the one your authenticator app shows, "
                             f"`{again.finish_line}`.")
        if how == "stopped":  # the front end may leave the input box on screen
            ctx.say(f"Interrupted, so nothing was sent. {BOX_LEFT}\n"
                    f"Later: {again.finish_line}")
            return None
        if how == "put off":
            ctx.say(f"No code entered, so nothing was sent. Later: {again.finish_line}")
            return None
        try:
            return twostep.step_one(
                again, lambda: act(client, _fields(code, None, kind, opts.method_id),
                                   method=kind, method_id=opts.method_id), spends=_SPENT,
                client=client)
        except WrongCode as exc:
            if exc.locked():
                raise
            ctx.say(exc.message)  # and ask again, as for a sent code
