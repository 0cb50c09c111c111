"""Fixtures for the %vast tests: an isolated home, an in-memory keyring, a
real IPython shell with the extension loaded and pointed at the emulator."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from vast_magic.magic import PENDING_NAME


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


def _as_backend(obj):
    from keyring.backend import KeyringBackend

    class Backend(KeyringBackend):
        priority = obj.priority

        def get_password(self, service, username):
            return obj.get_password(service, username)

        def set_password(self, service, username, password):
            obj.set_password(service, username, password)

        def delete_password(self, service, username):
            obj.delete_password(service, username)

    return Backend()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Tests talk to 127.0.0.1 only: any other destination fails loudly."""
    import ipaddress
    import socket

    real_connect = socket.socket.connect

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise AssertionError(f"a test tried to reach {host}: tests stay on 127.0.0.1")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh HOME with no key anywhere; VAST_URL points at a closed local port, so a
    test that forgets to choose a server can never reach the real one."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "VAST_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAST_URL", "http://127.0.0.1:9")
    return home


@pytest.fixture
def memory_keyring():
    """Swap the system keyring for an in-memory one for one test."""
    import keyring

    old = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(_as_backend(ring))
    try:
        yield ring
    finally:
        keyring.set_keyring(old)


@pytest.fixture
def no_keyring():
    """A machine with no usable keyring backend (CI, containers)."""
    import keyring
    from keyring.backends import fail

    old = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(old)


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


@pytest.fixture
def ip(home, memory_keyring):
    """A real InteractiveShell with %vast loaded (fresh state per test)."""
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.reset(new_session=False)
    shell.run_line_magic("load_ext", "vast_magic")
    magics = shell.magics_manager.registry["VastMagics"]
    magics.code_prompt = "never"
    magics.retry_after_cap = 1.0

    def run(cell: str, store_history: bool = False) -> Ran:
        with capture_output() as cap:
            result = shell.run_cell(cell, store_history=store_history)
        error = result.error_in_exec or result.error_before_exec
        return Ran(result.success, result.result, cap.stdout, cap.stderr, error)

    shell.run = run  # type: ignore[attr-defined]
    shell.vast_magics = magics  # type: ignore[attr-defined]
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "vast_magic")
        shell.config.pop("VastMagics", None)  # what %config set in this test
        shell.user_ns.pop(PENDING_NAME, None)
        shell.user_ns_hidden.pop(PENDING_NAME, None)


@pytest.fixture
def vast(ip, vast_emulator, monkeypatch):
    """The shell, with VAST_URL at the emulator and the multi-method demo key."""
    from vast_magic.emulator import DEMO_KEYS

    monkeypatch.setenv("VAST_URL", vast_emulator.url)
    monkeypatch.setenv("VAST_API_KEY", DEMO_KEYS["multi"])
    ip.emu = vast_emulator  # type: ignore[attr-defined]
    return ip


@pytest.fixture
def one_sms(vast, monkeypatch):
    """An account with a single SMS method, so `-t sms` picks it."""
    acct = vast.emu.add_account()
    acct.add_sms(phone="+15550001111", label="phone", is_primary=True)
    monkeypatch.setenv("VAST_API_KEY", acct.api_key)
    vast.acct = acct
    return vast


def assert_clean_failure(ran: Ran, *words: str) -> None:
    """The cell failed, showed the words, and showed no Python traceback."""
    assert not ran.success, ran.text
    assert "Traceback" not in ran.text, ran.text
    for word in words:
        assert word in ran.text, (word, ran.text)
