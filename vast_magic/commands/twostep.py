"""The two-step flow every command that needs a code shares.

Step 1 starts a challenge (a code is emailed or texted, or the app has one);
the challenge is kept by purpose; the code is asked for where the line runs
(a terminal prompt, the Jupyter input box) and step 2 sends it — or, where
nothing can be asked, a later cell finishes with ``--code``.  This module
owns what clears a challenge (success, or the server saying it is gone),
what a refusal at either step adds as a next step, and what Ctrl-C (or Stop
while the Jupyter input box waits) says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from IPython.core.error import UsageError

from ..api.challenge import Challenge, bad_code_message, normalize_code
from ..api.errors import ChallengeGone, Locked, TransportError, VastError, WrongCode
from ..constants import CODE_LIFE_MINUTES, LOCK_MINUTES, PENDING
from ..context import check_url
from ..credentials import fingerprint
from ..prompt import BOX_LEFT, ask_once

#: finish(client, challenge_secret, code, method) -> Result
Finish = Callable[..., object]


@dataclass(frozen=True)
class Flow:
    """What differs between two-step commands."""

    purpose: str            # a key of constants.PENDING
    command: str            # "%vast tfa auth-new": start (again) with it
    acted: str              # what to check when a request may have acted unanswered
    how_to_start: str = ""  # " (add -t sms ... to choose how)", after "Start with `command`"
    advise: Callable[..., list[str]] = lambda exc, client: []  # the command's own hints
    finish_with: str = ""   # the line that finishes it (default: command + " --code CODE")

    @property
    def finish_line(self) -> str:
        return self.finish_with or f"{self.command} --code CODE"

    @property
    def noun(self) -> str:
        return PENDING[self.purpose][1]

    @property
    def variable(self) -> str:
        return PENDING[self.purpose][0]

    def finish_later_hint(self, challenge: Challenge) -> str:
        """How to finish in a later cell: two short lines."""
        left = challenge.seconds_left()
        life = (f"valid about {left // 60:.0f} more min" if left >= 60 else
                f"it may be about to expire; codes last {CODE_LIFE_MINUTES} minutes")
        return (f"When you have {challenge.where()}, finish with: {self.finish_line}\n"
                f"({life}; the secret is kept in {self.variable})")


def step_one(flow: Flow, send: Callable[[], dict], *, spends: str, client) -> dict:
    """Send step 1; a refusal or Ctrl-C gets this flow's next steps.

    ``spends`` says what an unanswered step 1 may have cost ("a code may
    arrive, but ..."); ``client`` sent it (advice may look up the account).
    """
    try:
        return send()
    except KeyboardInterrupt:
        raise VastError("Interrupted before step 1 answered.",
                        [f"If the request reached the server, {spends}. Start again: "
                         f"{flow.command}"], code="interrupted") from None
    except VastError as exc:
        raise _advised(exc, flow, client, step=1) from None


def ask_and_finish(ctx, flow: Flow, challenge: Challenge, finish: Finish, client, *,
                   started: str):
    """Keep the challenge, say ``started``; ask for its code where this line
    can and finish: the Result, or None when it waits for a later cell (and
    says how to finish then)."""
    ctx.pending.keep(challenge)
    ctx.say(started)
    asker = ctx.code_asker()
    while True:
        how, code = ask_once(asker, challenge)
        if how == "nobody":  # nobody was asked: no "no code entered"
            ctx.say(flow.finish_later_hint(challenge))
            return None
        if how != "code":  # after Stop, the front end may leave the input box on screen
            said = (f"Interrupted; the {flow.noun} is still pending. {BOX_LEFT}"
                    if how == "stopped" else
                    f"No code entered; the {flow.noun} is still pending.")
            ctx.say(said + "\n" + flow.finish_later_hint(challenge))
            return None
        try:
            result = _step_two(ctx, flow, challenge, finish, client, code, ours=True)
        except WrongCode as exc:
            if exc.locked():
                raise
            ctx.say(exc.message)  # and ask again: the prompt keeps typos from the server
            continue
        return result


def finish_later(ctx, flow: Flow, finish: Finish, *, code: str | None, secret: str | None):
    """``--code`` (and maybe ``--secret``): step 2 for a challenge kept from earlier;
    the Result."""
    if code is None:
        raise UsageError(f"--secret needs a code: `{flow.finish_line} --secret SECRET`.")
    digits = normalize_code(code)
    if digits is None:
        raise UsageError(bad_code_message(code))
    pending = ctx.pending.get(flow.purpose)
    secret = secret or (pending.secret if pending else None)
    if not secret:
        raise UsageError(
            "Nothing is pending, so --code has nothing to finish (no request was sent). "
            f"Start with `{flow.command}`{flow.how_to_start}, then finish with "
            f"`{flow.finish_line}`.")
    ours = pending is not None and pending.secret == secret
    if not ours:
        pending = Challenge(secret=secret, method="", purpose=flow.purpose)
    client = ctx.client(url=_server_of(ctx, flow, pending) if ours else None)
    if ours and pending.key_id:
        if fingerprint(client.api_key) != pending.key_id:
            raise UsageError(
                f"The pending {flow.noun} was started with another API key; finish it with "
                f"that key (this one is from {client.key_source}). It is kept.")
    return _step_two(ctx, flow, pending, finish, client, digits, ours=ours)


def _step_two(ctx, flow: Flow, challenge: Challenge, finish: Finish, client, code: str, *,
              ours: bool):
    """Send the code; success or a gone challenge drops it, anything else keeps it."""
    try:
        result = finish(client, challenge.secret, code, challenge.method_type)
    except KeyboardInterrupt:
        hints = ([f"The pending {flow.noun} is kept."]
                 + flow.finish_later_hint(challenge).splitlines()) if ours else []
        raise VastError("Interrupted before an answer came.", hints,
                        code="interrupted") from None
    except VastError as exc:
        dropped = isinstance(exc, ChallengeGone) and ctx.pending.drop(flow.purpose,
                                                                      challenge.secret)
        if dropped:
            exc.message += f" The pending {flow.noun} was cleared."
        raise _advised(exc, flow, client, step=2) from None
    ctx.pending.drop(flow.purpose, challenge.secret)
    return result


def _server_of(ctx, flow: Flow, pending: Challenge) -> str:
    """Finish where step 1 went: its server, unless --url names the same or another."""
    started = (pending.url or "").rstrip("/")
    given = ctx.opts.url
    if not given:
        if not pending.url:
            return ctx.server_url()
        check_url(pending.url, f"(where the pending {flow.noun} was started)")
        return pending.url
    if started and given.rstrip("/") != started:
        raise UsageError(f"The pending {flow.noun} was started at {pending.url}, not at "
                         f"{given}; finish it without --url (it is kept).")
    return ctx.server_url()


def _advised(exc: VastError, flow: Flow, client, *, step: int) -> VastError:
    """The error with this flow's next steps, then the command's own."""
    if isinstance(exc, WrongCode) and not exc.locked():
        kept = f"The pending {flow.noun} is kept. " if step == 2 else ""  # step 1: none yet
        exc.advise(f"{kept}Try again: {flow.finish_line}")
    elif isinstance(exc, Locked):
        after = ("When the lock ends, start again" if step == 1 else
                 f"A code lives {CODE_LIFE_MINUTES} minutes and the lock {LOCK_MINUTES}, so "
                 "when the lock ends, start again")
        exc.advise(f"{after}: {flow.command}")
    elif isinstance(exc, ChallengeGone):
        exc.advise(f"Start again: {flow.command}")
    elif exc.code in ("missing_params", "missing_auth_value") and step == 2:
        exc.advise(f"Finish with `{flow.finish_line}` (the pending secret is used).")
    elif isinstance(exc, TransportError) and exc.may_have_acted:
        exc.advise(flow.acted)
    return exc.advise(*flow.advise(exc, client))
