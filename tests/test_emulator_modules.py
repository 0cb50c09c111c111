"""How the emulator's modules hold together: the model has no HTTP in it, no
module reaches into another object's private attributes, and pyotp (the
``emulator`` extra) is needed only for TOTP codes and by the CLI, which says
how to install it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "vast_magic" / "emulator"

# Makes `import pyotp` fail, as when the package was installed without its extra.
NO_PYOTP = """
import sys

class NoPyotp:
    def find_spec(self, name, path=None, target=None):
        if name == "pyotp" or name.startswith("pyotp."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoPyotp())
"""


def python(code: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_the_model_imports_no_http_and_no_pyotp():
    # the model alone, without the package's __init__ (which starts from the Emulator)
    proc = python(f"""
import importlib, json, sys, types
import vast_magic
package = types.ModuleType("vast_magic.emulator")
package.__path__ = [{str(PACKAGE)!r}]
sys.modules["vast_magic.emulator"] = package
before = set(sys.modules)
importlib.import_module("vast_magic.emulator.model")
print(json.dumps(sorted(set(sys.modules) - before)))
""")
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    assert {"vast_magic.emulator.model", "vast_magic.emulator.state"} <= loaded
    assert {name.split(".")[0] for name in loaded} & {"http", "socket", "socketserver", "pyotp"} == set()
    assert {name for name in loaded if name.startswith("vast_magic.")} == {
        "vast_magic.emulator.model", "vast_magic.emulator.state", "vast_magic.emulator.errors",
        "vast_magic.emulator.totp"}


def _private_reaches(path: Path) -> list[str]:
    """``x._name`` where ``x`` is not ``self``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id == "self")):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_reaches_into_another_objects_privates():
    assert [hit for p in sorted(PACKAGE.glob("*.py")) for hit in _private_reaches(p)] == []


@pytest.mark.parametrize("run", [
    # python -m vast_magic.emulator
    "import runpy; runpy.run_module('vast_magic.emulator', run_name='__main__', alter_sys=True)",
    # the vast-magic-emulator console script
    "from vast_magic.emulator.__main__ import main; sys.exit(main())",
])
def test_cli_without_pyotp_names_the_extra(run):
    proc = python(NO_PYOTP + run)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "pyotp" in lines[0] and "pip install 'vast-magic[emulator]'" in lines[0]


def test_the_package_works_without_pyotp_except_for_totp():
    proc = python(NO_PYOTP + """
import requests
from vast_magic.emulator import DEMO_KEYS, Emulator

auth = {"Authorization": "Bearer " + DEMO_KEYS["multi"]}
with Emulator() as emu:
    r = requests.post(emu.url + "/tfa/email/", headers=auth, timeout=5)
    assert r.status_code == 200 and emu.last_code(DEMO_KEYS["multi"]), r.text
    r = requests.post(emu.url + "/tfa/totp-setup/", headers=auth, timeout=5)
    assert r.status_code == 500 and r.json()["error"] == "internal_error", r.text
print("ok")
""")
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr
    assert "ModuleNotFoundError" in proc.stderr  # the 500's traceback, on the server's stderr
