"""The official ``vastai`` CLI (1.9.1, the ``cli-compat`` extra) against the emulator.

Every ``tfa`` flow of the CLI must work against the emulator as against the real
service (where they disagree, the emulator is wrong).  :data:`INTENTS` holds one
row per thing a user may ask of both the CLI and ``%vast``: the CLI's flow must
succeed, and the magic must send the same request (method, path, body keys and
value types; ``tfa_method_id`` as an integer is the one intended difference).
The tests after it cover what a row cannot: flows of several runs, session
keys, refused keys.  docs/cli-differences.md lists what the CLI does that the
magic deliberately does not.
"""

from __future__ import annotations

import functools
import itertools
import shlex
from dataclasses import dataclass
from typing import Any, Callable

import pytest
import requests

from vast_magic.commands import REGISTRY
from vast_magic.emulator import DEMO_KEYS, Emulator
from vast_magic.emulator.api import api_path
from vastcli import Cli, skip_reason

needs_cli = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

MULTI, FRESH = DEMO_KEYS["multi"], DEMO_KEYS["fresh"]
NEW_PHONE = "+15550002222"
QR_CODE = "\x1b[48;5;232m"  # how qrcode starts each row it draws on a terminal
ENTER_CODE = "Enter 2FA code to complete authorization:"
CONFIRM = r"\(y\|n\): "
SHOW_CODES = ((r"Enter choice \(1-3\): ", "3"), (r"\(yes/no\): ", "yes"))


def one_sms(emu: Emulator) -> str:
    """An account whose only method is one SMS (so ``-t sms`` picks it)."""
    acct = emu.add_account(api_key="compat-one-sms-000000000000000001", email="one@example.com")
    acct.add_sms("+15550001111", label="phone", is_primary=True)
    return acct.api_key


#: The accounts a test may start from: name -> its setup on an emulator -> its API key.
ACCOUNTS: dict[str, Callable[[Emulator], str]] = {
    "multi": lambda emu: MULTI,
    "fresh": lambda emu: FRESH,
    "one_sms": one_sms,
}


@pytest.fixture
def cli(vast_emulator, tmp_path):
    """``cli(account, emu=vast_emulator)``: a CLI user with a home of its own."""
    homes = itertools.count()

    def make(account: str = "multi", emu: Emulator | None = None) -> Cli:
        emu = emu or vast_emulator
        home = tmp_path / f"home-{next(homes)}"
        home.mkdir()
        return Cli(emu, home, ACCOUNTS[account](emu))

    return make


def tfa_calls(emu: Emulator, key: str | None = None) -> list[tuple[str, str, Any]]:
    """The 2FA requests the emulator received (sent with ``key``, if given):
    method, path under /api/v0, JSON body."""
    return [(r.method, api_path(r.path), r.json) for r in emu.log
            if api_path(r.path).startswith("/tfa/")
            and (key is None or r.headers.get("Authorization") == f"Bearer {key}")]


def call(emu: Emulator, key: str, method: str, path: str, body: dict | None = None) -> dict:
    """One API request, for a test's setup."""
    r = requests.request(method, f"{emu.url}/api/v0/tfa/{path}", json=body, timeout=5,
                         headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()


# Where a user reads a code: (emulator, key) -> the code.
def texted(emu: Emulator, key: str) -> str:
    return emu.last_code(key, "sms")


def emailed(emu: Emulator, key: str) -> str:
    return emu.last_code(key, "email")


def app(emu: Emulator, key: str) -> str:
    return emu.totp_code(key)


# What a row prepares: (emulator, key) -> the {placeholders} of its lines.
def code(emu: Emulator, key: str) -> dict[str, str]:
    return {"code": app(emu, key)}


def pending_authorization(emu: Emulator, key: str) -> dict[str, str]:
    secret = call(emu, key, "POST", "authorize-new-method/", {"tfa_method": "email"})["secret"]
    return {"secret": secret, "code": emailed(emu, key)}


def sent(path: str, body: dict, code_of: Callable[[Emulator, str], str]):
    """A code sent by ``POST path body``: its secret and code."""
    def prepare(emu: Emulator, key: str) -> dict[str, str]:
        secret = call(emu, key, "POST", path, body)["secret"]
        return {"secret": secret, "code": code_of(emu, key)}
    return prepare


def new_method(kind: str):
    """The add-method window open, and a setup pending: a new TOTP secret or a
    code texted to NEW_PHONE."""
    def prepare(emu: Emulator, key: str) -> dict[str, str]:
        emu.account(key).authorize()
        if kind == "sms":
            return sent("sms/", {"phone_number": NEW_PHONE}, texted)(emu, key)
        secret = call(emu, key, "POST", "totp-setup/", {})["secret"]
        return {"secret": secret, "code": emu.totp_now(secret)}
    return prepare


# -- the magic and the CLI, one row per intent ------------------------------------------


@dataclass(frozen=True)
class Intent:
    """One thing a user may ask of both: how each says it, and the request it makes.

    ``request`` is (method, path under /api/v0, body); a type among the body's
    values stands for any value of it.  ``prepare(emu, key)`` fills both lines'
    ``{placeholders}`` (once per side); ``cli_replies`` answer the CLI's prompts,
    a reply of the form (emu, key) -> str when it is known only then (a code);
    ``cli_says`` is what the CLI shows when its flow succeeded.
    """

    name: str
    cli: tuple[str, ...]
    magic: str
    request: tuple[str, str, dict | None]
    cli_says: tuple[str, ...]
    account: str = "multi"
    prepare: Callable[[Emulator, str], dict[str, str]] | None = None
    cli_replies: tuple = ()


AUTHORIZED = ("Successfully authorized",)
AUTHORIZE = "/tfa/authorize-new-method/"
LOGGED_IN = ("2FA login successful",)

#: One row per intent.  A row whose %vast command does not exist yet still runs
#: the CLI's flow, then skips the comparison, naming the command.
INTENTS = (
    Intent("auth-new (email)", ("tfa", "auth-new"), "%vast tfa auth-new",
           ("POST", AUTHORIZE, {"tfa_method": "email"}), AUTHORIZED, account="fresh",
           cli_replies=((ENTER_CODE, emailed),)),
    Intent("auth-new -t sms", ("tfa", "auth-new", "-t", "sms"), "%vast tfa auth-new -t sms",
           ("POST", AUTHORIZE, {"tfa_method": "sms"}), AUTHORIZED, account="one_sms",
           cli_replies=((ENTER_CODE, texted),)),
    Intent("auth-new -t totp", ("tfa", "auth-new", "-t", "totp"), "%vast tfa auth-new -t totp",
           ("POST", AUTHORIZE, {"tfa_method": "totp"}), AUTHORIZED,
           cli_replies=((ENTER_CODE, app),)),
    Intent("auth-new --method-id", ("tfa", "auth-new", "--method-id", "103"),
           "%vast tfa auth-new --method-id 103",
           ("POST", AUTHORIZE, {"tfa_method_id": 103}), AUTHORIZED,
           cli_replies=((ENTER_CODE, texted),)),
    Intent("auth-new --backup-code", ("tfa", "auth-new", "--backup-code", "DEMO-CODE-0001"),
           "%vast tfa auth-new --backup-code DEMO-CODE-0001",
           ("POST", AUTHORIZE, {"backup_code": "DEMO-CODE-0001"}), AUTHORIZED),
    Intent("auth-new --secret --code",
           ("tfa", "auth-new", "--secret", "{secret}", "--code", "{code}"),
           "%vast tfa auth-new --secret {secret} --code {code}",
           ("PUT", AUTHORIZE, {"secret": str, "code": str}), AUTHORIZED,
           prepare=pending_authorization),
    Intent("status", ("tfa", "status"), "%vast tfa status", ("GET", "/tfa/status/", None),
           ("2FA Status: Enabled", "backup phone", "Backup codes remaining: 10")),
    Intent("send-email", ("tfa", "send-email"), "%vast tfa send-email",
           ("POST", "/tfa/email/", {}), ("Email code sent",)),
    Intent("send-sms", ("tfa", "send-sms"), "%vast tfa send-sms", ("POST", "/tfa/sms/", {}),
           ("SMS code sent",)),
    Intent("send-sms --phone-number", ("tfa", "send-sms", "--phone-number", NEW_PHONE),
           f"%vast tfa send-sms --phone-number {NEW_PHONE}",
           ("POST", "/tfa/sms/", {"phone_number": NEW_PHONE}), ("SMS code sent",)),
    Intent("resend-sms", ("tfa", "resend-sms", "--secret", "{secret}"),
           "%vast tfa resend-sms --secret {secret}",
           ("POST", "/tfa/sms/resend/", {"secret": str}), ("SMS code resent",),
           prepare=sent("sms/", {}, texted)),
    Intent("totp-setup", ("tfa", "totp-setup"), "%vast tfa totp-setup",
           ("POST", "/tfa/totp-setup/", {}), (QR_CODE, "Manual Entry Key")),
    Intent("activate (totp, first method)", ("tfa", "activate", "--secret", "{secret}", "{code}"),
           "%vast tfa activate --secret {secret} {code}",
           ("POST", "/tfa/confirm-new/", {"tfa_method": "totp", "code": str, "secret": str}),
           ("2FA method activated", "Your New Backup Codes"), account="fresh",
           prepare=new_method("totp"), cli_replies=SHOW_CODES),
    Intent("activate -t sms", ("tfa", "activate", "-t", "sms", "--secret", "{secret}",
                               "--phone-number", NEW_PHONE, "-l", "work phone", "{code}"),
           f"%vast tfa activate -t sms --secret {{secret}} --phone-number {NEW_PHONE} "
           "--label 'work phone' {code}",
           ("POST", "/tfa/confirm-new/", {"tfa_method": "sms", "code": str, "secret": str,
                                          "phone_number": NEW_PHONE, "label": "work phone"}),
           ("SMS 2FA method activated",), prepare=new_method("sms")),
    Intent("login -t totp", ("tfa", "login", "-t", "totp", "-c", "{code}"),
           "%vast tfa login -t totp --code {code}",
           ("POST", "/tfa/", {"tfa_method": "totp", "code": str}), LOGGED_IN, prepare=code),
    Intent("login -t email", ("tfa", "login", "-t", "email", "--secret", "{secret}",
                              "-c", "{code}"),
           "%vast tfa login -t email --secret {secret} --code {code}",
           ("POST", "/tfa/", {"tfa_method": "email", "secret": str, "code": str}), LOGGED_IN,
           prepare=sent("email/", {}, emailed)),
    Intent("login --method-id", ("tfa", "login", "--method-id", "101", "-c", "{code}"),
           "%vast tfa login --method-id 101 --code {code}",
           ("POST", "/tfa/", {"tfa_method_id": 101, "code": str}), LOGGED_IN, prepare=code),
    Intent("login --backup-code", ("tfa", "login", "--backup-code", "DEMO-CODE-0001"),
           "%vast tfa login --backup-code DEMO-CODE-0001",
           ("POST", "/tfa/", {"backup_code": "DEMO-CODE-0001"}),
           LOGGED_IN + ("Backup codes remaining: 9",)),
    Intent("regen-codes --method-id", ("tfa", "regen-codes", "--method-id", "101", "-c", "{code}"),
           "%vast tfa regen-codes --method-id 101 --code {code} --yes",
           ("PUT", "/tfa/regen-backup-codes/", {"tfa_method_id": 101, "code": str}),
           ("Your New Backup Codes",), prepare=code, cli_replies=((CONFIRM, "y"), *SHOW_CODES)),
    Intent("delete --method-id", ("tfa", "delete", "-id", "103", "--method-id", "101",
                                  "-c", "{code}"),
           "%vast tfa delete --id-to-delete 103 --method-id 101 --code {code} --yes",
           ("DELETE", "/tfa/", {"tfa_method_id": 101, "code": str, "target_id": 103}),
           ("2FA method deleted successfully", "2 2FA methods remaining"), prepare=code,
           cli_replies=((CONFIRM, "y"),)),
    Intent("update", ("tfa", "update", "103", "--label", "work phone", "-p", "true"),
           "%vast tfa update 103 --label 'work phone' --set-primary true",
           ("PUT", "/tfa/update/", {"tfa_method_id": 103, "label": "work phone",
                                    "is_primary": True}), ("2FA method updated successfully",)),
)


def magic_command(line: str) -> str:
    """``%vast tfa send-sms -p X`` -> ``%vast tfa send-sms``."""
    return " ".join(shlex.split(line)[:3])


def comparable(body: Any) -> Any:
    """A CLI body with its ``tfa_method_id`` string as the integer the magic sends."""
    if isinstance(body, dict) and isinstance(body.get("tfa_method_id"), str) \
            and body["tfa_method_id"].isdigit():
        return {**body, "tfa_method_id": int(body["tfa_method_id"])}
    return body


def matches(body: Any, expected: Any) -> bool:
    """``body`` is ``expected``, where a type stands for any value of it (not a bool)."""
    if not isinstance(expected, dict):
        return body == expected
    return isinstance(body, dict) and body.keys() == expected.keys() and all(
        isinstance(body[k], v) and not isinstance(body[k], bool) if isinstance(v, type)
        else body[k] == v and type(body[k]) is type(v) for k, v in expected.items())


def the_request(emu: Emulator, key: str, intent: Intent) -> Any:
    """The body of the one request of the intent's method and path, sent with ``key``."""
    method, path, _ = intent.request
    bodies = [body for m, p, body in tfa_calls(emu, key) if (m, p) == (method, path)]
    assert len(bodies) == 1, (intent.name, tfa_calls(emu))
    return bodies[0]


@needs_cli
@pytest.mark.parametrize("intent", INTENTS, ids=[i.name for i in INTENTS])
def test_the_cli_flow_works_and_the_magic_sends_the_same_request(intent, vast, cli,
                                                                 monkeypatch):
    expected = intent.request[2]
    with Emulator() as emu:  # the CLI's own service, set up as the magic's is
        user = cli(intent.account, emu)
        key = user.key
        fill = intent.prepare(emu, key) if intent.prepare else {}
        replies = [(prompt, functools.partial(reply, emu, key) if callable(reply) else reply)
                   for prompt, reply in intent.cli_replies]
        user.run(*(arg.format(**fill) for arg in intent.cli), replies=replies).check(
            *intent.cli_says)
        cli_body = comparable(the_request(emu, key, intent))
    assert matches(cli_body, expected), ("cli", cli_body)

    command = magic_command(intent.magic)
    if command not in {c.name for c in REGISTRY}:
        pytest.skip(f"{command} is not in vast-magic yet")
    key = ACCOUNTS[intent.account](vast.emu)
    monkeypatch.setenv("VAST_API_KEY", key)
    fill = intent.prepare(vast.emu, key) if intent.prepare else {}
    vast.run(intent.magic.format(**fill))
    magic_body = the_request(vast.emu, key, intent)
    assert matches(magic_body, expected), ("magic", magic_body)


# -- flows of several runs ------------------------------------------------------------------


def secret_in(out: str, label: str) -> str:
    """The secret the CLI printed after ``label``."""
    return out.split(label, 1)[1].split()[0]


@needs_cli
def test_auth_new_cancelled_at_the_prompt_then_finished_with_secret_and_code(cli,
                                                                             vast_emulator):
    user = cli("fresh")
    out = user.run("tfa", "auth-new", replies=[(ENTER_CODE, None)]).check(
        "Operation cancelled", status=1).out
    vast_emulator.log.clear()
    user.run("tfa", "auth-new", "--secret", secret_in(out, "2FA Secret:"), "--code",
             emailed(vast_emulator, FRESH)).check(*AUTHORIZED)
    assert [c[:2] for c in tfa_calls(vast_emulator)] == [("PUT", AUTHORIZE)]
    assert vast_emulator.account(FRESH).window_open(vast_emulator.clock.now())


@needs_cli
def test_resend_sms_keeps_the_original_secret(cli, vast_emulator):
    """The CLI drops the resend answer: the ORIGINAL secret finishes, with the new code."""
    user = cli("multi")
    secret = call(vast_emulator, MULTI, "POST", "sms/", {})["secret"]
    user.run("tfa", "resend-sms", "--secret", secret).check("SMS code resent")
    user.run("tfa", "login", "-t", "sms", "--secret", secret, "-c", texted(vast_emulator, MULTI)
             ).check(*LOGGED_IN)
    assert [m.to for m in vast_emulator.messages(MULTI, "sms")] == ["+15551230102"] * 2
    assert tfa_calls(vast_emulator)[1:] == [
        ("POST", "/tfa/sms/resend/", {"secret": secret}),
        ("POST", "/tfa/", {"tfa_method": "sms", "secret": secret,
                           "code": texted(vast_emulator, MULTI)})]


@needs_cli
def test_login_writes_the_session_key_and_a_login_with_it_refreshes_it(cli, vast_emulator):
    user = cli("multi")
    user.run("tfa", "login", "-t", "totp", "-c", app(vast_emulator, MULTI)).check(
        "Session key saved")
    session = user.session_file.read_text()
    assert vast_emulator.account(session) is vast_emulator.account(MULTI)
    vast_emulator.clock.advance(1800)
    user.run("tfa", "login", "-t", "totp", "-c", app(vast_emulator, MULTI)).check(
        "Your session key has been refreshed")  # it sent the session key and got it back
    assert user.session_file.read_text() == session
    assert tfa_calls(vast_emulator, session)[0][:2] == ("POST", "/tfa/")
    vast_emulator.clock.advance(1800)  # an hour after the login, half an hour after the refresh
    assert call(vast_emulator, session, "GET", "status/")["tfa_enabled"] is True


# -- keys the service refuses; what the CLI asks besides 2FA -------------------------------


@needs_cli
def test_an_unknown_api_key_is_401_invalid_user_key(vast_emulator, tmp_path):
    Cli(vast_emulator, tmp_path, "no-such-key-0000").run("tfa", "status").check(
        "Failed with error 401: Invalid user key", "Update with: vastai set api-key")


@needs_cli
@pytest.mark.parametrize("how", ["expired", "deleted"])
def test_a_dead_session_key_falls_back_to_the_api_key(cli, vast_emulator, how):
    """404 "Session expired..." or 401 "Invalid user key" while a session file exists:
    the CLI removes it and tries again with the API key."""
    user = cli("multi")
    if how == "expired":
        user.session_file.write_text(vast_emulator.create_session(MULTI))
        vast_emulator.clock.advance(3600)
    else:
        user.session_file.write_text("tfa-session-that-was-deleted")
    dead = user.key
    user.run("tfa", "status").check("Your 2FA session has expired",
                                    "Trying again with your normal API Key", "2FA Status: Enabled")
    assert not user.session_file.exists()
    assert [r.headers["Authorization"] for r in vast_emulator.log if "/tfa/" in r.path] == [
        f"Bearer {dead}", f"Bearer {MULTI}"]


@needs_cli
def test_a_fault_meant_for_the_2fa_call_reaches_it(cli, vast_emulator):
    """The CLI's other requests (GPU names, /users/current) do not eat it."""
    vast_emulator.fail_next(1, error="team_user_forbidden")
    cli("multi").run("tfa", "status").check("Failed with error 403")
    asked = {api_path(r.path) for r in vast_emulator.log}
    assert {"/gpu_names/unique/", "/users/current/", "/tfa/status/"} == asked
    assert vast_emulator.pending_faults == 0


# -- the magic's answers to the same refusals -----------------------------------------------


def test_the_magic_says_an_unknown_api_key_was_not_accepted(vast):
    ran = vast.run("%vast tfa status --api-key no-such-key-0000")
    assert not ran.success and "did not accept your API key" in ran.text, ran.text


def test_the_magic_says_an_expired_session_key_expired(vast):
    session = vast.emu.create_session(MULTI)
    vast.emu.clock.advance(3600)
    ran = vast.run(f"%vast tfa status --api-key {session}")
    assert not ran.success and "session key" in ran.text and "has expired" in ran.text, ran.text
    assert "did not accept" not in ran.text
