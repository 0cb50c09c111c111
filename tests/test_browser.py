"""JupyterLab 4 and Notebook 7 in headless Chromium: %vast asking for the code in the
front end's input box.

The browser is Debian's (`chromium`), launched by Playwright from its path — Playwright
never downloads one here.  Each front end runs as `jupyter lab` / `jupyter notebook` on
127.0.0.1 with a token, a HOME of its own, and VAST_URL at the emulator in this process.
Skipped, with the reason, where Chromium, Playwright or the front end is missing
(.ci/run installs them).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from vast_magic.emulator import DEMO_KEYS, Emulator

KEY = DEMO_KEYS["multi"]
CHROMIUM = Path("/usr/lib/chromium/chromium")
FRONT_ENDS = {"lab": ("jupyterlab", "/lab/tree/{name}"),
              "notebook": ("notebook", "/notebooks/{name}")}


def _missing(module: str) -> str:
    need = []
    if not CHROMIUM.exists():
        need.append(f"Chromium ({CHROMIUM}: apt-get install chromium)")
    for name in ("playwright", module):
        if importlib.util.find_spec(name) is None:
            need.append(f"the {name} package")
    return ", ".join(need)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ours(home: Path) -> list[int]:
    """Processes started with this test's HOME (the server and its kernels)."""
    mark = f"HOME={home}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if mark in (proc / "environ").read_bytes().split(b"\0"):
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


class Server:
    def __init__(self, kind: str, root: Path, emu):
        module, self.path = FRONT_ENDS[kind]
        self.home = root / "home"
        self.home.mkdir()
        self.token = uuid.uuid4().hex
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {"HOME": str(self.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "LANG": "C.UTF-8", "JUPYTER_PATH": "", "JUPYTER_CONFIG_DIR": str(self.home / "cfg"),
               "JUPYTER_DATA_DIR": str(self.home / "data"), "VAST_URL": emu.url,
               "VAST_API_KEY": KEY, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
        self.log = open(root / "server.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, "--no-browser", "--ip=127.0.0.1",
             f"--port={self.port}", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.home}", "--allow-root"],
            env=env, cwd=str(self.home), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.api("/api/status")
                return
            except OSError:
                assert self.proc.poll() is None, (root / "server.log").read_text()
                time.sleep(0.2)
        raise AssertionError("the server never answered")

    def api(self, path: str):
        req = urllib.request.Request(self.url + path,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.load(resp)

    def notebook(self, name: str) -> str:
        nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "c1",
                         "metadata": {}, "outputs": [], "source": ""}],
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                          "language": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
        (self.home / name).write_text(json.dumps(nb))
        return self.url + self.path.format(name=name) + f"?token={self.token}"

    def wait_idle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sessions = self.api("/api/sessions")
            if sessions and all(s["kernel"]["execution_state"] == "idle" for s in sessions):
                return
            time.sleep(0.2)
        raise AssertionError(f"the kernel never became idle: {self.api('/api/sessions')}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        deadline = time.monotonic() + 10
        while _ours(self.home) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in _ours(self.home):  # a kernel left behind: ours, by its HOME
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(params=sorted(FRONT_ENDS))
def front_end(request, tmp_path):
    kind = request.param
    missing = _missing(FRONT_ENDS[kind][0])
    if missing:
        pytest.skip(f"no browser test of {kind}: {missing} missing")
    from playwright.sync_api import sync_playwright

    with Emulator() as emu:
        server = Server(kind, tmp_path, emu)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox"])
                try:
                    page = browser.new_page()
                    page.set_default_timeout(60_000)
                    page.goto(server.notebook("t.ipynb"))
                    page.locator(".jp-Cell .cm-content").first.wait_for()
                    server.wait_idle()
                    yield kind, page, server, emu
                finally:
                    browser.close()
        finally:
            server.stop()


def _run_cell(page, text: str) -> None:
    editor = page.locator(".jp-Cell .cm-content").last
    editor.click()
    page.keyboard.type(text)
    page.keyboard.press("Shift+Enter")


def _box(page):
    """The input box the kernel asks with: the visible one (a hidden one lingers),
    once the cell is running ([*])."""
    page.locator(".jp-CodeCell .jp-InputPrompt", has_text="[*]").first.wait_for()
    box = page.locator(".jp-Stdin-input:visible")
    box.wait_for()
    return box


def _saved(page, server, name: str = "t.ipynb") -> dict:
    """Save the notebook from the front end; the file on disk, once it has outputs."""
    page.locator(".jp-Cell .cm-content").last.click()
    page.keyboard.press("Control+s")
    path = server.home / name
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        nb = json.loads(path.read_text())
        if any(cell.get("outputs") for cell in nb["cells"]):
            return nb
        time.sleep(0.2)
    raise AssertionError(f"the notebook was never saved with outputs: {path.read_text()}")


def test_the_code_typed_into_the_input_box(front_end):
    kind, page, server, emu = front_end
    _run_cell(page, "%load_ext vast_magic")
    server.wait_idle()
    _run_cell(page, "%vast tfa auth-new")
    box = _box(page)
    # a password box: a plain one is saved into the notebook with what was typed
    assert box.get_attribute("type") == "password"
    code = emu.last_code(KEY, channel="email")
    box.fill(code)
    box.press("Enter")
    page.get_by_text("Authorized: you may add a new 2FA method").wait_for()
    server.wait_idle()
    puts = [r for r in emu.log if r.method == "PUT"]
    assert len(puts) == 1 and puts[0].json["code"] == code
    assert code not in page.content()
    nb = _saved(page, server)
    assert code not in json.dumps(nb)
    outputs = [out for cell in nb["cells"] for out in cell.get("outputs", [])]
    assert any("Authorized" in "".join(out.get("text", "")) for out in outputs), outputs
    for out in outputs:  # the box's line, if kept, has the prompt and no code
        if out.get("name") == "stdin":
            assert code not in "".join(out["text"]), out


def test_stop_while_the_box_waits_then_code_in_a_later_cell(front_end):
    kind, page, server, emu = front_end
    _run_cell(page, "%load_ext vast_magic")
    server.wait_idle()
    _run_cell(page, "%vast tfa auth-new")
    _box(page)
    page.locator('[data-command="notebook:interrupt-kernel"]').first.click()  # Stop
    said = page.get_by_text("still pending")
    said.wait_for()
    server.wait_idle()
    text = " ".join(said.inner_text().split())
    assert ("Interrupted; the authorization is still pending. An input box left on screen "
            "can be ignored: nothing typed into it is sent.") in text, text
    assert "finish with: %vast tfa auth-new --code CODE" in text, text
    code = emu.last_code(KEY, channel="email")
    left = page.locator(".jp-Stdin-input:visible")
    if left.count():  # the box the front end left: what the message says is true
        left.first.fill(code)
        left.first.press("Enter")
        time.sleep(1)
        server.wait_idle()
    assert [r for r in emu.log if r.method == "PUT"] == []
    _run_cell(page, f"%vast tfa auth-new --code {code}")
    page.get_by_text("Authorized: you may add a new 2FA method").wait_for()
    puts = [r for r in emu.log if r.method == "PUT"]
    assert len(puts) == 1 and puts[0].json["code"] == code


def test_set_api_key_asks_in_a_password_box(front_end):
    kind, page, server, emu = front_end
    secret = "typed-into-a-password-box-0123"
    _run_cell(page, "%load_ext vast_magic")
    server.wait_idle()
    _run_cell(page, "%vast set api-key")
    box = _box(page)
    assert box.get_attribute("type") == "password"
    box.fill(secret)
    box.press("Enter")
    page.get_by_text("the key was written to").wait_for()  # no keyring in this server's env
    server.wait_idle()
    assert secret not in page.content()
    assert secret not in json.dumps(_saved(page, server))
    assert (server.home / ".config/vastai/vast_api_key").read_text() == secret
