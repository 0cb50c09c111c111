"""The docs match the code: the generated reference, the error codes troubleshooting covers,
and the README's transcripts, run against the emulator."""

import re
from pathlib import Path

import pytest
from helpers import DOCUMENTED_ERROR_CODES

from vast_magic import reference
from vast_magic.emulator import DEMO_KEYS

ROOT = Path(__file__).resolve().parent.parent


def test_reference_matches_the_parser():
    committed = (ROOT / "docs" / "reference.md").read_text()
    assert committed == reference.generate(), (
        "docs/reference.md is stale: run `python -m vast_magic.reference > docs/reference.md`")


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci


def test_troubleshooting_covers_every_documented_error_code():
    api = (ROOT.parent / "shared" / "reference" / "vast-2fa-api.md")
    page = (ROOT / "docs" / "troubleshooting.md").read_text()
    codes = DOCUMENTED_ERROR_CODES
    if api.exists():  # the list above is the reference's table
        for code in codes:
            assert f"`{code}`" in api.read_text(), code
    for code in codes:
        assert f"`{code}`" in page, code


# -- the README's transcripts are what %vast prints ------------------------------------------
#
# A transcript block follows an HTML comment (invisible on GitHub) that says how its lines
# run:  <!-- checked: SETUP -->,  SETUP one of SETUPS.  Each `In [n]: %vast ...` line runs
# against the emulator's demo account, and what it prints (stdout and stderr in order, at 80
# columns) must be the block's lines up to the next `In [`, once normalise() has made constant
# what changes from run to run.  At a terminal prompt the block shows what was typed: 000000
# is typed as is (a wrong code), any other six digits stand for the code the emulator sent,
# and nothing after the prompt is Ctrl-C.  Likewise `--code 000000` in a line is sent as is,
# and any other code is replaced by the one sent.

SETUPS = {
    "terminal": "a terminal IPython: the prompt reads the keys typed",
    "nothing asked": "nobody can be asked (nbval, a pipe)",
    "VAST_API_KEY unknown to the server": "VAST_API_KEY holds a key the server refuses",
}
TRANSCRIPT = re.compile(r"<!-- checked: (?P<setup>[^>]*?) -->\n```[^\n]*\n(?P<body>.*?)```",
                        re.S)
CELL = re.compile(r"^In \[(\d+)\]: (.*)$", re.M)
PROMPT = re.compile(r"^Enter the 2FA code \([^)]*\): ?(.*)$", re.M)
WRONG = "000000"


def normalise(text: str) -> str:
    """What changes from run to run made constant: codes, times, the Out[n] number (a
    test's shell does not count cells); no trailing spaces."""
    text = re.sub(r"\b\d{6}\b", "NNNNNN", text)             # 2FA codes
    text = re.sub(r"\b\d{1,2}:\d\d\b", "H:MM", text)         # 9:58 left, until 14:35
    text = re.sub(r"^Out\[\d+\]:", "Out[n]:", text, flags=re.M)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def readme_transcripts():
    readme = (ROOT / "README.md").read_text()
    return [pytest.param(m["setup"], m["body"], id=f"{i}-{m['setup']}")
            for i, m in enumerate(TRANSCRIPT.finditer(readme), 1)]


def test_every_readme_transcript_is_checked():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"(.*)\n```[^\n]*\nIn \[", readme)
    assert len(blocks) >= 4 and all(b.startswith("<!-- checked: ") for b in blocks), blocks
    assert len(readme_transcripts()) == len(blocks)


def _cells(body: str):
    """(number, line, what it printed) for each `In [n]:` line of a block."""
    starts = list(CELL.finditer(body))
    return [(int(m[1]), m[2], body[m.end():nxt.start() if nxt else len(body)])
            for m, nxt in zip(starts, starts[1:] + [None])]


def _harness(setup: str, request, monkeypatch):
    if setup == "terminal":
        return request.getfixturevalue("terminal")
    vast = request.getfixturevalue("vast")
    if setup == "VAST_API_KEY unknown to the server":
        monkeypatch.setenv("VAST_API_KEY", "an-old-key-the-server-does-not-know")
    return vast


def _echo_prompts(monkeypatch):
    """Print each terminal prompt with what was typed at it, as the screen shows it
    (in the tests prompt_toolkit draws on a dummy output)."""
    from vast_magic import prompt

    real = prompt.terminal_asker

    def echoing():
        ask = real()

        def asked(challenge):
            shown = prompt.prompt_text(challenge)
            code = ask(challenge)
            print(shown + (code or ""))
            return code

        return asked

    monkeypatch.setattr(prompt, "terminal_asker", echoing)


def _run(vast, line: str) -> str:
    """What the line printed, stdout and stderr in order.  A prompt the block did not
    expect gets Ctrl-C after a few seconds, so a wrong block fails instead of hanging."""
    import io
    import threading
    from contextlib import redirect_stderr, redirect_stdout

    done = threading.Event()

    def rescue():
        while not done.wait(3):
            vast.type("\x03")

    if vast.type is not None:
        threading.Thread(target=rescue, daemon=True).start()
    shown = io.StringIO()
    try:
        with redirect_stdout(shown), redirect_stderr(shown):
            vast.shell.run_cell(line, store_history=False)
    finally:
        done.set()
    return shown.getvalue()


@pytest.mark.parametrize("setup, body", readme_transcripts())
def test_readme_transcripts_are_real_output(setup, body, request, monkeypatch):
    assert setup in SETUPS, f"unknown setup {setup!r}: one of {sorted(SETUPS)}"
    vast = _harness(setup, request, monkeypatch)
    monkeypatch.setattr("vast_magic.wrap.width", lambda: 80)
    _echo_prompts(monkeypatch)
    emu, key = vast.emu, DEMO_KEYS["multi"]
    cells = _cells(body)
    assert cells, "a checked block has no `In [n]: %vast ...` line"
    for number, line, expected in cells:
        assert line.startswith("%vast "), line
        typed = PROMPT.findall(expected)
        if typed:
            assert setup == "terminal", "a prompt answered in a block that is not `terminal`"
            keys = "".join("\x03" if not t else (t if t == WRONG else "{code}") + "\r"
                           for t in typed)
            emu.on_send = lambda message, keys=keys: vast.type(keys.format(code=message.code))
        sent = re.sub(r"(--code|-c) (\d{6})\b",
                      lambda m: m[0] if m[2] == WRONG else f"{m[1]} {emu.last_code(key)}",
                      line)
        shown = _run(vast, sent)
        assert normalise(shown) == normalise(expected), (
            f"README.md, In [{number}]: {line}\n--- %vast printed:\n{shown}")
