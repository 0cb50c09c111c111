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
``store`` says which key later lines will send when another one comes first;
``store_session`` keeps a 2FA session key in the CLI's file (0600) and
``forget_session`` removes it from everywhere it is read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Mapping, NamedTuple

from .api.errors import VastError

KEYRING_SERVICE = "vast.ai"
API_KEY_NAME = "api_key"
SESSION_KEY_NAME = "tfa_session_key"
# Sources named in messages (the files are named by their path).
ENV_SOURCE = "VAST_API_KEY"
SESSION_IN_KEYRING = "the 2FA session key in the keyring"
KEY_IN_KEYRING = "the keyring"


class Key(NamedTuple):
    value: str
    source: str  # where it came from, for messages (never the key itself)


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "vastai"


def key_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the CLI keeps the API key when there is no keyring."""
    return config_dir(env) / "vast_api_key"


def session_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the CLI keeps a 2FA session key."""
    return config_dir(env) / "vast_tfa_key"


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _text(raw: object) -> str:
    """A keyring answer as text: bytes are decoded (UTF-8), anything else is absent."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode()
        except UnicodeDecodeError:
            return ""
    return raw.strip() if isinstance(raw, str) else ""


def keyring_get(name: str) -> str:
    """A value from the system keyring, or "" (never raises)."""
    try:
        import keyring  # tens of milliseconds, and D-Bus: only when a key is looked up

        return _text(keyring.get_password(KEYRING_SERVICE, name))
    except Exception:  # noqa: BLE001 - no backend, locked, D-Bus down...: fall through
        return ""


def keyring_delete(name: str) -> bool:
    """Remove a value from the system keyring; True if one was there (never raises)."""
    if not keyring_get(name):
        return False
    try:
        import keyring

        keyring.delete_password(KEYRING_SERVICE, name)
    except Exception:  # noqa: BLE001 - as in keyring_get
        return False
    return not keyring_get(name)


def keyring_backend():
    """The system keyring's backend if one is usable here, else None (never raises)."""
    try:
        import keyring  # as in keyring_get: only when it is needed
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        return None
    return backend


def keyring_set(name: str, value: str) -> str | None:
    """Store in the keyring; the backend's name on success, None if unusable."""
    backend = keyring_backend()
    if backend is None:
        return None
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, name, value)
        if keyring_get(name) != value:
            return None
        return type(backend).__name__
    except Exception:  # noqa: BLE001
        return None


def _candidates(flag: str | None, env: Mapping[str, str]):
    """(where, value) in order of precedence; each value is read only when reached."""
    yield "--api-key", flag or ""
    yield ENV_SOURCE, env.get("VAST_API_KEY", "")
    yield SESSION_IN_KEYRING, keyring_get(SESSION_KEY_NAME)
    session = session_file(env)
    yield str(session), _read(session)
    yield KEY_IN_KEYRING, keyring_get(API_KEY_NAME)
    api = key_file(env)
    yield str(api), _read(api)
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
    return hashlib.sha256((value or "").encode()).hexdigest()[:12]


def _first(flag: str | None, env: Mapping[str, str] | None) -> Key | None:
    """The first non-empty key, sendable or not."""
    for source, value in _candidates(flag, os.environ if env is None else env):
        value = clean(value)
        if value:
            return Key(value, source)
    return None


def resolve(flag: str | None = None, env: Mapping[str, str] | None = None) -> Key | None:
    """The key to send, or None when there is none anywhere.

    Raises VastError (naming where the key came from, never the key) when the
    first key found cannot be sent in an HTTP header.
    """
    key = _first(flag, env)
    if key and not sendable(key.value):
        session = is_session(key.source, env)
        fix = how_to_replace(key.source, env)
        fix = (f"{fix}; `%vast tfa login` starts a new session." if session else
               f"Copy the key again from https://cloud.vast.ai/manage-keys/, then {fix}.")
        raise VastError(f"The {'2FA session' if session else 'API'} key from "
                        f"{tilde(key.source, env)} contains characters a key cannot have "
                        "(non-ASCII or control characters), so nothing was sent.", [fix],
                        code="bad_api_key")
    return key


def no_key_error(env: Mapping[str, str] | None = None) -> VastError:
    """No key anywhere: how to give one, saying where `set api-key` would keep it here."""
    kept = ("keeps it in the system keyring" if keyring_backend() is not None else
            f"with no usable keyring here, writes it to {tilde(key_file(env), env)}, readable "
            "by you only")
    return VastError("No Vast.ai API key found, so nothing was sent.", [
        f"Store yours once with `%vast set api-key` (it asks without echo and {kept}), or set "
        "VAST_API_KEY. Create a key at https://cloud.vast.ai/manage-keys/."], code="no_api_key")


def _make_private_dir(folder: Path) -> None:
    """Create folder and its missing parents as 0700 whatever the umask; folders
    that already exist keep their mode."""
    for path in reversed([folder, *folder.parents]):
        if path.exists():
            continue
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by someone else: theirs
            continue
        os.chmod(path, 0o700)  # mkdir's mode is masked by the umask


def write_key_file(value: str, env: Mapping[str, str] | None = None) -> Path:
    """Write the CLI's key file, readable by the owner only (mode 0600)."""
    return _write_private(key_file(env), value)


def _write_private(path: Path, value: str) -> Path:
    """Write ``value`` to ``path`` (its folder 0700 if new), readable by the owner only."""
    _make_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode otherwise
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    return path


def _why_not_written(exc: OSError, path: Path) -> str:
    """Why writing path failed, in words rather than an errno."""
    if isinstance(exc, IsADirectoryError):
        return f"{path} is a folder, not a file"
    if isinstance(exc, NotADirectoryError):
        blocker = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()),
                       path.parent)
        return f"{blocker} is a file, not a folder"
    if isinstance(exc, PermissionError):
        return f"you are not allowed to write {exc.filename or path}"
    return exc.strerror or type(exc).__name__


def _who_comes_first(value: str, env: Mapping[str, str] | None) -> str:
    """"" if later lines send value; otherwise which key they send, why, and the fix."""
    winner = _first(None, env)
    if winner and fingerprint(winner.value) == fingerprint(value):
        return ""
    if winner is None:
        return "But it cannot be read back, so later %vast lines will find no key."
    then = "so later %vast lines keep sending that key"
    session = str(session_file(env))
    fixes = {
        ENV_SOURCE: f"But VAST_API_KEY is set in this environment and comes first, {then}; "
                    "unset it (`%env VAST_API_KEY=`) to use the stored one.",
        SESSION_IN_KEYRING: f"But a 2FA session key in the keyring comes first, {then}; "
                            "`%vast tfa logout` forgets it.",
        session: f"But the 2FA session key in {tilde(session, env)} comes first, {then}; "
                 "`%vast tfa logout` forgets it.",
        KEY_IN_KEYRING: "But the keyring holds another API key, which comes first and could not "
                        f"be replaced, {then}; remove it with `keyring del vast.ai api_key` "
                        "(or fix the keyring) to use the stored one.",
    }
    return fixes.get(winner.source, f"But the key from {winner.source} comes first, {then}.")


def store(value: str, env: Mapping[str, str] | None = None) -> str:
    """Store the API key; returns the text to show: where it went and, if another key
    comes first, which key later lines will send. Raises VastError if it cannot be stored."""
    backend = keyring_set(API_KEY_NAME, value)
    if backend:
        where = f"Stored your API key in the system keyring ({backend})."
    else:
        path = key_file(env)
        try:
            write_key_file(value, env)
        except OSError as exc:
            raise VastError(
                f"No usable system keyring here, and {path} could not be written "
                f"({_why_not_written(exc, path)}), so nothing was stored.",
                ["Set VAST_API_KEY in the kernel's environment instead, or fix that (the key "
                 f"file goes in the folder {path.parent}) and run `%vast set api-key` again."],
                code="key_not_stored") from None
        where = (f"No usable system keyring here, so the key was written to {path} "
                 "(readable by you only, mode 0600).")
    return "\n".join(filter(None, (where, _who_comes_first(value, env))))


# -- the 2FA session key --------------------------------------------------------

def tilde(path: Path | str, env: Mapping[str, str] | None = None) -> str:
    """A path as messages show it: ``~/...`` under the home folder."""
    home = str(_home(os.environ if env is None else env))
    text = str(path)
    return "~" + text[len(home):] if text.startswith(home.rstrip("/") + "/") else text


def is_session(source: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether a key from ``source`` (a :class:`Key`'s) is a 2FA session key."""
    return source in (SESSION_IN_KEYRING, str(session_file(env)))


def describe(key: Key | None, env: Mapping[str, str] | None = None) -> str:
    """Which key is sent, and from where (never the key): for messages."""
    if key is None:
        return "no key (none is given, set or stored)"
    if key.source == SESSION_IN_KEYRING:
        return "the 2FA session key from the keyring"
    kind = "the 2FA session key" if is_session(key.source, env) else "your API key"
    return f"{kind} from {tilde(key.source, env)}"


def _first_after(refused: Key, env: Mapping[str, str] | None) -> Key | None:
    """The key that would be sent without the refused one: the next in order that
    is another key (the same key stored twice would be refused again) and sendable."""
    passed = False
    for where, value in _candidates(None, os.environ if env is None else env):
        value = clean(value)
        if where == refused.source:
            passed = True
        elif passed and value and value != refused.value:
            return Key(value, where) if sendable(value) else None
    return None


def how_to_replace(source: str, env: Mapping[str, str] | None = None) -> str:
    """How to send another key than the one from ``source`` (what comes first wins,
    so storing a key is no fix for one given on the line or in the environment)."""
    if source == "--api-key":
        return "give the right one with --api-key, or leave --api-key out"
    if source == ENV_SOURCE:
        return ("correct VAST_API_KEY, or unset it (`%env VAST_API_KEY=`) so that a stored key "
                "is sent; storing one alone changes nothing while it is set")
    if is_session(source, env):
        return "`%vast tfa logout` forgets the 2FA session key, so that your API key is sent"
    return "store the right one with `%vast set api-key`"


def refused_key_hint(key: Key, env: Mapping[str, str] | None = None) -> str:
    """After the server refused ``key``: how to fix it, and which key the next
    line sends and why (storing a key changes nothing while another comes first)."""
    if is_session(key.source, env):
        return ("Log in again (`%vast tfa login`), or `%vast tfa logout` so that your API "
                "key is sent.")
    stored = "`%vast set api-key`"
    if key.source in ("--api-key", ENV_SOURCE):
        after = _first_after(key, env)
        then = (f"the next line sends {describe(after, env)}" if after else
                f"then store yours with {stored}")
        if key.source == "--api-key":
            return f"--api-key comes before every other key: check it, or leave it out ({then})."
        return ("VAST_API_KEY is set in this environment and comes before any stored key, so "
                f"{stored} alone would change nothing: correct it, or unset it "
                f"(`%env VAST_API_KEY=`; {then}).")
    return (f"Store the right one with {stored}: it replaces {describe(key, env)}, and the "
            "next line sends it.")


def store_session(value: str, env: Mapping[str, str] | None = None) -> Path:
    """Keep a 2FA session key where the CLI reads it, readable by the owner only (0600)."""
    return _write_private(session_file(env), value)


def forget_session(env: Mapping[str, str] | None = None) -> list[str]:
    """Remove every stored 2FA session key (keyring and the CLI's file); where from."""
    gone = [KEY_IN_KEYRING] if keyring_delete(SESSION_KEY_NAME) else []
    path = session_file(env)
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise VastError(f"The 2FA session key in {tilde(path, env)} could not be removed "
                        f"({_why_not_written(exc, path)}).",
                        ["Delete that file yourself to leave the session."],
                        code="session_not_forgotten") from None
    else:
        gone.append(tilde(path, env))
    return gone
