"""A challenge a step 1 opened, waiting for its code; and what a code looks like."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field

from ..constants import CODE_LIFE_MINUTES, METHOD_TYPES, PENDING

CODE_LIFE = CODE_LIFE_MINUTES * 60.0  # seconds a sent code is valid


def normalize_code(text: str | None) -> str | None:
    """``"123 456"`` / ``"123-456"`` → ``"123456"``; None unless exactly 6 digits.

    Digits of other scripts (a full-width ``１２３４５６`` from an IME) become
    ASCII, which is what the server compares.
    """
    if text is None:
        return None
    compact = re.sub(r"[\s-]", "", text)
    if len(compact) != 6 or not compact.isdecimal():
        return None
    return "".join(str(int(ch)) for ch in compact)


def bad_code_message(text: str) -> str:
    """Why a typed code was refused, without repeating it (messages are saved)."""
    compact = re.sub(r"[\s-]", "", text)
    if not compact:
        shape = "nothing but spaces"
    elif compact.isdecimal():
        shape = f"{len(compact)} digits"
    else:
        shape = f"{len(compact)} characters, not all digits"
    return (f"That is not a 2FA code ({shape}): a code is 6 digits. Nothing was sent "
            "(a wrong code counts towards a lockout).")


def clock(seconds: float) -> str:
    """``9:58``: minutes and seconds, never negative."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass(repr=False)
class Challenge:
    """A step 1 waiting for its code.

    The secret is there for whoever asks for it deliberately
    (``_vast_pending_tfa.secret``) but never shown by ``repr`` or in HTML,
    because a notebook saves what it displays.
    """

    secret: str
    method: str                       # "email", "sms", "totp", or "method 456" if unknown
    method_id: int | None = None      # when chosen by --method-id
    sent_at: float = field(default_factory=time.time)
    expires_at: float = 0.0
    url: str = ""                     # the server step 1 went to
    key_id: str = ""                  # credentials.fingerprint() of the key step 1 used
    asked: str = ""                   # what the user asked for: email/sms/totp/id
    purpose: str = "authorize"        # a key of constants.PENDING
    phone_number: str = ""            # an SMS setup's number
    method_label: str = ""            # the label a new method gets (-l)
    provisioning_uri: str = ""        # a TOTP setup's otpauth:// URI (holds the secret too)

    def __post_init__(self):
        if not self.expires_at:
            self.expires_at = self.sent_at + CODE_LIFE

    @property
    def noun(self) -> str:
        """What it stands for in messages: "authorization", ..."""
        return PENDING.get(self.purpose, ("", "challenge"))[1]

    @property
    def method_type(self) -> str | None:
        """email/sms/totp when known (not for a bare method id)."""
        return self.method if self.method in METHOD_TYPES else None

    def seconds_left(self, now: float | None = None) -> float:
        return max(0.0, self.expires_at - (time.time() if now is None else now))

    @property
    def expired(self) -> bool:
        return self.seconds_left() <= 0

    @property
    def label(self) -> str:
        """``sms``, ``sms, id 102``, ``method 456``: how prompts and messages name it."""
        if self.method_id is not None and self.method_type:
            return f"{self.method}, id {self.method_id}"
        return self.method

    def where(self) -> str:
        """Where the code is to be read, for prompts and messages."""
        return {"email": "the code emailed to you", "sms": "the code texted to you",
                "totp": "the code your authenticator app shows"}.get(
            self.method, f"the code from {self.method}")

    def _summary(self) -> str:
        left = self.seconds_left()
        state = f"expires in {clock(left)}" if left else "expired"
        sent = time.strftime("%H:%M:%S", time.localtime(self.sent_at))
        return f"{self.label}, sent {sent}, {state}"

    def __repr__(self) -> str:
        return f"<pending 2FA {self.noun}: {self._summary()}; secret hidden (.secret)>"

    def _repr_html_(self) -> str:
        return (f"<code>pending 2FA {html.escape(self.noun)}</code>: "
                f"{html.escape(self._summary())}; secret hidden (<code>.secret</code>)")
