"""Argument types and options several commands declare alike."""

from __future__ import annotations

import argparse

from ..constants import LABEL_MAX


def method_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a method id is a number (the 'id' column of `%vast tfa status`), got {text!r}"
        ) from None


def label(text: str) -> str:
    if len(text) > LABEL_MAX:
        raise argparse.ArgumentTypeError(
            f"a label has at most {LABEL_MAX} characters, this one {len(text)}")
    return text


def add_label(parser, help: str = "a name for the method (at most 30 characters)") -> None:
    parser.add_argument("-l", "--label", type=label, metavar="LABEL", help=help)


def add_backup_codes_file(parser) -> None:
    parser.add_argument("--backup-codes-file", metavar="PATH",
                        help="write any new backup codes to this new file (mode 0600) "
                             "instead of showing them")


def add_no_prompt(parser, what: str = "do not ask for the code; finish later") -> None:
    parser.add_argument("--no-prompt", action="store_true", help=what)
