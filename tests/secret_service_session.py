"""One scenario of tests/test_secret_service.py, run inside `dbus-run-session` with its
own HOME: a real Secret Service (gnome-keyring) on a private session bus, a real
InteractiveShell with %vast, the emulator on 127.0.0.1.  Prints what happened as one
JSON line; the test judges it.

    dbus-run-session -- python tests/secret_service_session.py unlocked|locked|no-bus

unlocked   gnome-keyring started and unlocked: `%vast set api-key` stores there
locked     the same, then the collection locked: set api-key falls back to the file
no-bus     the session bus unreachable (D-Bus down): the file again
session    unlocked; the API key stored there, then a 2FA login: the session key goes to
           the CLI's file and is sent before the stored key; logout forgets it (from the
           Secret Service too) and the stored key is sent again
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PASSWORD = b"vast-magic-test-password"
REPORT = "secret-service-report: "


def start_keyring() -> int:
    """Start and unlock gnome-keyring's secrets component; its pid (it daemonizes)."""
    subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
                   input=PASSWORD, capture_output=True, check=True, timeout=30)
    bus = os.environ["DBUS_SESSION_BUS_ADDRESS"].encode()
    for proc in Path("/proc").iterdir():  # ours: gnome-keyring-daemon on this bus
        try:
            cmd = (proc / "cmdline").read_bytes()
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"gnome-keyring-daemon" in cmd and b"DBUS_SESSION_BUS_ADDRESS=" + bus in env:
            return int(proc.name)
    raise RuntimeError("gnome-keyring-daemon started but was not found")


def stop(pid: int | None) -> None:
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            os.waitpid(pid, os.WNOHANG)  # not our child: harmless ChildProcessError
        except ChildProcessError:
            pass
        time.sleep(0.05)


def collection():
    import secretstorage

    return secretstorage.get_default_collection(secretstorage.dbus_init())


def in_secret_service(name: str = "api_key") -> str | None:
    """A key under keyring's attributes, read straight from the Secret Service."""
    items = list(collection().search_items({"service": "vast.ai", "username": name}))
    return items[0].get_secret().decode() if items else None


def bearers(vast) -> list[str]:
    return [r.headers.get("Authorization", "").removeprefix("Bearer ")
            for r in vast.api_requests()]


def session_scenario(vast, emu, report: dict) -> None:
    """Login and logout with the API key in the Secret Service."""
    import keyring

    from vast_magic import credentials

    key = vast.user_ns["key"]
    app = next(m for m in emu.account(key).methods if m.method == "totp")
    ran = vast.run(f"%vast tfa login -t totp -c {emu.totp_now(app)}")
    report["login_ok"], report["login"] = ran.success, shown(ran)
    path = credentials.session_file()
    session = path.read_text() if path.exists() else ""
    report["session_file_mode"] = oct(path.stat().st_mode & 0o777) if session else None
    report["session_in_secret_service"] = in_secret_service("tfa_session_key") is not None
    report["api_key_kept"] = in_secret_service() == key
    emu.log.clear()
    ran = vast.run("%vast tfa status")
    report["status_in_session"] = shown(ran)
    report["sent_session_key"] = bool(session) and bearers(vast) == [session]
    report["session_shown"] = bool(session) and session in report["login"] + shown(ran)
    # a session key some other tool left in the keyring goes too
    keyring.set_password("vast.ai", "tfa_session_key", session)
    ran = vast.run("%vast tfa logout")
    report["logout_ok"], report["logout"] = ran.success, shown(ran)
    report["session_left"] = [where for where, gone in (
        ("file", path.exists()), ("secret service",
                                   in_secret_service("tfa_session_key") is not None)) if gone]
    emu.log.clear()
    ran = vast.run("%vast tfa status")
    report["status_after"] = shown(ran)
    report["sent_after"] = bearers(vast) == [key]


def shell_with_vast():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from helpers import Harness

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "vast_magic")
    harness = Harness(shell)
    harness.magics.code_prompt = "never"
    return harness


def shown(ran) -> str:
    return ran.text  # the displayed value (Out[...]) included


def main(scenario: str) -> dict:

    from vast_magic import credentials
    from vast_magic.emulator import DEMO_KEYS, Emulator

    report: dict = {"scenario": scenario}
    if scenario == "no-bus":
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/vast-test-bus"
    daemon = start_keyring() if scenario != "no-bus" else None
    import keyring  # after the bus address is chosen

    try:
        with Emulator() as emu:
            os.environ["VAST_URL"] = emu.url
            os.environ.pop("VAST_API_KEY", None)
            report["backend"] = type(keyring.get_keyring()).__module__
            vast = shell_with_vast()
            vast.emu = emu
            new_key = DEMO_KEYS["multi"]
            if scenario == "locked":
                old_key = emu.add_account().api_key
                vast.user_ns["old"] = old_key
                report["set_old"] = shown(vast.run("%vast set api-key $old"))
                report["old_in_secret_service"] = in_secret_service() == old_key
                collection().lock()
                report["locked"] = collection().is_locked()
            vast.user_ns["key"] = new_key
            ran = vast.run("%vast set api-key $key")
            report["set_ok"] = ran.success
            report["set"] = shown(ran)
            path = credentials.key_file()
            report["file"] = path.read_text() if path.exists() else None
            if scenario in ("unlocked", "session"):
                report["in_secret_service"] = in_secret_service() == new_key
            if scenario == "session":
                session_scenario(vast, emu, report)
                return report
            ran = vast.run("%vast tfa status")
            report["status_ok"] = ran.success
            report["status"] = shown(ran)
            sent = [r.headers.get("Authorization") for r in vast.api_requests()]
            report["sent_stored_key"] = sent == [f"Bearer {new_key}"]
            report["requests"] = len(sent)
    finally:
        stop(daemon)
    return report


if __name__ == "__main__":
    # A marker: D-Bus-activated helpers may print to the same stdout.
    print(REPORT + json.dumps(main(sys.argv[1])))
