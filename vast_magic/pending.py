"""The pending challenge of a step 1, kept between cells."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field

from .errors import CODE_LIFE_MINUTES
from .magic import PENDING_NAME  # noqa: F401 - the documented name in the user namespace

CODE_LIFE = CODE_LIFE_MINUTES * 60.0  # seconds a sent code is valid


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass(repr=False)
class PendingChallenge:
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

    def __post_init__(self):
        if not self.expires_at:
            self.expires_at = self.sent_at + CODE_LIFE

    @property
    def method_type(self) -> str | None:
        """email/sms/totp when known (not for a bare method id)."""
        return self.method if self.method in ("email", "sms", "totp") else None

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
        return f"<pending 2FA authorization: {self._summary()}; secret hidden (.secret)>"

    def _repr_html_(self) -> str:
        return ("<code>pending 2FA authorization</code>: "
                f"{html.escape(self._summary())}; secret hidden (<code>.secret</code>)")
