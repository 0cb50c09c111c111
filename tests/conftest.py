"""The fixtures every test may take: an isolated home and keyring, a shell with
%vast loaded, the emulator behind it, and a guard that keeps traffic local."""

from __future__ import annotations

import pytest

from helpers import Harness, MemoryKeyring
from vast_magic.constants import PENDING

# The emulator's own fixtures (vast_emulator, vast_emulator_url), as users get them.
pytest_plugins = ["vast_magic.emulator.pytest_plugin"]


@pytest.fixture(autouse=True)
def refuse_connections_beyond_loopback(monkeypatch):
    """Tests talk to 127.0.0.1 only: a connection anywhere else, or a name lookup
    (which would ask a DNS server), fails the test."""
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
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # a name lookup would ask a DNS server
        name = host.decode() if isinstance(host, bytes) else host
        try:
            ipaddress.ip_address((name or "").strip("[]"))
        except ValueError:
            if name not in (None, "localhost"):
                raise AssertionError(f"a test tried to look up {name}: tests stay on "
                                     "127.0.0.1") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


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


@pytest.fixture
def ip(home, memory_keyring):
    """A Harness around a real InteractiveShell with %vast loaded (fresh state per test)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.reset(new_session=False)
    shell.run_line_magic("load_ext", "vast_magic")
    harness = Harness(shell)
    harness.magics.code_prompt = "never"
    harness.magics.retry_after_cap = 1.0
    try:
        yield harness
    finally:
        shell.run_line_magic("unload_ext", "vast_magic")
        shell.config.pop("VastMagics", None)  # what %config set in this test
        for name, _ in PENDING.values():
            shell.user_ns.pop(name, None)
            shell.user_ns_hidden.pop(name, None)


@pytest.fixture
def vast(ip, vast_emulator, monkeypatch):
    """The harness, with VAST_URL at the emulator and the multi-method demo key."""
    from vast_magic.emulator import DEMO_KEYS

    monkeypatch.setenv("VAST_URL", vast_emulator.url)
    monkeypatch.setenv("VAST_API_KEY", DEMO_KEYS["multi"])
    ip.emu = vast_emulator
    return ip


@pytest.fixture
def one_sms(vast, monkeypatch):
    """An account with a single SMS method, so `-t sms` picks it."""
    acct = vast.emu.add_account()
    acct.add_sms(phone="+15550001111", label="phone", is_primary=True)
    monkeypatch.setenv("VAST_API_KEY", acct.api_key)
    vast.acct = acct
    return vast


@pytest.fixture
def terminal(vast):
    """The harness with its prompts reading from a pipe; ``type`` feeds keystrokes."""
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    vast.magics.code_prompt = "terminal"
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        vast.type = pipe.send_text
        yield vast
