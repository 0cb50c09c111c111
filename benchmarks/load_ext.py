"""How long `%load_ext vast_magic` takes in a fresh IPython, next to an empty extension.

Each sample is a new Python process that creates an IPython shell, then times
`%load_ext` of the extension.  Prints the median and the spread, and which
heavy modules the load pulled in (it should pull in none).

    python benchmarks/load_ext.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = r"""
import json, sys, time
from IPython.terminal.interactiveshell import TerminalInteractiveShell
shell = TerminalInteractiveShell.instance()
before = set(sys.modules)
t = time.perf_counter()
shell.run_line_magic("load_ext", sys.argv[1])
ms = (time.perf_counter() - t) * 1000
heavy = sorted(m for m in sys.argv[2].split(",") if m in sys.modules and m not in before)
print(json.dumps({"ms": ms, "heavy": heavy}))
"""

HEAVY = ("requests", "urllib3", "keyring", "vast_magic.context")
EMPTY_EXTENSION = "def load_ipython_extension(ip):\n    pass\n"


def sample(extension: str, path: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, extension, ",".join(HEAVY)], capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": path, "HOME": path,
                                                     "PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def imported(heavy: list[str]) -> str:
    """What the load pulled in of the heavy modules: none, as it should."""
    return f"imported: {', '.join(heavy) if heavy else 'none of ' + ', '.join(HEAVY)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "empty_ext.py").write_text(EMPTY_EXTENSION)
        for name in ("empty_ext", "vast_magic"):
            sample(name, tmp)  # warm the .pyc caches
            runs = [sample(name, tmp) for _ in range(args.runs)]
            ms = sorted(r["ms"] for r in runs)
            heavy = sorted({m for r in runs for m in r["heavy"]})
            print(f"%load_ext {name:<11} median {statistics.median(ms):6.2f} ms  "
                  f"min {ms[0]:6.2f}  max {ms[-1]:6.2f}  ({args.runs} fresh processes)"
                  + (f"  {imported(heavy)}" if name == "vast_magic" else ""))
    print("target: %load_ext vast_magic within 10 ms")


if __name__ == "__main__":
    main()
