"""A warm `%vast tfa auth-new --backup-code X` next to a bare requests.Session POST.

Both send the same body to the same local emulator over a kept-alive
connection; each request spends one backup code of an account made with
enough codes.  Prints the median of each, and their ratio.

    python benchmarks/backup_code.py [--requests 300]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import time

from IPython.core.interactiveshell import InteractiveShell

from vast_magic.emulator import Emulator


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    n = args.requests
    codes = [f"{i:04d}-BNCH-{i % 9999:04d}" for i in range(2 * n + 20)]
    with Emulator() as emu:
        acct = emu.add_account(backup_codes=codes)
        acct.add_totp(label="bench")  # an account with a method, so backup codes apply
        url = emu.url + "/api/v0/tfa/authorize-new-method/"

        import requests

        session = requests.Session()
        headers = {"Authorization": f"Bearer {acct.api_key}", "Accept": "application/json"}

        def bare(code):
            r = session.post(url, json={"backup_code": code}, headers=headers, timeout=30)
            assert r.status_code == 200, r.text

        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "vast_magic")
        os.environ["VAST_API_KEY"] = acct.api_key
        line = f"--url {emu.url} tfa auth-new --backup-code {{}}"

        def magic(code):
            with contextlib.redirect_stdout(io.StringIO()):
                shell.run_line_magic("vast", line.format(code))

        pool = iter(codes)
        for _ in range(10):  # warm both: connections, imports
            bare(next(pool))
            magic(next(pool))
        bare_ms, magic_ms = [], []
        for _ in range(n):  # interleaved, so drift hits both alike
            bare_ms += timed(bare, [next(pool)])
            magic_ms += timed(magic, [next(pool)])
        b, m = statistics.median(bare_ms), statistics.median(magic_ms)
        print(f"bare requests.Session POST        median {b:6.3f} ms  (n={n})")
        print(f"%vast tfa auth-new --backup-code  median {m:6.3f} ms  (n={n})")
        print(f"ratio {m / b:.2f}x  (target: within 1.3x)")


if __name__ == "__main__":
    main()
