"""%vast in a real Jupyter kernel: no stdin (as under nbval/nbclient), and stdin allowed."""

from __future__ import annotations

import os
import sys

import pytest

from vast_magic.emulator import DEMO_KEYS, Emulator

KEY = DEMO_KEYS["multi"]


@pytest.fixture(scope="module")
def emu():
    with Emulator() as emulator:
        yield emulator


def _this_python_kernel_specs():
    """Kernel specs whose python3 is this interpreter (as nbval's --nbval-current-env)."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f",
                                    "{connection_file}"],
                              display_name="this Python", language="python")

    return ThisPython()


@pytest.fixture(scope="module")
def kernel(emu, tmp_path_factory):
    from jupyter_client.manager import KernelManager

    home = tmp_path_factory.mktemp("kernel-home")
    env = dict(os.environ, HOME=str(home), VAST_URL=emu.url, VAST_API_KEY=KEY,
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.pop("XDG_CONFIG_HOME", None)
    km = KernelManager(kernel_name="python3", kernel_spec_manager=_this_python_kernel_specs())
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    assert kc.execute_interactive("%load_ext vast_magic", timeout=60)["content"]["status"] == "ok"
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run(kc, code, *, allow_stdin=False, answer=None):
    """Execute code; return (status, text shown, error message content)."""
    shown = []

    def output(msg):
        kind = msg["msg_type"]
        content = msg["content"]
        if kind == "stream":
            shown.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            shown.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            shown.append("\n".join(content["traceback"]))

    def stdin(msg):
        shown.append(msg["content"]["prompt"])
        kc.input(answer(msg["content"]["prompt"]))

    # stop_on_error=False: ipykernel 6 aborts a request that arrives just after a failed
    # one ("aborted", not run), as "Run All" wants; these tests run one cell at a time and
    # read each cell's own status (still "error" for a failure)
    reply = kc.execute_interactive(code, allow_stdin=allow_stdin, output_hook=output,
                                   stdin_hook=stdin, timeout=60, stop_on_error=False)
    return reply["content"]["status"], "".join(shown)


def test_no_stdin_defers_to_a_later_cell(kernel, emu):
    status, text = run(kernel, "%vast tfa auth-new")
    assert status == "ok", text
    assert "--code CODE" in text
    status, text = run(kernel, "_vast_pending_tfa")
    assert "secret hidden" in text
    code = emu.last_code(KEY, channel="email")
    status, text = run(kernel, f"%vast tfa auth-new --code {code}")
    assert status == "ok" and "Authorized" in text, text


def test_failure_fails_the_cell_without_traceback(kernel):
    status, text = run(kernel, "%vast tfa auth-new --code 123456")
    assert status == "error"
    assert "Nothing is pending" in text and "Traceback" not in text
    status, text = run(kernel, "%vast tfa auth-new -bc AAAA-BBBB-CCCC")
    assert status == "error"
    assert "backup code" in text and "Traceback" not in text


def test_stdin_allowed_uses_the_kernel_input(kernel, emu):
    answers = iter(["12345", None])  # a typo first: refused locally, then the real code

    def answer(prompt):
        assert "Enter the 2FA code (email" in prompt
        text = next(answers)
        return text if text is not None else emu.last_code(KEY, channel="email")

    before = len([r for r in emu.log if r.method == "PUT"])
    status, text = run(kernel, "%vast tfa auth-new", allow_stdin=True, answer=answer)
    assert status == "ok", text
    assert "is not a 2FA code" in text and "Authorized" in text
    puts = [r for r in emu.log if r.method == "PUT"]
    assert len(puts) == before + 1  # only the real code reached the server
    assert puts[-1].json["code"] == emu.last_code(KEY, channel="email")


def test_status_renders_html_in_jupyter(kernel):
    results = []

    def keep(msg):
        if msg["msg_type"] == "execute_result":
            results.append(msg["content"]["data"])

    reply = kernel.execute_interactive("%vast tfa status", output_hook=keep, timeout=60)
    assert reply["content"]["status"] == "ok"
    [data] = results
    assert "<table>" in data["text/html"] and "<th>phone</th>" in data["text/html"]
    assert "2FA is on" in data["text/plain"]


def test_totp_setup_in_jupyter_shows_the_key_then_takes_it_back(kernel, emu):
    """A person at a front end that allows input: auth-new, the QR code, the app's code,
    the backup codes — and every secret replaced in the cell's output afterwards."""
    import re

    acct = emu.add_account()
    shown, updates = [], []

    def output(msg):
        content = msg["content"]
        if msg["msg_type"] == "display_data":
            shown.append(content)
        elif msg["msg_type"] == "update_display_data":
            updates.append(content)

    def answer(prompt):
        if "(email" in prompt:
            return emu.last_code(acct.api_key, channel="email")
        if "(totp" in prompt:
            while not shown:  # the QR code's display may come after the input request
                output(kernel.get_iopub_msg(timeout=10))
            html = shown[0]["data"]["text/html"]
            key = re.search(r"type in the key: <code>([A-Z2-7 ]+)</code>", html).group(1)
            return emu.totp_now(key.replace(" ", ""))
        assert "stored them" in prompt
        return ""

    def stdin(msg):
        kernel.input(answer(msg["content"]["prompt"]))

    assert run(kernel, f"%env VAST_API_KEY={acct.api_key}")[0] == "ok"
    try:
        reply = kernel.execute_interactive("%vast tfa totp-setup", allow_stdin=True,
                                           output_hook=output, stdin_hook=stdin, timeout=60)
    finally:
        run(kernel, f"%env VAST_API_KEY={KEY}")
    assert reply["content"]["status"] == "ok"
    qr, codes = shown
    assert "<svg" in qr["data"]["text/html"] and "backup codes" in codes["data"]["text/html"]
    ids = {qr["transient"]["display_id"], codes["transient"]["display_id"]}
    assert {u["transient"]["display_id"] for u in updates} == ids
    for update in updates:  # what a saved notebook keeps: no key, no QR, no codes
        assert set(update["data"]) == {"text/plain"}
        assert "removed from this output" in update["data"]["text/plain"]
    assert [m.method for m in emu.account(acct.api_key).methods] == ["totp"]


# -- login, delete and regen-codes: with stdin (the input box asks) and without ----------


def test_login_asks_in_the_input_box(kernel, emu):
    def answer(prompt):
        assert "Enter the 2FA code (email" in prompt
        return emu.last_code(KEY, channel="email")

    status, text = run(kernel, "%vast tfa login", allow_stdin=True, answer=answer)
    assert status == "ok", text
    assert "Logged in" in text and "tfa-session-" not in text


def test_login_without_stdin_finishes_in_a_later_cell(kernel, emu):
    status, text = run(kernel, "%vast tfa login -t email")
    assert status == "ok" and "%vast tfa login -c CODE" in text, text
    status, text = run(kernel, f"%vast tfa login -c {emu.last_code(KEY, channel='email')}")
    assert status == "ok" and "Logged in" in text, text


def test_regen_codes_confirmed_in_the_input_box(kernel, emu):
    def answer(prompt):
        if "[y/N]" in prompt:
            return "y"
        if "Enter the 2FA code" in prompt:
            app = next(m for m in emu.account(KEY).methods if m.method == "totp")
            return emu.totp_now(app)
        return ""  # "Press Enter once you have stored them"

    status, text = run(kernel, "%vast tfa regen-codes -t totp", allow_stdin=True,
                       answer=answer)
    assert status == "ok", text
    assert "New backup codes issued" in text


def test_delete_without_stdin_or_yes_fails_and_sends_nothing(kernel, emu):
    before = len(emu.log)
    status, text = run(kernel, "%vast tfa delete -id 103 -t totp -c 123456")
    assert status == "error" and "needs your confirmation" in text
    assert "Traceback" not in text and len(emu.log) == before


# -- the input box: a password box for codes, and Stop while it waits ---------------------

BOX_LEFT = "An input box left on screen can be ignored: nothing typed into it is sent."


def _kernel_pid(kc) -> int:
    import re

    status, text = run(kc, "import os as _os; print('pid', _os.getpid()); del _os")
    return int(re.search(r"pid (\d+)", text).group(1))


def _stop(kc):
    """What a front end's Stop does: SIGINT to the kernel while its box waits."""
    import signal

    pid = _kernel_pid(kc)
    return lambda: os.kill(pid, signal.SIGINT)


def _ask(kc, code, answer):
    """Execute with stdin; ``answer(content)`` gives the reply (or None: it sent none).
    Returns (status, text shown, the input requests' contents, display updates)."""
    shown, requests, updates = [], [], []

    def output(msg):
        content = msg["content"]
        if msg["msg_type"] == "stream":
            shown.append(content["text"])
        elif msg["msg_type"] == "error":
            shown.append("\n".join(content["traceback"]))
        elif msg["msg_type"] == "update_display_data":
            updates.append(content)

    def stdin(msg):
        requests.append(msg["content"])
        reply = answer(msg["content"])
        if reply is not None:
            kc.input(reply)

    reply = kc.execute_interactive(code, allow_stdin=True, output_hook=output,
                                   stdin_hook=stdin, timeout=60, stop_on_error=False)
    return reply["content"]["status"], "".join(shown), requests, updates


def test_the_code_is_asked_for_in_a_password_box(kernel, emu):
    """A plain box is saved into the notebook with what was typed: a backup code may be."""
    status, text, requests, _ = _ask(
        kernel, "%vast tfa auth-new",
        lambda content: emu.last_code(KEY, channel="email"))
    assert status == "ok" and "Authorized" in text, text
    [request] = requests
    assert request["prompt"].startswith("Enter the 2FA code (email")
    assert request["password"] is True


def test_stop_while_the_code_box_waits_says_the_box_can_be_ignored(kernel, emu):
    stop = _stop(kernel)
    before = len([r for r in emu.log if r.method == "PUT"])
    status, text, requests, _ = _ask(kernel, "%vast tfa auth-new",
                                     lambda content: stop())
    assert status == "ok", text
    said = " ".join(text.split())
    assert "Interrupted; the authorization is still pending. " + BOX_LEFT in said
    assert "finish with: %vast tfa auth-new --code CODE" in said
    assert "No code entered" not in said and "Traceback" not in text
    assert len(requests) == 1 and requests[0]["password"] is True
    assert "secret hidden" in run(kernel, "_vast_pending_tfa")[1]  # still pending
    code = emu.last_code(KEY, channel="email")
    status, text = run(kernel, f"%vast tfa auth-new --code {code}")
    assert status == "ok" and "Authorized" in text, text
    puts = [r for r in emu.log if r.method == "PUT"]
    assert len(puts) == before + 1 and puts[-1].json["code"] == code


def test_stop_at_the_press_enter_box_still_takes_the_codes_back(kernel, emu):
    stop = _stop(kernel)
    app = next(m for m in emu.account(KEY).methods if m.method == "totp")

    def answer(content):
        if "[y/N]" in content["prompt"]:
            return "y"
        if "Enter the 2FA code" in content["prompt"]:
            return emu.totp_now(app)
        assert "stored them" in content["prompt"]
        return stop()

    status, text, requests, updates = _ask(kernel, "%vast tfa regen-codes -t totp", answer)
    assert status == "ok", text
    assert "Interrupted. " + BOX_LEFT in " ".join(text.split())
    assert [r["password"] for r in requests] == [False, True, False]  # y and Enter: plain
    [update] = updates
    assert "removed from this output" in update["data"]["text/plain"]
