"""Secrets meant for the user's eyes: a new authenticator key, backup codes.

They are permanent credentials, so they are shown where a person is and never
stay where a notebook would save them:

- a terminal: printed once (never the cell's value, so not in ``Out`` or ``_``);
- Jupyter with a person at it: displayed, then replaced in the cell's output
  once they are done with it;
- nobody to show them to (nbval, a pipe, ``--no-prompt``): not displayed; kept
  in the namespace behind a masked display;
- ``--backup-codes-file PATH``: a new file readable by the user only.
"""

from __future__ import annotations

import os
from pathlib import Path

from IPython.core.error import UsageError

from .constants import KEEPSAKE_NAME
from .render import BackupCodes, Keepsake

REMOVED = "(shown once, and removed from this output so a saved notebook does not keep it)"


class Shown:
    """Something shown to a person, to take back out of a Jupyter cell's output."""

    def __init__(self, handle=None):
        self.handle = handle

    def remove(self, what: str) -> None:
        if self.handle is not None:
            self.handle.update({"text/plain": f"{what} {REMOVED}"}, raw=True)
            self.handle = None


def show(ctx, view, *, terminal_text: str) -> Shown:
    """Show ``view`` where the person is: printed in a terminal, displayed (to be
    removed later) in Jupyter.  The caller has checked that a person is there."""
    if ctx.person() == "kernel":
        from IPython.display import display

        return Shown(display(view, display_id=True))
    ctx.say(terminal_text)
    return Shown()


def check_codes_file(path: str | None) -> Path | None:
    """Refuse, before anything is sent, a backup-codes file that exists."""
    if path is None:
        return None
    target = Path(path).expanduser()
    if target.exists():
        raise UsageError(f"{target} already exists; backup codes are never written over a "
                         "file. Name a new file (nothing was sent).")
    return target


def write_codes(target: Path, codes: list[str]) -> None:
    """A new file, readable by the user only (0600), one code per line."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(codes) + "\n")


def codes_in(data: dict) -> list[str]:
    """The backup codes of an answer as strings ([] when it has none)."""
    codes = data.get("backup_codes")
    return [str(c) for c in codes] if isinstance(codes, list) else []


def hand_over_codes(ctx, codes: list[str], target: Path | None) -> None:
    """New backup codes: to the file, or shown once to the person, or kept hidden."""
    if target is not None:
        try:
            write_codes(target, codes)
        except OSError as exc:
            ctx.say(f"The backup codes could not be written to {target} "
                    f"({exc.strerror or type(exc).__name__}).")
        else:
            ctx.say(f"Your {len(codes)} backup codes are in {target} (readable by you only). "
                    "Each works once.")
            return
    view = BackupCodes(codes)
    if ctx.person() is None:
        ctx.shell.push({KEEPSAKE_NAME: Keepsake(codes)}, interactive=False)
        ctx.say(f"{len(codes)} backup codes were issued. Nobody could be shown them here, so "
                f"they are kept hidden in {KEEPSAKE_NAME}: `{KEEPSAKE_NAME}.codes` gives "
                "them (where no saved output keeps them), or next time use "
                "--backup-codes-file PATH.")
        return
    shown = show(ctx, view, terminal_text=view.text())
    if shown.handle is not None:  # Jupyter: take them back out once they are stored
        ctx.ask_line("Press Enter once you have stored them (they then leave this output): ")
        shown.remove(f"{len(codes)} backup codes")
