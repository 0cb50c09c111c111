"""Which API key is sent, and where `%vast set api-key` stores it."""

from __future__ import annotations

import os
import stat

import pytest
from helpers import assert_clean_failure

from vast_magic import credentials
from vast_magic.api.errors import VastError

# -- where the key comes from --------------------------------------------------

def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_key_order(home, memory_keyring, monkeypatch):
    env = {"HOME": str(home)}
    cfg = home / ".config" / "vastai"
    assert credentials.resolve(None, env) is None
    _write(home / ".vast_api_key", "legacy\n")
    assert credentials.resolve(None, env) == ("legacy", str(home / ".vast_api_key"))
    _write(cfg / "vast_api_key", "cli-file")
    assert credentials.resolve(None, env).value == "cli-file"
    memory_keyring.set_password("vast.ai", "api_key", "from-keyring")
    assert credentials.resolve(None, env).value == "from-keyring"
    _write(cfg / "vast_tfa_key", "session-file")
    assert credentials.resolve(None, env).value == "session-file"
    memory_keyring.set_password("vast.ai", "tfa_session_key", "session-keyring")
    assert credentials.resolve(None, env).value == "session-keyring"
    env["VAST_API_KEY"] = "from-env"
    assert credentials.resolve(None, env) == ("from-env", "VAST_API_KEY")
    assert credentials.resolve("from-flag", env) == ("from-flag", "--api-key")


def test_empty_values_fall_through(home, memory_keyring):
    env = {"HOME": str(home), "VAST_API_KEY": "  "}
    _write(home / ".config" / "vastai" / "vast_api_key", "\n")
    _write(home / ".vast_api_key", "legacy")
    assert credentials.resolve("", env).value == "legacy"


def test_xdg_config_home_is_honoured(home, tmp_path, memory_keyring):
    xdg = tmp_path / "xdg"
    _write(xdg / "vastai" / "vast_api_key", "xdg-key")
    _write(home / ".config" / "vastai" / "vast_api_key", "home-key")
    assert credentials.resolve(None, {"HOME": str(home), "XDG_CONFIG_HOME": str(xdg)}).value \
        == "xdg-key"


def test_keyring_errors_never_surface(home):
    import keyring
    from keyring.backend import KeyringBackend

    class Broken(KeyringBackend):
        priority = 5

        def get_password(self, service, username):
            raise RuntimeError("D-Bus is down")

        def set_password(self, service, username, password):
            raise RuntimeError("D-Bus is down")

        def delete_password(self, service, username):
            raise RuntimeError("D-Bus is down")

    old = keyring.get_keyring()
    keyring.set_keyring(Broken())
    try:
        _write(home / ".vast_api_key", "legacy")
        assert credentials.resolve(None, {"HOME": str(home)}).value == "legacy"
        message = credentials.store("k", {"HOME": str(home)})
        assert "0600" in message
    finally:
        keyring.set_keyring(old)


def test_set_api_key_goes_to_the_keyring(ip, memory_keyring, home):
    ran = ip.run("%vast set api-key my-secret-key")
    assert ran.success, ran.text
    assert memory_keyring.store[("vast.ai", "api_key")] == "my-secret-key"
    assert "keyring" in ran.out
    assert "my-secret-key" not in ran.out
    assert "Warning" in ran.err and "history" in ran.err
    assert not (home / ".config" / "vastai" / "vast_api_key").exists()


def test_set_api_key_from_a_variable_does_not_warn(ip, memory_keyring):
    ip.user_ns["k"] = "key-in-a-variable"
    ran = ip.run("%vast set api-key $k", store_history=True)
    assert ran.success and "Warning" not in ran.err
    assert memory_keyring.store[("vast.ai", "api_key")] == "key-in-a-variable"


def test_set_api_key_without_keyring_writes_0600_file(ip, no_keyring, home):
    cfg = home / ".config" / "vastai"
    cfg.mkdir(parents=True)
    (cfg / "vast_api_key").write_text("old")
    os.chmod(cfg / "vast_api_key", 0o644)
    ran = ip.run("%vast set api-key new-key")
    assert ran.success, ran.text
    path = cfg / "vast_api_key"
    assert path.read_text() == "new-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "0600" in ran.out and str(path) in ran.out


def test_set_api_key_asks_with_a_hidden_prompt(ip, memory_keyring):
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    assert ip.run("%config VastMagics.code_prompt = 'terminal'").success
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text("typed-hidden-key\r")
        ran = ip.run("%vast set api-key")
    assert ran.success, ran.text
    assert memory_keyring.store[("vast.ai", "api_key")] == "typed-hidden-key"
    assert "typed-hidden-key" not in ran.text and "Warning" not in ran.err


def test_key_file_written_by_notepad_is_cleaned(home, memory_keyring):
    _write(home / ".config" / "vastai" / "vast_api_key", "\ufeffabc123\r\nsecond line\r\n")
    assert credentials.resolve(None, {"HOME": str(home)}).value == "abc123"


def test_a_key_that_cannot_be_sent_is_refused_by_source_not_value(home, memory_keyring):
    from vast_magic.api.errors import VastError

    with pytest.raises(VastError) as info:
        credentials.resolve(None, {"HOME": str(home), "VAST_API_KEY": "clé-secrète"})
    assert "VAST_API_KEY" in str(info.value) and "clé" not in str(info.value)
    # storing a key would change nothing while VAST_API_KEY is set: the hint says so
    assert "correct VAST_API_KEY, or unset it" in " ".join(info.value.hints)


def test_set_api_key_refuses_unsendable_keys(ip, memory_keyring):
    ran = ip.run("%vast set api-key 'clé'")
    assert_clean_failure(ran, "cannot have")
    assert memory_keyring.store == {}


@pytest.mark.parametrize("raw, expected", [
    (b"bytes-key", "bytes-key"),  # a backend answering in bytes: decoded
    (b"\xff\xfe", "file-key"),  # not UTF-8: ignored, the next source is used
    (12345, "file-key"),  # neither str nor bytes: ignored
])
def test_keyring_answers_that_are_not_text_never_raise(home, memory_keyring, raw, expected):
    _write(home / ".config" / "vastai" / "vast_api_key", "file-key")
    memory_keyring.store[("vast.ai", "api_key")] = raw
    memory_keyring.store[("vast.ai", "tfa_session_key")] = raw if raw == 12345 else None
    assert credentials.resolve(None, {"HOME": str(home)}).value == expected


def test_storing_in_a_keyring_that_answers_in_bytes(home, memory_keyring, monkeypatch):
    monkeypatch.setattr(memory_keyring, "get_password",
                        lambda s, u: (memory_keyring.store.get((s, u)) or "").encode() or None)
    message = credentials.store("new-key", {"HOME": str(home)})
    assert "keyring" in message and "But" not in message
    assert credentials.resolve(None, {"HOME": str(home)}).value == "new-key"


# -- when the key cannot be stored ---------------------------------------------

def _config_is_a_file(home, monkeypatch):
    (home / ".config").write_text("not a folder")
    return home / ".config", "is a file"


def _key_path_is_a_folder(home, monkeypatch):
    (home / ".config" / "vastai" / "vast_api_key").mkdir(parents=True)
    return home / ".config" / "vastai" / "vast_api_key", "is a folder"


def _home_is_under_a_file(home, monkeypatch):
    (home.parent / "a-file").write_text("")
    monkeypatch.setenv("HOME", str(home.parent / "a-file" / "home"))
    return home.parent / "a-file", "is a file"


def _writing_is_not_allowed(home, monkeypatch):
    """Tests run as root, where mode bits do not stop writes: refuse in os.open."""
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith("vast_api_key"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    return home / ".config" / "vastai" / "vast_api_key", "not allowed"


BROKEN_FOLDERS = [_config_is_a_file, _key_path_is_a_folder, _home_is_under_a_file,
                  _writing_is_not_allowed]


@pytest.mark.parametrize("breakage", BROKEN_FOLDERS)
def test_an_unwritable_config_folder_is_a_clear_error(home, no_keyring, monkeypatch, breakage):
    culprit, reason = breakage(home, monkeypatch)
    with pytest.raises(VastError) as info:
        credentials.store("new-key")
    error = info.value
    assert error.code == "key_not_stored"
    text = str(error)
    for words in ("nothing was stored", str(culprit), reason, "VAST_API_KEY"):
        assert words in text, (words, text)
    assert "Errno" not in text and "new-key" not in text


@pytest.mark.parametrize("breakage", BROKEN_FOLDERS)
def test_set_api_key_into_an_unwritable_folder_fails_cleanly(ip, no_keyring, home, monkeypatch,
                                                             breakage):
    culprit, reason = breakage(home, monkeypatch)
    ran = ip.run("%vast set api-key new-key")
    assert_clean_failure(ran, "nothing was stored", str(culprit), reason, "VAST_API_KEY")
    assert "new-key" not in ran.text


def test_the_config_folder_is_private_whatever_the_umask(home, no_keyring):
    old = os.umask(0o777)
    try:
        path = credentials.write_key_file("new-key", {"HOME": str(home)})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # ~/.config/vastai
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700  # ~/.config, made too
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "new-key"


def test_an_existing_config_folder_keeps_its_mode(home, no_keyring):
    (home / ".config").mkdir(mode=0o755)
    os.chmod(home / ".config", 0o751)
    path = credentials.write_key_file("new-key", {"HOME": str(home)})
    assert stat.S_IMODE((home / ".config").stat().st_mode) == 0o751
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


# -- when another key keeps being sent -----------------------------------------

def _refuse(*args):
    raise RuntimeError("the keyring is locked")


@pytest.mark.parametrize("set_password", [
    _refuse,  # setting raises
    lambda service, username, password: None,  # setting "works" but the old value stays
])
def test_an_old_keyring_key_that_cannot_be_replaced_is_named(home, memory_keyring, monkeypatch,
                                                             set_password):
    memory_keyring.store[("vast.ai", "api_key")] = "old-key"
    monkeypatch.setattr(memory_keyring, "set_password", set_password)
    message = credentials.store("new-key", {"HOME": str(home)})
    assert "vast_api_key" in message  # written to the file...
    assert "keyring" in message and "keyring del vast.ai api_key" in message  # ...which loses
    assert "old-key" not in message and "new-key" not in message


@pytest.mark.parametrize("winner, words", [
    ("env", ["VAST_API_KEY", "%env VAST_API_KEY="]),
    ("session-keyring", ["2FA session key", "%vast tfa logout"]),
    ("session-file", ["2FA session key", "vast_tfa_key", "%vast tfa logout"]),
])
def test_a_key_that_comes_first_is_named(home, memory_keyring, winner, words):
    env = {"HOME": str(home)}
    if winner == "env":
        env["VAST_API_KEY"] = "other-key"
    elif winner == "session-keyring":
        memory_keyring.store[("vast.ai", "tfa_session_key")] = "other-key"
    else:
        _write(home / ".config" / "vastai" / "vast_tfa_key", "other-key")
    message = credentials.store("new-key", env)
    assert memory_keyring.store[("vast.ai", "api_key")] == "new-key"
    assert "comes first" in message
    for word in words:
        assert word in message, (word, message)
    assert "other-key" not in message and "new-key" not in message


def test_the_same_key_coming_first_is_not_a_problem(home, memory_keyring):
    message = credentials.store("new-key", {"HOME": str(home), "VAST_API_KEY": "new-key"})
    assert "comes first" not in message


def test_set_api_key_says_when_vast_api_key_wins(ip, memory_keyring, monkeypatch):
    monkeypatch.setenv("VAST_API_KEY", "other-key")
    ran = ip.run("%vast set api-key new-key")
    assert ran.success, ran.text
    assert "Stored" in ran.out and "VAST_API_KEY" in ran.out and "comes first" in ran.out
    assert "other-key" not in ran.text and "new-key" not in ran.out


@pytest.mark.parametrize("where, words", [
    ("flag", ["--api-key comes before every other key", "leave it out",
              "the next line sends your API key from the keyring"]),
    ("env", ["VAST_API_KEY is set", "would change nothing", "%env VAST_API_KEY=",
             "the next line sends your API key from the keyring"]),
    ("keyring", ["Store the right one with `%vast set api-key`",
                 "replaces your API key from the keyring", "the next line sends it"]),
])
def test_a_refused_key_says_which_key_the_next_line_sends(vast, memory_keyring, monkeypatch,
                                                          where, words):
    """Storing a key changes nothing while --api-key or VAST_API_KEY comes first: the
    message after a refusal says so, and which key would be sent instead."""
    memory_keyring.store[("vast.ai", "api_key")] = "wrong-stored-key"
    monkeypatch.delenv("VAST_API_KEY")
    line = "%vast tfa status"
    if where == "flag":
        line = "%vast tfa status --api-key wrong-flag-key"
    elif where == "env":
        monkeypatch.setenv("VAST_API_KEY", "wrong-env-key")
    ran = vast.run(line)
    assert_clean_failure(ran, "did not accept your API key", *words)
    assert "wrong-" not in ran.text.replace("wrong-flag-key", "")  # no stored/env key shown


def test_a_refused_key_with_nothing_behind_it_says_to_store_one(vast, monkeypatch):
    monkeypatch.setenv("VAST_API_KEY", "wrong-env-key")
    ran = vast.run("%vast tfa status")
    assert_clean_failure(ran, "VAST_API_KEY is set", "then store yours with `%vast set api-key`")


def test_the_same_key_behind_a_refused_one_is_not_offered(vast, monkeypatch):
    """--api-key with the very key VAST_API_KEY holds: leaving it out sends the same
    refused key, so the hint names the next key that differs (here: none)."""
    monkeypatch.setenv("VAST_API_KEY", "wrong-env-key")
    ran = vast.run("%vast tfa status --api-key wrong-env-key")
    assert_clean_failure(ran, "--api-key comes before every other key",
                         "then store yours with `%vast set api-key`")
    assert "sends your API key from VAST_API_KEY" not in ran.text


def test_a_session_key_that_cannot_be_sent_says_logout(home, memory_keyring):
    _write(home / ".config" / "vastai" / "vast_tfa_key", "tfa-session-\u00e9")
    with pytest.raises(VastError) as info:
        credentials.resolve(None, {"HOME": str(home)})
    text = str(info.value) + " ".join(info.value.hints)
    assert "The 2FA session key from ~/.config/vastai/vast_tfa_key" in text
    assert "%vast tfa logout" in text and "manage-keys" not in text
