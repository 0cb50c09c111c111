"""The one argparse tree every ``%vast`` line goes through.

Standard library only (argparse is already loaded by IPython), so building it
costs nothing noticeable at ``%load_ext`` time.  The grammar follows the
official ``vastai`` CLI: global options are accepted before *or* after the
command, and ``tfa auth-new`` keeps the CLI's short forms (``-c``, ``-s``,
``-t``, ``-bc``, ``-id``).
"""

from __future__ import annotations

import argparse
import shlex

from IPython.core.error import UsageError

from .constants import DEFAULT_URL

# Global options and their defaults.  They are declared with SUPPRESS on every
# parser that accepts them so a value given before the command is not
# overwritten by the default of the same option after it; the real defaults
# are filled in by :func:`parse`.
GLOBAL_DEFAULTS = {"url": None, "retry": None, "raw": False, "explain": False, "api_key": None}


class HelpShown(Exception):
    """Raised instead of exiting after ``--help`` printed the usage."""


class VastArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become IPython ``UsageError``s.

    ``error()`` raises (IPython prints only the message, no traceback) and
    ``exit()`` raises too, so nothing keeps parsing after ``--help``.  A bare
    ``--`` is never an option's value, whatever the Python version.
    """

    def error(self, message):
        raise UsageError(f"{message}\n{self.format_usage().strip()}\n"
                         f"See `{self.prog} --help`.")

    def exit(self, status=0, message=None):
        if status:
            raise UsageError((message or "invalid arguments").strip())
        raise HelpShown()

    def _get_values(self, action, arg_strings):
        # `--opt=--`, `-o--`: Python 3.10-3.12 drop the `--` and store [] unconverted.
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            raise argparse.ArgumentError(action, "needs a value (`--` alone is not one)")
        return super()._get_values(action, arg_strings)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be at least 1 (it counts attempts, the first included), got {value}")
    return value


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _global_options(only=tuple(GLOBAL_DEFAULTS)) -> argparse.ArgumentParser:
    """The global options named in ``only``, as a parent parser."""
    g = argparse.ArgumentParser(add_help=False)
    opts = g.add_argument_group("global options (before or after the command)")
    opts.add_argument("--url", default=argparse.SUPPRESS, metavar="URL",
                      help=f"server REST API URL (env VAST_URL, default {DEFAULT_URL})")
    opts.add_argument("--retry", type=_positive_int, default=argparse.SUPPRESS, metavar="N",
                      help="total attempts per request, the first included (default 3)")
    opts.add_argument("--raw", action="store_true", default=argparse.SUPPRESS,
                      help="return the server's answer as a dict and print nothing else")
    opts.add_argument("--explain", action="store_true", default=argparse.SUPPRESS,
                      help="show each HTTP request and its status (key and secrets redacted)")
    opts.add_argument("--api-key", default=argparse.SUPPRESS, metavar="KEY",
                      help="API key for this call (env VAST_API_KEY; better: `%%vast set api-key`)")
    for action in list(opts._group_actions):  # noqa: SLF001 - argparse has no public removal
        if action.dest not in only:
            g._remove_action(action)  # noqa: SLF001
            opts._group_actions.remove(action)  # noqa: SLF001
    return g


def build_parser() -> VastArgumentParser:
    """Build the whole ``%vast`` command tree from the registry of commands."""
    from .commands import GROUPS, REGISTRY

    glob = _global_options()
    fmt = argparse.RawDescriptionHelpFormatter
    top = VastArgumentParser(
        prog="%vast", parents=[glob], formatter_class=fmt,
        description="Vast.ai account-security (2FA) commands for IPython and Jupyter.",
        epilog="Run `%vast COMMAND --help` for a command's options.")
    branches = {(): _subparsers(top, "command", "COMMAND", "commands")}
    for command in REGISTRY:
        *group, last = command.words
        for depth in range(len(group)):
            path = tuple(group[:depth + 1])
            if path not in branches:
                word = path[-1]
                short, long = GROUPS[word]
                node = branches[path[:-1]].add_parser(word, parents=[glob], formatter_class=fmt,
                                                      help=short, description=long)
                branches[path] = _subparsers(node, "subcommand", "SUBCOMMAND", "subcommands")
        leaf = branches[tuple(group)].add_parser(
            last, parents=[_global_options(command.globals)], formatter_class=fmt,
            help=command.help.replace("%", "%%"),  # argparse %-formats help strings
            description=command.description, epilog=command.epilog)
        if command.arguments is not None:
            command.arguments(leaf)
        leaf.set_defaults(vast_command=command)
    return top


def _subparsers(parser, dest: str, metavar: str, title: str):
    sub = parser.add_subparsers(dest=dest, metavar=metavar, title=title)
    sub.required = True
    return sub


_PARSER: VastArgumentParser | None = None


def parser() -> VastArgumentParser:
    global _PARSER
    if _PARSER is None:
        _PARSER = build_parser()
    return _PARSER


_SHELL_SPECIAL = frozenset("'\"\\")


def split(line: str) -> list[str]:
    """Split a magic line like a shell would (quotes respected)."""
    if _SHELL_SPECIAL.isdisjoint(line):
        return line.split()  # what shlex gives for a line without quotes or escapes
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"could not read the line: {exc} (an unbalanced quote?)") from None


_GLOBAL_FLAGS = frozenset({"--raw", "--explain"})
_GLOBAL_VALUES = frozenset({"--url", "--retry", "--api-key"})


def _leaf_parse(argv: list[str]) -> argparse.Namespace | None:
    """The same parse, started at the command's own parser (a third of the work).

    Only for the plain shape ``[global options] COMMAND SUBCOMMAND ...``; any
    other line (help, an unknown word, an abbreviation) returns None and goes
    through the whole tree, which has the same leaf parsers and so the same
    meaning and messages.
    """
    before: list[str] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        word = argv[i].split("=", 1)[0]
        if word in _GLOBAL_FLAGS or "=" in argv[i] and word in _GLOBAL_VALUES:
            before.append(argv[i])
            i += 1
        elif word in _GLOBAL_VALUES and i + 1 < len(argv):
            before += argv[i:i + 2]
            i += 2
        else:
            return None
    node, path = parser(), []
    for word in argv[i:i + 2]:
        sub = node._subparsers  # noqa: SLF001 - argparse has no public walk
        child = sub._group_actions[0].choices.get(word) if sub is not None else None
        if child is None:
            return None
        node = child
        path.append(word)
    if len(path) != 2 or node._subparsers is not None:  # noqa: SLF001
        return None
    taken = node._option_string_actions  # noqa: SLF001
    if any(w.split("=", 1)[0] in _GLOBAL_FLAGS | _GLOBAL_VALUES
           and w.split("=", 1)[0] not in taken for w in before):
        return None  # a global option this command does not take: parse() says so
    ns = node.parse_args(before + argv[i + 2:])
    ns.command, ns.subcommand = path
    return ns


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse the words of a ``%vast`` line; raises UsageError or HelpShown (a bare
    ``%vast`` shows the commands)."""
    if not argv:
        parser().print_help()
        raise HelpShown()
    ns = _leaf_parse(argv) or parser().parse_args(argv)
    command = getattr(ns, "vast_command", None)
    for name, default in GLOBAL_DEFAULTS.items():
        if not hasattr(ns, name):
            setattr(ns, name, default)
        elif command is not None and name not in command.globals:
            raise UsageError(f"{_flag(name)} means nothing for `{command.name}`; see "
                             f"`{command.name} --help`.")
    return ns


def leaves(node: argparse.ArgumentParser | None = None, path: tuple[str, ...] = ()):
    """Every command's own parser, with its words: (("tfa", "auth-new"), parser), ..."""
    node = parser() if node is None else node
    sub = node._subparsers  # noqa: SLF001 - argparse has no public walk
    if sub is None:
        yield path, node
        return
    for name, child in sub._group_actions[0].choices.items():  # noqa: SLF001
        yield from leaves(child, path + (name,))


def full_help() -> str:
    """Help for ``%vast?``: the top level, then every command under a heading."""
    parts = [parser().format_help()]
    for path, leaf in leaves():
        title = f"%vast {' '.join(path)}"
        parts.append(f"{title}\n{'=' * len(title)}\n{leaf.format_help()}")
    return "\n".join(parts)


def completions(line: str, symbol: str) -> list[str]:
    """Tab completion for a ``%vast`` line: commands, then options, then choices.

    ``line`` is the text so far and ``symbol`` the word being completed (empty
    after a space).  The candidates come from the parser itself.
    """
    words = line.split()[1:]  # drop "%vast"
    if symbol and words and words[-1] == symbol:
        words = words[:-1]
    node = parser()
    for word in words:
        sub = node._subparsers  # noqa: SLF001 - argparse has no public walk
        choices = sub._group_actions[0].choices if sub is not None else {}
        if word in choices:
            node = choices[word]
    if words:
        previous = node._option_string_actions.get(words[-1])  # noqa: SLF001
        if previous is not None and previous.choices:
            return [c for c in previous.choices if c.startswith(symbol)]
    found = []
    if node._subparsers is not None:  # noqa: SLF001
        found += [c for c in node._subparsers._group_actions[0].choices  # noqa: SLF001
                  if not symbol.startswith("-")]
    if symbol.startswith("-") or node._subparsers is None:  # noqa: SLF001
        used = set(words)
        for action in node._actions:  # noqa: SLF001
            if action.option_strings and not used.intersection(action.option_strings):
                found.append(max(action.option_strings, key=len))  # the long form
    return [c for c in found if c.startswith(symbol)]
