"""Which API key is sent, and where ``%vast set api-key`` stores one.

Order (the first non-empty wins; an empty value falls through):

1. ``--api-key``
2. the ``VAST_API_KEY`` environment variable
3. a 2FA session key: the keyring, or the CLI's ``~/.config/vastai/vast_tfa_key``
4. the API key in the keyring
5. the CLI's ``~/.config/vastai/vast_api_key`` (``XDG_CONFIG_HOME`` honoured)
6. the legacy ``~/.vast_api_key``

The keyring is imported on first use; on a machine without a usable backend
(CI, containers) every keyring error is swallowed and the files are used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, NamedTuple

KEYRING_SERVICE = "vast.ai"
API_KEY_NAME = "api_key"
SESSION_KEY_NAME = "tfa_session_key"


class Key(NamedTuple):
    value: str
    source: str  # where it came from, for messages (never the key itself)


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "vastai"


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def keyring_get(name: str) -> str:
    """A value from the system keyring, or "" (never raises)."""
    try:
        import keyring

        return (keyring.get_password(KEYRING_SERVICE, name) or "").strip()
    except Exception:  # noqa: BLE001 - no backend, locked, D-Bus down...: fall through
        return ""


def keyring_set(name: str, value: str) -> str | None:
    """Store in the keyring; the backend's name on success, None if unusable."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
            return None
        keyring.set_password(KEYRING_SERVICE, name, value)
        if keyring.get_password(KEYRING_SERVICE, name) != value:
            return None
        return type(backend).__name__
    except Exception:  # noqa: BLE001
        return None


def _candidates(flag: str | None, env: Mapping[str, str]):
    """(where, value) in order of precedence; each value is read only when reached."""
    yield "--api-key", flag or ""
    yield "VAST_API_KEY", env.get("VAST_API_KEY", "")
    yield "the 2FA session key in the keyring", keyring_get(SESSION_KEY_NAME)
    cfg = config_dir(env)
    yield str(cfg / "vast_tfa_key"), _read(cfg / "vast_tfa_key")
    yield "the keyring", keyring_get(API_KEY_NAME)
    yield str(cfg / "vast_api_key"), _read(cfg / "vast_api_key")
    legacy = _home(env) / ".vast_api_key"
    yield str(legacy), _read(legacy)


def clean(value: str | None) -> str:
    """The key as written: no byte-order mark (Notepad), only the first line."""
    value = (value or "").replace("\ufeff", "").strip()
    return value.splitlines()[0].strip() if value else ""


def sendable(value: str) -> bool:
    """Can this key travel in an HTTP header (printable ASCII)?"""
    return value.isascii() and value.isprintable()


def fingerprint(value: str | None) -> str:
    """A short digest that tells two keys apart without keeping either."""
    import hashlib

    return hashlib.sha256((value or "").encode()).hexdigest()[:12]


def resolve(flag: str | None = None, env: Mapping[str, str] | None = None) -> Key | None:
    """The key to send, or None when there is none anywhere.

    Raises VastError (naming where the key came from, never the key) when the
    first key found cannot be sent in an HTTP header.
    """
    for source, value in _candidates(flag, os.environ if env is None else env):
        value = clean(value)
        if value:
            if not sendable(value):
                from .errors import VastError

                raise VastError(
                    f"The API key from {source} contains characters an API key cannot have "
                    "(non-ASCII or control characters), so nothing was sent.",
                    ["Copy the key again from https://cloud.vast.ai/manage-keys/ and store it "
                     "with `%vast set api-key`."], code="bad_api_key")
            return Key(value, source)
    return None


NO_KEY_HELP = (
    "No Vast.ai API key found, so nothing was sent.",
    "Store yours once with `%vast set api-key` (it asks without echo and keeps it in the "
    "system keyring), or set VAST_API_KEY, or put it in ~/.config/vastai/vast_api_key. "
    "Create a key at https://cloud.vast.ai/manage-keys/.",
)


def write_key_file(value: str, env: Mapping[str, str] | None = None) -> Path:
    """Write the CLI's key file, readable by the owner only (mode 0600)."""
    path = config_dir(env) / "vast_api_key"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode otherwise
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    return path


def store(value: str, env: Mapping[str, str] | None = None) -> str:
    """Store the API key; returns a sentence saying where it went."""
    backend = keyring_set(API_KEY_NAME, value)
    if backend:
        return f"Stored your API key in the system keyring ({backend})."
    path = write_key_file(value, env)
    return (f"No usable system keyring here, so the key was written to {path} "
            "(readable by you only, mode 0600).")
