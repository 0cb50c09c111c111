"""Text for the screen: wrapped at word boundaries to the terminal's width (a
fixed, readable width in Jupyter), never inside a code, a command or a path.

Standard library only; where the width cannot be told (output captured, a
pipe) text is left as it is.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap

JUPYTER_WIDTH = 100
#: An option and its value (a placeholder, a number, a $variable, a method type).
_OPTION = r"--?[a-z][\w-]*(?: (?:[A-Z0-9$][\w$-]*|sms|totp|email))?"
#: Spans kept on one line: `quoted` commands and paths, %vast lines (options, up to
#: two command words, options and placeholders), %config and %env settings.
_KEEP = re.compile(rf"`[^`\n]*`|%vast(?: {_OPTION})*(?: [a-z][\w-]*){{0,2}}"
                   rf"(?: (?:{_OPTION}|[A-Z0-9$][\w$-]*))*|%(?:config|env) \S+")
_GLUE = "\u00a0"  # a space textwrap does not break at (server text never has one)


def width() -> int | None:
    """Columns to wrap at: a fixed width in a Jupyter kernel, the terminal's in a
    terminal, None elsewhere."""
    if "ipykernel" in sys.modules and _in_kernel():
        return JUPYTER_WIDTH
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size().columns if tty else None


def _in_kernel() -> bool:
    from IPython import get_ipython  # loaded already: ipykernel runs on IPython

    return getattr(get_ipython(), "kernel", None) is not None


def wrap(text: str, columns: int | None = None, indent: str = "") -> str:
    """Each line of ``text`` wrapped at ``columns`` (default :func:`width`); a
    continued line keeps the line's own indentation, plus ``indent``."""
    columns = width() if columns is None else columns
    if not columns:
        return text
    return "\n".join(_wrap_line(line, columns, indent) for line in text.split("\n"))


def _wrap_line(line: str, columns: int, indent: str) -> str:
    if len(line) <= columns:
        return line
    glued = _KEEP.sub(lambda m: m.group().replace(" ", _GLUE), line)
    lead = re.match(r" *", line).group() + indent
    lines = textwrap.wrap(glued, columns, subsequent_indent=lead, break_long_words=False,
                          break_on_hyphens=False)
    return "\n".join(lines).replace(_GLUE, " ")
