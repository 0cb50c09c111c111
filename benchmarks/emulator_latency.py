"""Warm keep-alive POST latency against the emulator (no 40 ms Nagle/delayed-ACK stall).

The emulator buffers each answer so headers and body leave in one write, and
sets TCP_NODELAY; a stall would show here as a median near 40 ms.

    python benchmarks/emulator_latency.py [--requests 500]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import time

import requests

from vast_magic.emulator import DEMO_KEYS, Emulator


def measure(fn, n: int) -> list[float]:
    for _ in range(20):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    n = parser.parse_args().requests
    headers = {"Authorization": f"Bearer {DEMO_KEYS['multi']}",
               "Content-Type": "application/json"}
    body = {"tfa_method_id": 101}  # TOTP: nothing is "sent", so the outbox stays small
    with Emulator() as emu:
        session = requests.Session()
        url = emu.url + "/api/v0/tfa/authorize-new-method/"
        via_requests = measure(lambda: session.post(url, json=body, headers=headers,
                                                    timeout=10), n)
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
        payload = json.dumps(body)

        def raw():
            conn.request("POST", "/api/v0/tfa/authorize-new-method/", body=payload,
                         headers=headers)
            conn.getresponse().read()

        via_http_client = measure(raw, n)
    for name, times in (("requests.Session", via_requests), ("http.client", via_http_client)):
        print(f"warm keep-alive POST via {name:<16} median {statistics.median(times):6.3f} ms  "
              f"p90 {sorted(times)[int(len(times) * 0.9)]:6.3f} ms  (n={n})")


if __name__ == "__main__":
    main()
