"""The %vast grammar, help, and where the API key comes from."""

from __future__ import annotations

import os
import stat

import pytest
from IPython.core.error import UsageError
from magic_fixtures import assert_clean_failure

from vast_magic import credentials, grammar

# -- grammar ------------------------------------------------------------------


def test_cli_short_forms_and_globals_on_either_side():
    ns = grammar.parse("--raw tfa auth-new -t sms --url http://x --retry 2".split())
    assert (ns.method_type, ns.url, ns.retry, ns.raw) == ("sms", "http://x", 2, True)
    ns = grammar.parse("tfa auth-new -bc ABCD-EFGH-IJKL --explain".split())
    assert ns.backup_code == "ABCD-EFGH-IJKL" and ns.explain
    ns = grammar.parse("tfa auth-new -id 456 -c 123456 -s sec".split())
    assert (ns.method_id, ns.code, ns.secret) == (456, "123456", "sec")
    ns = grammar.parse("tfa auth-new".split())
    assert (ns.method_type, ns.retry, ns.url, ns.raw) == (None, None, None, False)


@pytest.mark.parametrize("line, words", [
    ("tfa auth-new -t sms -id 3", ["not allowed with", "--method-type"]),
    ("tfa auth-new -bc X -t totp", ["not allowed with"]),
    ("tfa auth-new -t fax", ["invalid choice", "email", "sms", "totp"]),
    ("frobnicate", ["invalid choice", "tfa"]),
    ("tfa nope", ["invalid choice", "auth-new", "status"]),
    ("tfa auth-new --bogus", ["unrecognized arguments: --bogus"]),
    ("tfa auth-new --retry 0", ["at least 1"]),
    ("tfa auth-new -id abc", ["a method id is a number"]),
    ("", ["required"]),
])
def test_bad_lines_say_what_is_valid(line, words):
    with pytest.raises(UsageError) as info:
        grammar.parse(grammar.split(line))
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("line", [
    "tfa auth-new", "--raw tfa auth-new -t sms", "--url=http://x --retry 2 tfa status --explain",
    "--api-key K tfa auth-new -bc A-B-C --raw", "tfa auth-new -id 4 --no-prompt",
    "tfa auth-new --code 123456 -s S", "set api-key KEY", "--explain --raw tfa status",
    "tfa auth-new -t sms -id 3", "--retry 0 tfa status", "tfa auth-new --bogus",
    "tfa --raw auth-new", "--ur http://x tfa status", "tfa", "--raw",
])
def test_the_shortcut_to_the_command_parser_means_the_same(line):
    """parse() starts at the command's parser for speed; the whole tree must agree
    (on errors, the usage shown may be the command's own, which is more useful)."""
    def outcome(parse):
        try:
            ns = parse(grammar.split(line))
        except (UsageError, grammar.HelpShown) as exc:
            return type(exc).__name__, str(exc).splitlines()[:1]
        return sorted(vars(ns).items())

    def whole_tree(argv):
        ns = grammar.parser().parse_args(argv)
        for name, default in grammar.GLOBAL_DEFAULTS.items():
            ns.__dict__.setdefault(name, default)
        return ns

    assert outcome(grammar.parse) == outcome(whole_tree)


def test_unbalanced_quote_is_a_usage_error():
    with pytest.raises(UsageError, match="unbalanced"):
        grammar.split("tfa auth-new --code '12")


def test_help_everywhere(ip):
    for line in ("%vast --help", "%vast -h", "%vast tfa --help", "%vast tfa auth-new --help",
                 "%vast tfa status --help", "%vast set api-key --help"):
        ran = ip.run(line)
        assert ran.success, (line, ran.text)
        assert "usage: %vast" in ran.out
    ran = ip.run("%vast tfa auth-new --help")
    for option in ("--code", "--secret", "--method-type", "--backup-code", "--method-id",
                   "-bc", "-id", "--url", "--retry", "--raw", "--explain", "--api-key"):
        assert option in ran.out


def test_question_mark_shows_the_parser_help(ip):
    ran = ip.run("%vast?")
    assert "usage: %vast" in ran.out and "auth-new" in ran.out and "--backup-code" in ran.out


def test_usage_errors_fail_the_cell_without_traceback(ip):
    assert_clean_failure(ip.run("%vast tfa auth-new -t sms --method-id 3"), "not allowed with")
    assert_clean_failure(ip.run("%vast tfa auth-new --code 123456 -t sms"),
                         "use one or the other")


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

    ip.vast_magics.code_prompt = "terminal"
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text("typed-hidden-key\r")
        ran = ip.run("%vast set api-key")
    assert ran.success, ran.text
    assert memory_keyring.store[("vast.ai", "api_key")] == "typed-hidden-key"
    assert "typed-hidden-key" not in ran.text and "Warning" not in ran.err


def test_settings_via_config(ip):
    ip.run("%config VastMagics.retry = 0")  # refused by the validator (IPython logs it)
    assert ip.vast_magics.retry == 3
    assert ip.run("%config VastMagics.timeout = 5").success
    assert ip.vast_magics.timeout == 5
    ran = ip.run("%config VastMagics")
    assert "code_prompt" in ran.out and "url" in ran.out


@pytest.mark.parametrize("line, expected", [
    ("%vast ", {"tfa", "set"}),
    ("%vast tfa au", {"auth-new"}),
    ("%vast tfa auth-new --m", {"--method-type", "--method-id"}),
    ("%vast tfa auth-new -t s", {"sms"}),
    ("%vast --r", {"--retry", "--raw"}),
    ("r = %vast --raw tfa st", {"status"}),
])
def test_tab_completion_comes_from_the_parser(ip, line, expected):
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        matches = {c.text for c in ip.Completer.completions(line, len(line))}
    assert matches == expected


def test_completion_leaves_other_lines_alone(ip):
    from IPython.core.completer import provisionalcompleter

    line = 'print("%vast tfa '
    with provisionalcompleter():
        matches = {c.text for c in ip.Completer.completions(line, len(line))}
    assert "auth-new" not in matches


def test_unload_removes_the_completer(ip):
    ip.run_line_magic("unload_ext", "vast_magic")
    try:
        from vast_magic.magic import complete_vast

        assert complete_vast not in ip.Completer.custom_matchers
    finally:
        ip.run_line_magic("load_ext", "vast_magic")


def test_key_file_written_by_notepad_is_cleaned(home, memory_keyring):
    _write(home / ".config" / "vastai" / "vast_api_key", "\ufeffabc123\r\nsecond line\r\n")
    assert credentials.resolve(None, {"HOME": str(home)}).value == "abc123"


def test_a_key_that_cannot_be_sent_is_refused_by_source_not_value(home, memory_keyring):
    from vast_magic.errors import VastError

    with pytest.raises(VastError) as info:
        credentials.resolve(None, {"HOME": str(home), "VAST_API_KEY": "clé-secrète"})
    assert "VAST_API_KEY" in str(info.value) and "clé" not in str(info.value)


def test_set_api_key_refuses_unsendable_keys(ip, memory_keyring):
    ran = ip.run("%vast set api-key 'clé'")
    assert_clean_failure(ran, "cannot have")
    assert memory_keyring.store == {}
