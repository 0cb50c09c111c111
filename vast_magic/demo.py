"""The demo: the local emulator and a terminal IPython with %vast pointed at it.

    python -m vast_magic.demo

Nothing to configure and nothing left running: the emulator serves from this
process on 127.0.0.1, IPython starts with the extension loaded and a demo
key, and leaving IPython stops the emulator.  Codes "sent" by email or SMS
are printed as they are sent — while the cell waits for the server, before
any prompt is drawn, so they never garble it.  ``demo_totp()`` shows what
the demo account's authenticator app would show.
"""

from __future__ import annotations

import argparse
import os
import sys

from .wrap import wrap

BANNER = """\
vast-magic demo: %vast is talking to a local emulator of the Vast.ai 2FA API at {url}
(your real account is not involved).  The demo key {key_name!r} is in VAST_API_KEY.

Try:
{examples}
Other demo accounts:  %env VAST_API_KEY={fresh}  (no 2FA method yet)
                      %env VAST_API_KEY={unverified}  (email not verified)
Leave with exit (or Ctrl-D): the emulator stops with it.
"""


def _examples(sms_id: int, backup: str) -> str:
    rows = [
        ("%vast tfa auth-new", "email a code (it appears here), then type it"),
        ("%vast tfa status", "this account's methods and their ids"),
        ("%vast tfa auth-new -t totp", "verify with the authenticator app (its code appears)"),
        (f"%vast tfa auth-new --method-id {sms_id}", "verify with one of the two SMS methods"),
        (f"%vast tfa auth-new -bc {backup}", "a backup code: authorized at once"),
        ("Ctrl-C at the code prompt, then", "%vast tfa auth-new --code CODE"),
        ("%vast tfa totp-setup", "add an authenticator app in one line (fresh account below)"),
        ("%vast --help", "everything else"),
    ]
    width = max(len(cmd) for cmd, _ in rows) + 3
    return "\n".join(wrap(f"  {cmd.ljust(width)}{what}", indent=" " * width)
                     for cmd, what in rows) + "\n"


def _app_code_line(emu, path: str, headers, body: bytes, resp) -> str | None:
    """What the demo's authenticator app shows, when a request will ask for its code:
    a step naming the account's TOTP method, or a new key from totp-setup."""
    import json

    try:
        sent = json.loads(body or b"{}")
        answer = json.loads(resp.body or b"{}")
    except (ValueError, AttributeError):
        return None
    if not isinstance(sent, dict) or not isinstance(answer, dict) or resp.status != 200:
        return None
    if path.rstrip("/").endswith("/totp-setup") and isinstance(answer.get("secret"), str):
        return f"once you add the key, it shows {emu.totp_now(answer['secret'])}"
    key = (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
    try:
        account = emu.account(key)
    except KeyError:
        return None
    totp = [m for m in account.methods if m.method == "totp"]
    asked = sent.get("tfa_method") == "totp" or any(
        str(sent.get("tfa_method_id")) == str(m.id) for m in totp)
    if asked and totp:
        return f"it shows {emu.totp_now(totp[0])}"
    return None


def _with_app(emulator_class):
    """The emulator, printing the demo app's code as an inbox line when one is needed."""

    class DemoEmulator(emulator_class):
        def handle_request(self, method, path, query, headers, body, *args, **kwargs):
            resp = super().handle_request(method, path, query, headers, body, *args, **kwargs)
            if method == "POST" and hasattr(resp, "body"):
                line = _app_code_line(self, path, headers, body, resp)
                if line:  # printed while the cell waits, before any prompt is drawn
                    print("\n" + wrap(f"  [demo app] your authenticator app: {line} "
                                      "(a new code every 30 s: demo_totp())", indent="  "),
                          flush=True)
            return resp

    return DemoEmulator


def _print_message(message) -> None:
    channel = "email" if message.channel == "email" else "SMS"
    # Runs in the emulator's thread while the cell waits for its answer: no
    # prompt is on the screen then, so a plain print is safe.
    print("\n" + wrap(f"  [demo inbox] {channel} to {message.to}: {message.text}",
                      indent="  "), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vast_magic.demo",
                                     description="Try %vast against a local emulator.")
    parser.add_argument("--port", type=int, default=0, help="emulator port (default: a free one)")
    parser.add_argument("--account", choices=("multi", "fresh", "unverified"), default="multi",
                        help="which demo account's key to use (default: multi)")
    args = parser.parse_args(argv)

    from IPython import start_ipython
    from traitlets.config import Config

    from .emulator import DEMO_KEYS, Emulator

    emu = _with_app(Emulator)(port=args.port, on_send=_print_message)
    emu.start()
    try:
        key = DEMO_KEYS[args.account]
        account = emu.account(DEMO_KEYS["multi"])
        totp = next(m for m in account.methods if m.method == "totp")
        sms = next(m for m in account.methods if m.method == "sms")
        os.environ["VAST_URL"] = emu.url
        os.environ["VAST_API_KEY"] = key

        def demo_totp() -> str:
            """The code the demo account's authenticator app shows now."""
            return emu.totp_now(totp)

        def demo_inbox():
            """Every message the emulator has 'sent', newest last."""
            return list(emu.outbox)

        config = Config()
        config.InteractiveShellApp.extensions = ["vast_magic"]
        config.TerminalIPythonApp.display_banner = True
        config.TerminalInteractiveShell.banner1 = ""
        config.TerminalInteractiveShell.banner2 = wrap(BANNER.format(
            url=emu.url, key_name=args.account, examples=_examples(sms.id, account.backup_codes[0]),
            fresh=DEMO_KEYS["fresh"], unverified=DEMO_KEYS["unverified"]), indent="    ")
        config.HistoryManager.hist_file = ":memory:"  # keep the demo out of your history
        start_ipython(argv=[], config=config,
                      user_ns={"demo_totp": demo_totp, "demo_inbox": demo_inbox, "emu": emu})
    finally:
        emu.stop()
    print("Demo over: the emulator has stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
