"""The %vast grammar, help, settings and tab completion (the API key: test_credentials.py)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from helpers import assert_clean_failure

from vast_magic import grammar

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
])  # a bare %vast shows the commands: tests/test_messages.py
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
    "tfa auth-new --code=--", "tfa auth-new -c--", "tfa auth-new --backup-code=--",
    "tfa auth-new --method-id=--", "tfa auth-new -id--", "tfa auth-new -bc--",
    "--url=-- tfa status", "tfa status --url=--", "--retry=-- tfa status",
    "--api-key=-- tfa status", "tfa auth-new --secret=--", "tfa auth-new -s--",
    "--url -- tfa status",
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


# -- settings and tab completion -----------------------------------------------

def test_settings_via_config(ip):
    ip.run("%config VastMagics.retry = 0")  # refused by the validator (IPython logs it)
    assert ip.magics.retry == 3
    assert ip.run("%config VastMagics.timeout = 5").success
    assert ip.magics.timeout == 5
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
        matches = {c.text for c in ip.shell.Completer.completions(line, len(line))}
    assert matches == expected


def test_completion_leaves_other_lines_alone(ip):
    from IPython.core.completer import provisionalcompleter

    line = 'print("%vast tfa '
    with provisionalcompleter():
        matches = {c.text for c in ip.shell.Completer.completions(line, len(line))}
    assert "auth-new" not in matches


def test_unload_removes_the_completer(ip):
    ip.shell.run_line_magic("unload_ext", "vast_magic")
    try:
        from vast_magic.magic import complete_vast

        assert complete_vast not in ip.shell.Completer.custom_matchers
    finally:
        ip.shell.run_line_magic("load_ext", "vast_magic")
