"""A real Secret Service keyring: gnome-keyring on a private D-Bus session.

Each scenario runs tests/secret_service_session.py under `dbus-run-session` with a
HOME of its own (so neither the bus nor the keyring is the machine's), and judges
the JSON it prints.  `keyring` picks `SecretService.Keyring` by itself there.
Skipped, with the reason, where dbus-run-session, gnome-keyring-daemon or the
secretstorage package is missing (.ci/run installs them).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vast_magic.emulator import DEMO_KEYS

SCRIPT = Path(__file__).with_name("secret_service_session.py")
REPORT = "secret-service-report: "
NEW_KEY = DEMO_KEYS["multi"]


def _missing() -> str:
    need = [name for name in ("dbus-run-session", "gnome-keyring-daemon")
            if shutil.which(name) is None]
    if importlib.util.find_spec("secretstorage") is None:
        need.append("the secretstorage package")
    return ", ".join(need)


pytestmark = pytest.mark.skipif(bool(_missing()), reason=f"no Secret Service to test against: "
                                f"{_missing()} missing (apt-get install dbus gnome-keyring)")


def scenario(name: str, tmp_path: Path) -> dict:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "LANG": "C.UTF-8", "XDG_RUNTIME_DIR": str(home / "run")}
    (home / "run").mkdir(mode=0o700)
    proc = subprocess.run(["dbus-run-session", "--", sys.executable, str(SCRIPT), name],
                          env=env, cwd=str(home), capture_output=True, text=True, timeout=120)
    reports = [line[len(REPORT):] for line in proc.stdout.splitlines()
               if line.startswith(REPORT)]
    assert proc.returncode == 0 and reports, (proc.returncode, proc.stdout, proc.stderr[-3000:])
    return json.loads(reports[-1])


def test_set_api_key_stores_in_the_secret_service_and_later_lines_send_it(tmp_path):
    r = scenario("unlocked", tmp_path)
    assert r["backend"] == "keyring.backends.SecretService"
    assert r["set_ok"] and "Stored your API key in the system keyring" in r["set"], r["set"]
    assert r["in_secret_service"]  # read back over D-Bus, not through %vast
    assert r["file"] is None  # not in a file
    assert r["status_ok"] and "%vast sends your API key from the keyring" in r["status"]
    assert r["sent_stored_key"] and r["requests"] == 1
    assert NEW_KEY not in r["set"] + r["status"]


def test_a_locked_keyring_falls_back_to_the_file_and_says_which_key_is_sent(tmp_path):
    r = scenario("locked", tmp_path)
    assert r["backend"] == "keyring.backends.SecretService"
    assert r["old_in_secret_service"] and r["locked"]
    assert r["set_ok"], r["set"]
    assert "the key was written to" in r["set"] and "mode 0600" in r["set"], r["set"]
    assert r["file"] == NEW_KEY
    assert "%vast sends your API key from ~/.config/vastai/vast_api_key" in r["status"]
    assert r["sent_stored_key"] and r["requests"] == 1  # the new key, not the locked old one
    assert NEW_KEY not in r["set"] + r["status"]


def test_an_unreachable_session_bus_falls_back_to_the_file(tmp_path):
    r = scenario("no-bus", tmp_path)
    assert r["set_ok"], r["set"]
    assert "the key was written to" in r["set"] and "mode 0600" in r["set"], r["set"]
    assert r["file"] == NEW_KEY
    assert "%vast sends your API key from ~/.config/vastai/vast_api_key" in r["status"]
    assert r["sent_stored_key"] and r["requests"] == 1


def test_a_session_key_comes_before_the_stored_key_until_logout(tmp_path):
    """The session-key commands with a real keyring: login keeps the session key where
    the CLI reads it (0600), not in the Secret Service, and later lines send it before
    the API key stored there; logout forgets it everywhere and the stored key is sent."""
    r = scenario("session", tmp_path)
    assert r["backend"] == "keyring.backends.SecretService"
    assert r["in_secret_service"] and r["file"] is None  # the API key: keyring only
    assert r["login_ok"], r["login"]
    assert r["session_file_mode"] == "0o600" and not r["session_in_secret_service"]
    assert r["api_key_kept"]  # logging in never touches the stored API key
    assert "sends the 2FA session key from ~/.config/vastai/vast_tfa_key" in \
        r["status_in_session"], r["status_in_session"]
    assert r["sent_session_key"] and not r["session_shown"]
    assert r["logout_ok"] and r["session_left"] == [], (r["logout"], r["session_left"])
    assert "%vast sends your API key from the keyring" in r["status_after"], r["status_after"]
    assert r["sent_after"]
    assert NEW_KEY not in r["login"] + r["logout"] + r["status_after"]
