"""What a command is: its words, its arguments next to its handler, its help."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Command:
    """One ``%vast`` command, as the registry lists it.

    ``arguments(parser)`` declares the command's own options on its parser
    (the global options named in ``globals`` are added for it: those that mean
    something for it); ``run(ctx, opts)`` does the work with a
    :class:`~vast_magic.context.Context` and returns the cell's value.
    """

    words: tuple[str, ...]
    run: Callable[[Any, argparse.Namespace], Any]
    help: str
    description: str
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    epilog: str | None = None
    globals: tuple[str, ...] = ("url", "retry", "raw", "explain", "api_key")

    @property
    def name(self) -> str:
        return "%vast " + " ".join(self.words)
