"""Generate docs/reference.md from the parser, so the reference cannot drift.

    python -m vast_magic.reference > docs/reference.md

It walks the argparse tree's actions (not ``format_help()``, whose layout
changes between Python versions), so the output is the same everywhere; a
test compares it with the committed file.
"""

from __future__ import annotations

import argparse

from . import grammar

HEADER = """\
# `%vast` command reference

Generated from the parser by `python -m vast_magic.reference`; do not edit by hand
(a test checks that this file matches the code).

Every line is `%vast [global options] COMMAND [SUBCOMMAND] [options] [global options]`:
global options may stand before or after the command, as with the official `vastai` CLI.
`%vast?` and `--help` on any command show the same information in IPython.
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("%%", "%")


def _names(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    if action.nargs == 0:
        return ", ".join(f"`{o}`" for o in action.option_strings)
    if action.choices:
        value = "{" + ",".join(action.choices) + "}"
    else:
        value = action.metavar or action.dest.upper()
    return ", ".join(f"`{o} {value}`" for o in action.option_strings)


def _table(actions: list[argparse.Action]) -> list[str]:
    rows = ["| option | meaning |", "|---|---|"]
    for action in actions:
        if isinstance(action, argparse._HelpAction):  # noqa: SLF001
            continue
        rows.append(f"| {_names(action)} | {_cell(action.help or '')} |")
    return rows


def _own_groups(parser: argparse.ArgumentParser):
    """The parser's option groups, minus the global ones (documented once)."""
    for group in parser._action_groups:  # noqa: SLF001 - argparse has no public walk
        title = group.title or ""
        if title.startswith("global options"):
            continue
        actions = [a for a in group._group_actions  # noqa: SLF001
                   if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
        if actions:
            yield title, actions


def generate() -> str:
    top = grammar.parser()
    out = [HEADER, "## Global options", ""]
    glob = next(g for g in top._action_groups  # noqa: SLF001
                if (g.title or "").startswith("global options"))
    out += _table(glob._group_actions) + [""]  # noqa: SLF001
    for path, leaf in grammar.leaves():
        out += [f"## `%vast {' '.join(path)}`", ""]
        if leaf.description:
            out += [leaf.description.strip(), ""]
        for title, actions in _own_groups(leaf):
            out += [f"**{title}**", ""] + _table(actions) + [""]
        if leaf.epilog:
            out += ["```", leaf.epilog.strip(), "```", ""]
    out += ["## Settings (`%config VastMagics`)", "", "| setting | default | meaning |",
            "|---|---|---|"]
    from .magic import VastMagics

    for name, trait in sorted(VastMagics.class_traits(config=True).items()):
        out.append(f"| `VastMagics.{name}` | `{trait.default_value!r}` | "
                   f"{_cell(trait.help or '')} |")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(generate(), end="")
