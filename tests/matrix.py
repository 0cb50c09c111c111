"""`make test-matrix`: the suite on the oldest and the newest combination allowed.

    python tests/matrix.py [oldest] [newest]      (both when none is named)

oldest  Python 3.10 with every floor of pyproject.toml pinned exactly (ipython==8.12.0,
        prompt_toolkit==3.0.42, keyring==24.0.0, ... and the test extra's floors)
newest  Python 3.13 with the newest release of everything, browser tests included

Each gets its own venv under build/matrix/ (reused while pyproject.toml is unchanged), built
from pyenv's Pythons (~/.pyenv/versions, or $PYENV_ROOT); the suite runs in each as
`make test` runs it.  A missing Python is an error here (.ci/run decides whether to
call this).  Prints what was installed and how long each step took.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
MATRIX = ROOT / "build" / "matrix"  # build/ is git-ignored; `make clean` removes it
PYENV = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
COMBOS = {"oldest": "3.10", "newest": "3.13"}
# The browser tests run in the newest only (the oldest skips them, saying so): the floors
# are about IPython, prompt_toolkit, keyring and the kernel, not the browser front ends.
EXTRAS = {"oldest": "test", "newest": "test,browser"}
# Floors with no release of exactly that number (PyPI has no segno 1.5.0): that series.
NO_SUCH_RELEASE = {"segno": "1.5.*"}
# Floors the test extra itself lifts (the suite cannot run below them): the lifted one.
LIFTED_BY_TEST_EXTRA = {"requests": "2.33.0"}  # vastai==1.9.1 requires requests>=2.33
SHOWN = ("ipython", "prompt-toolkit", "keyring", "ipykernel", "jupyter-client",
         "jupyter-console", "requests", "pytest", "nbval", "secretstorage")


def floors() -> list[str]:
    """`name==floor` for every `name>=floor` the project and its extras require."""
    text = PYPROJECT.read_text()
    project = text[text.index("[project]"):]
    project = project[:project.index("[project.scripts]")]
    pins = []
    for name, version, marker in re.findall(
            r'"([A-Za-z0-9_.\-]+)>=([0-9][0-9.]*)\s*(;[^"]*)?"', project):
        version = LIFTED_BY_TEST_EXTRA.get(name, NO_SUCH_RELEASE.get(name, version))
        pins.append(f"{name}=={version}{marker}")
    return pins


def python_for(version: str) -> Path:
    found = sorted(PYENV.glob(f"{version}.*/bin/python3"),
                   key=lambda p: [int(x) for x in p.parent.parent.name.split(".")
                                  if x.isdigit()])
    if not found:
        raise SystemExit(f"test-matrix: no Python {version} under {PYENV}")
    return found[-1]


def step(what: str, cmd: list[str], **kwargs) -> float:
    print(f"[matrix] {what}: {' '.join(map(str, cmd))}", flush=True)
    start = time.monotonic()
    subprocess.run(cmd, check=True, cwd=ROOT, **kwargs)
    took = time.monotonic() - start
    print(f"[matrix] {what}: {took:.0f} s", flush=True)
    return took


def build(combo: str) -> Path:
    venv = MATRIX / combo
    py = venv / "bin" / "python"
    constraints = MATRIX / f"{combo}-constraints.txt"
    pins = floors() if combo == "oldest" else []
    stamp = venv / ".installed"
    digest = hashlib.sha256(PYPROJECT.read_bytes() + "\n".join([EXTRAS[combo], *pins])
                            .encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        print(f"[matrix] {combo}: venv up to date ({venv})", flush=True)
        return py
    MATRIX.mkdir(parents=True, exist_ok=True)
    if not py.exists():
        step(f"{combo} venv", [str(python_for(COMBOS[combo])), "-m", "venv", str(venv)])
    constraints.write_text("".join(f"{pin}\n" for pin in pins))
    step(f"{combo} install", [str(py), "-m", "pip", "install", "-q", "--upgrade",
                              "-c", str(constraints), "-e", f".[{EXTRAS[combo]}]"])
    stamp.write_text(digest)
    return py


def run(combo: str) -> None:
    py = build(combo)
    versions = subprocess.run(
        [str(py), "-c", "import sys, importlib.metadata as m\n"
         f"names = {SHOWN!r}\n"
         "print('Python', sys.version.split()[0], *(n + ' ' + m.version(n) for n in names))"],
        capture_output=True, text=True, check=True).stdout.strip()
    print(f"[matrix] {combo}: {versions}", flush=True)
    step(f"{combo} tests", [str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider"])


def main(argv: list[str]) -> int:
    combos = argv or list(COMBOS)
    unknown = set(combos) - set(COMBOS)
    if unknown:
        raise SystemExit(f"test-matrix: unknown combination {sorted(unknown)}; "
                         f"choose from {list(COMBOS)}")
    start = time.monotonic()
    failed = []
    for combo in combos:  # each one runs even when another failed
        try:
            run(combo)
        except subprocess.CalledProcessError:
            failed.append(combo)
    took = f"in {time.monotonic() - start:.0f} s"
    if failed:
        print(f"[matrix] FAILED: {', '.join(failed)} ({len(combos)} run {took})")
        return 1
    print(f"[matrix] all passed: {', '.join(combos)} {took}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
