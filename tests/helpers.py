"""What the tests share besides fixtures: the shell harness, a dict keyring,
the documented error codes, and the check for a clean failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from IPython.utils.capture import capture_output

from vast_magic.constants import PENDING_NAME

#: The error codes of the API reference's table (shared/reference/vast-2fa-api.md).
DOCUMENTED_ERROR_CODES = (
    "bad_request", "auth_error", "invalid_tfa_method", "missing_auth_value", "missing_params",
    "email_not_verified", "2fa_expired", "challenge_not_found", "no_pending_authorization",
    "authorization_required", "invalid_backup_code", "tfa_challenge_exists",
    "duplicate_tfa_method", "2fa_verification_failed", "tfa_locked", "sms_rate_limited",
    "twilio_rate_limited", "preauth_phone_cap", "not_found", "team_user_forbidden",
    "service_unavailable", "challenge_creation_failed", "twilio_error", "sms_blocked_number",
    "sms_fraud_detected",
)


class MemoryKeyring:
    """A keyring backend kept in a dict (the real library's interface)."""

    priority = 10

    def __init__(self):
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@dataclass
class Ran:
    """What a cell did: whether it succeeded, its value, and what it printed."""

    success: bool
    value: object
    out: str
    err: str
    error: BaseException | None

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class Harness:
    """A real InteractiveShell with %vast loaded, and what a test drives it with."""

    shell: Any
    emu: Any = None                          # the emulator %vast talks to (vast fixture)
    acct: Any = None                         # an account a fixture made for the test
    type: Callable[[str], None] | None = None  # keystrokes for the terminal prompt

    @property
    def magics(self):
        """The loaded VastMagics (a new one after %reload_ext)."""
        return self.shell.magics_manager.registry["VastMagics"]

    @property
    def user_ns(self) -> dict:
        return self.shell.user_ns

    @property
    def pending(self):
        return self.shell.user_ns.get(PENDING_NAME)

    def run(self, cell: str, store_history: bool = False) -> Ran:
        with capture_output() as cap:
            result = self.shell.run_cell(cell, store_history=store_history)
        error = result.error_in_exec or result.error_before_exec
        return Ran(result.success, result.result, cap.stdout, cap.stderr, error)

    def api_requests(self, method: str | None = None) -> list:
        """The emulator's logged API requests (not its side door)."""
        return [r for r in self.emu.log if r.path.startswith("/api/")
                and (method is None or r.method == method)]


def assert_clean_failure(ran: Ran, *words: str) -> None:
    """The cell failed, showed the words, and showed no Python traceback."""
    assert not ran.success, ran.text
    assert "Traceback" not in ran.text, ran.text
    for word in words:
        assert word in ran.text, (word, ran.text)


class BoxKernel:
    """A kernel whose front end shows input boxes (as JupyterLab does).  Each answer is
    text to type, a callable giving it, or an exception: KeyboardInterrupt is Stop
    pressed while the box waits, as ipykernel raises it.  ``asked``: (prompt, password)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def _box(self, prompt, password):
        self.asked.append((prompt, password))
        answer = self.answers.pop(0)
        if isinstance(answer, type) and issubclass(answer, BaseException):
            raise answer("Interrupted by user")
        return answer() if callable(answer) else answer

    def raw_input(self, prompt=""):
        return self._box(prompt, False)

    def getpass(self, prompt="", stream=None):
        return self._box(prompt, True)
