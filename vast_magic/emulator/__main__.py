"""``python -m vast_magic.emulator [--port N] [--print-outbox] [--verbose]``

Prints the URL and the demo API keys, serves until Ctrl-C (or SIGTERM), then
stops cleanly with exit status 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Sequence

from . import totp
from .core import Emulator
from .model import DEMO_KEYS
from .state import Message

_DESCRIPTIONS = {
    "fresh": "verified email, no 2FA method",
    "multi": "TOTP 101, SMS 102 (primary), SMS 103; backup codes DEMO-CODE-0001..0010",
    "unverified": "email not verified, no 2FA method",
}


def _print_message(msg: Message) -> None:
    print(f"[outbox] {msg.channel} to {msg.to} (key {msg.api_key[:16]}...): {msg.text}",
          file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vast_magic.emulator",
        description="A local emulator of the Vast.ai 2FA REST API, on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--print-outbox", action="store_true",
                        help="print each email/SMS code to stderr as it is sent")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    if not totp.available():
        print("error: the emulator needs pyotp, which is not installed: "
              "pip install 'vast-magic[emulator]'", file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    emu = Emulator(port=args.port, on_send=_print_message if args.print_outbox else None,
                   verbose=args.verbose)
    try:
        emu.start()
    except OSError as e:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    width = max(len(k) for k in DEMO_KEYS)
    lines = [
        f"Vast.ai 2FA emulator listening on {emu.url}",
        f"  use it with: VAST_URL={emu.url}",
        "Demo API keys:",
        *(f"  {name:<{width}}  {key}   ({_DESCRIPTIONS[name]})" for name, key in DEMO_KEYS.items()),
        f"Outbox (sent codes): {emu.url}/_emulator/outbox",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
    print("Emulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
