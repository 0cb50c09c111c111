"""What messages say, computed from what the magic knows: one wrong-code form for
every method, advice that fits the account, the locks status shows."""

from __future__ import annotations

import time

import pytest
from helpers import BoxKernel, assert_clean_failure

from vast_magic.emulator import DEMO_KEYS

from vast_magic.api import errors
from vast_magic.context import LockMemory

KEY = DEMO_KEYS["multi"]


def _wrong(method, fail_count=1, msg=None):
    data = {"error": "2fa_verification_failed", "fail_count": fail_count,
            "locked_until": None, **({"msg": msg} if msg else {})}
    return errors.from_answer(400, data, method=method).message


@pytest.mark.parametrize("method, msg, text", [
    ("email", "Invalid 2FA code. 4 attempt(s) left before this method is locked.",
     "Wrong code (1 failed attempt; 4 left before email verification locks for 15 minutes)."),
    ("sms", None, "Wrong code (1 failed attempt; 2 left before this SMS method locks for "
                  "15 minutes)."),
    ("totp", None, "Wrong code (1 failed attempt; 4 left before this authenticator app locks "
                   "for 15 minutes)."),
])
def test_wrong_code_has_one_form_for_every_method(method, msg, text):
    assert _wrong(method, msg=msg) == text


def test_wrong_code_prefers_the_servers_count_and_never_guesses_one():
    # the server's count wins over the documented limit
    assert "; 1 left before this SMS" in _wrong("sms", msg="Invalid 2FA code. 1 attempt left.")
    # no count and no documented limit: no number is made up
    text = _wrong(None, msg="Invalid 2FA code.")
    assert text == ("Wrong code (1 failed attempt; too many and this method locks for "
                    "15 minutes).")
    assert "server says" not in _wrong("email", msg="Invalid 2FA code. 4 attempt(s) left.")


# -- advice that fits the account ------------------------------------------------------

def test_unverified_email_offers_only_what_the_account_has(vast, monkeypatch):
    acct = vast.emu.add_account(email_verified=False, backup_codes=[])
    monkeypatch.setenv("VAST_API_KEY", acct.api_key)
    ran = vast.run("%vast tfa auth-new")
    assert_clean_failure(ran, "not verified", "Your account has no other way to verify")
    assert "-t totp" not in ran.text and "--backup-code" not in ran.text
    acct.add_totp(label="app")
    ran = vast.run("%vast tfa auth-new")
    assert_clean_failure(ran, "still works: `-t totp`.")
    assert "--backup-code" not in ran.text


def test_advice_says_when_the_account_cannot_be_looked_up(vast, monkeypatch):
    monkeypatch.setenv("VAST_API_KEY", DEMO_KEYS["unverified"])
    vast.emu.fail_next(1, error="email_not_verified")
    vast.emu.fail_next(1, status=500)  # the status lookup behind the advice
    ran = vast.run("%vast tfa auth-new")
    assert_clean_failure(ran, "not verified", "could not be looked up", "%vast tfa status")


def test_sms_lock_offers_the_other_sms_method(vast):
    vast.run("%vast tfa login --method-id 102 --no-prompt")
    for _ in range(3):
        ran = vast.run("%vast tfa login -c 000000")
    assert_clean_failure(ran, "locked", "`--method-id 103` (sms)", "`-t email`")
    assert "--method-id 102`" not in ran.text


# -- the locks status shows --------------------------------------------------------------

def test_status_shows_the_email_lock_a_refusal_told_of(vast):
    vast.run("%vast tfa auth-new")
    for _ in range(5):
        vast.run("%vast tfa auth-new --code 000000")
    text = repr(vast.run("%vast tfa status").value)
    assert "Email verification is locked (15 min left, as a refusal in this session said)." \
        in text
    html = vast.run("%vast tfa status").value._repr_html_()
    assert "Email verification is locked" in html
    # another key (another account) is not told of it; nor is anyone once it has ended
    other = vast.run(f"%vast tfa status --api-key {DEMO_KEYS['fresh']}").value
    assert "locked" not in repr(other)
    memory = LockMemory(vast.shell.magics_manager.registry["VastMagics"].locks)
    [where] = {entry[:2] for entry in memory.seen}
    assert memory.unshown(where, [])[0][0] == "email verification"
    assert memory.unshown(where, [], now=time.time() + 16 * 60) == []


def test_status_leaves_method_locks_to_the_servers_rows(vast):
    vast.run("%vast tfa login --method-id 102 --no-prompt")
    for _ in range(3):
        vast.run("%vast tfa login -c 000000")
    text = repr(vast.run("%vast tfa status").value)
    assert "as a refusal" not in text and "locked, 15 min left" in text


# -- small ones --------------------------------------------------------------------------

def test_bare_vast_shows_the_commands(ip):
    ran = ip.run("%vast")
    assert ran.success, ran.text
    assert "usage: %vast" in ran.out and "auth-new" not in ran.err
    assert "tfa" in ran.out and "set" in ran.out and "required" not in ran.text


def test_set_api_key_takes_only_the_global_options_that_mean_something(ip):
    ran = ip.run("%vast set api-key --help")
    assert "--raw" in ran.out
    for option in ("--url", "--retry", "--explain", "--api-key"):
        assert option not in ran.out, option
    assert_clean_failure(ip.run("%vast --url https://x.example set api-key K"),
                         "--url means nothing for `%vast set api-key`")
    assert_clean_failure(ip.run("%vast set api-key K --explain"), "unrecognized")
    assert "--url" in ip.run("%vast tfa status --help").out  # the others keep them


@pytest.mark.parametrize("how, source", [
    ("line", "(from --url)"), ("config", "(from %config VastMagics.url)"),
    ("env", "(from VAST_URL)"),
])
def test_url_errors_name_the_one_setting_it_came_from(vast, monkeypatch, how, source):
    bad = "ftp://example.com"
    monkeypatch.setenv("VAST_URL", bad if how == "env" else "https://console.vast.ai")
    if how == "config":
        vast.magics.url = bad
    ran = vast.run("%vast tfa status" + (f" --url {bad}" if how == "line" else ""))
    assert_clean_failure(ran, f"{bad!r} {source}")


class NoStdinKernel:
    """A kernel whose front end has no input, and which does not say so beforehand."""

    def raw_input(self, prompt=""):
        from IPython.core.error import StdinNotImplementedError

        raise StdinNotImplementedError("no stdin")

    getpass = raw_input


def test_a_kernel_without_stdin_does_not_say_no_code_was_entered(vast, monkeypatch):
    monkeypatch.setattr(vast.shell, "kernel", NoStdinKernel(), raising=False)
    ran = vast.run("%vast tfa auth-new")
    assert ran.success, ran.text
    assert "No code entered" not in ran.text
    assert "finish with: %vast tfa auth-new --code CODE" in ran.out
    ran = vast.run("%vast tfa login -t totp")
    assert_clean_failure(ran, "Nobody can be asked")


@pytest.fixture
def box(vast, monkeypatch):
    """Put a BoxKernel under the shell: ``box(*answers)``."""
    vast.magics.code_prompt = "auto"

    def install(*answers):
        kernel = BoxKernel(*answers)
        monkeypatch.setattr(vast.shell, "kernel", kernel, raising=False)
        return kernel

    return install


BOX_LEFT = "An input box left on screen can be ignored: nothing typed into it is sent."


def test_the_kernel_asks_for_the_code_in_a_password_box(vast, box):
    """A plain box is saved into the notebook with what was typed (a backup code, too)."""
    kernel = box("12345", lambda: vast.emu.last_code(KEY, channel="email"))
    ran = vast.run("%vast tfa auth-new")
    assert ran.success, ran.text
    assert "is not a 2FA code" in ran.out and "12345" not in ran.text
    assert "Authorized" in ran.out
    assert [password for _, password in kernel.asked] == [True, True]
    assert kernel.asked[0][0].startswith("Enter the 2FA code (email")
    assert len(vast.api_requests("PUT")) == 1


def test_stop_while_the_kernel_box_waits_says_the_box_can_be_ignored(vast, box):
    box(KeyboardInterrupt)
    ran = vast.run("%vast tfa auth-new")
    assert ran.success, ran.text
    assert "Interrupted; the authorization is still pending. " + BOX_LEFT in \
        " ".join(ran.out.split())
    assert "finish with: %vast tfa auth-new --code CODE" in ran.out
    assert "No code entered" not in ran.out and "Traceback" not in ran.text
    assert vast.pending is not None and vast.api_requests("PUT") == []
    ran = vast.run(f"%vast tfa auth-new --code {vast.emu.last_code(KEY, channel='email')}")
    assert ran.success and "Authorized" in ran.out, ran.text
    assert len(vast.api_requests("PUT")) == 1


def test_an_empty_answer_in_the_kernel_box_is_still_no_code_entered(vast, box):
    box("")
    ran = vast.run("%vast tfa auth-new")
    assert ran.success, ran.text
    assert "No code entered; the authorization is still pending." in ran.out
    assert BOX_LEFT not in " ".join(ran.out.split())


def test_stop_at_an_app_code_box_sends_nothing_and_says_the_box_can_be_ignored(vast, box):
    kernel = box(KeyboardInterrupt)
    before = len(vast.api_requests())
    ran = vast.run("%vast tfa login -t totp")
    assert ran.success, ran.text
    text = " ".join(ran.out.split())
    assert "Interrupted, so nothing was sent. " + BOX_LEFT in text
    assert "Later: %vast tfa login" in text and "Traceback" not in ran.text
    assert kernel.asked[0][1] is True and len(vast.api_requests()) == before


def test_stop_at_a_confirmation_box_says_the_box_can_be_ignored(vast, box):
    kernel = box(KeyboardInterrupt)
    before = len(vast.api_requests())
    ran = vast.run("%vast tfa delete -id 103 -t totp")
    assert ran.success, ran.text
    text = " ".join(ran.out.split())
    assert "Interrupted. " + BOX_LEFT in text and "Not confirmed: nothing was sent." in text
    assert kernel.asked == [(kernel.asked[0][0], False)]  # a yes is no secret: a plain box
    assert len(vast.api_requests()) == before


def test_stop_at_the_press_enter_box_says_the_box_can_be_ignored(vast, box):
    app = next(m for m in vast.emu.account(KEY).methods if m.method == "totp")
    kernel = box("y", lambda: vast.emu.totp_now(app), KeyboardInterrupt)
    ran = vast.run("%vast tfa regen-codes -t totp")
    assert ran.success, ran.text
    assert "Interrupted. " + BOX_LEFT in " ".join(ran.out.split())
    assert [password for _, password in kernel.asked] == [False, True, False]
    assert "stored them" in kernel.asked[2][0]


def test_stop_at_the_api_key_box_stores_nothing_and_says_the_box_can_be_ignored(
        vast, box, memory_keyring):
    kernel = box(KeyboardInterrupt)
    ran = vast.run("%vast set api-key")
    assert_clean_failure(ran, "Interrupted; nothing was stored.", "can be ignored",
                         "`%vast set api-key` again")
    assert kernel.asked == [("Vast.ai API key: ", True)]
    assert not memory_keyring.store


def test_bench_says_what_the_load_imported_even_when_nothing():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "benchmarks" / "load_ext.py"
    spec = importlib.util.spec_from_file_location("load_ext_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.imported([]) == ("imported: none of requests, urllib3, keyring, "
                                  "vast_magic.context")
    assert bench.imported(["requests"]) == "imported: requests"


def test_no_key_hint_promises_a_keyring_only_where_there_is_one(vast, monkeypatch):
    monkeypatch.delenv("VAST_API_KEY")
    ran = vast.run("%vast tfa status")
    assert_clean_failure(ran, "No Vast.ai API key", "keeps it in the system keyring")


def test_no_key_hint_without_a_keyring_names_the_file(vast, no_keyring, monkeypatch):
    monkeypatch.delenv("VAST_API_KEY")
    ran = vast.run("%vast tfa status")
    assert_clean_failure(ran, "No Vast.ai API key", "no usable keyring here",
                         "~/.config/vastai/vast_api_key")
    assert "system keyring" not in ran.text
