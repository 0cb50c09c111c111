"""Any %vast line, through a real shell against the emulator: it works or fails cleanly.

The lines are built from the parser's own words (commands, options, choices) mixed
with `--`, `=`-glued and glued values, quotes, unicode, control characters and
empty strings.  Derandomized and bounded: the same few seconds on every run.
"""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError

from vast_magic import grammar
from vast_magic.api.errors import VastError

# A typed line cannot hold a line break (the cell would go on as Python), and IPython
# expands $name and {expr} before %vast sees the line.
NOT_TYPED = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029${}"
EMULATOR = "EMULATOR-URL"  # replaced by the emulator's address before the line runs
MAX_ATTEMPTS = 3  # more --retry against a closed port only makes the run slow
PLAUSIBLE = ["1", "2", "3", "101", "102", "123456", "ABCD-EFGH-IJKL", EMULATOR,
             "http://127.0.0.1:9", "https://127.0.0.1:9"]
ODD = ["", "-", "=", "0", "-1", "http://example.com", "ftp://x", "'", '"', "\\", "é",
       "\x00", "\t", "\u200b"]

text = st.text(st.characters(exclude_characters=NOT_TYPED), max_size=10)
odd = st.one_of(st.just("--"), st.sampled_from(ODD), text)  # `--` as a value: its own branch


def mostly(usual, rare, one_in: int = 5):
    """``usual``, and one time in ``one_in`` ``rare``."""
    return st.integers(1, one_in).flatmap(lambda n: rare if n == 1 else usual)


def _accepts(action, value: str) -> bool:
    try:
        (action.type or str)(value)
    except Exception:  # noqa: BLE001 - whatever the option's own type refuses
        return False
    return True


def _option_words(node) -> st.SearchStrategy[str]:
    """One of a parser's options (help aside), alone or with a value: after a space,
    after `=`, or glued to a short form; mostly a value its type accepts."""
    found = []
    for action in node._actions:  # noqa: SLF001 - argparse has no public walk
        if not action.option_strings or "--help" in action.option_strings:
            continue
        good = list(action.choices or [v for v in PLAUSIBLE if _accepts(action, v)])
        for option in action.option_strings:
            if action.nargs == 0:
                found.append(st.just(option))
                continue
            joints = [" ", "="] + ([""] if not option.startswith("--") else [])
            found.append(st.builds(lambda o, j, v: o + j + v, st.just(option),
                                   st.sampled_from(joints), mostly(st.sampled_from(good), odd)))
    return st.one_of(found)


LEAVES = [(path, _option_words(leaf)) for path, leaf in grammar.leaves()]
GLOBALS = _option_words(grammar.parser())
noise = st.one_of(  # words no parser expects where they stand
    st.sampled_from(sorted({word for path, _ in grammar.leaves() for word in path}
                           | {"-h", "--help", "--"})),
    odd,
    st.builds(lambda quote, value: quote + value + quote, st.sampled_from(["'", '"']), odd))


@st.composite
def lines(draw) -> str:
    """Mostly a real command with options its parser knows, with some noise."""
    path, options = draw(st.sampled_from(LEAVES))
    path = draw(mostly(st.just(path), st.lists(noise, max_size=2), one_in=8))
    before = draw(st.lists(mostly(GLOBALS, noise, one_in=8), max_size=2))
    after = draw(st.lists(mostly(options, noise, one_in=8), max_size=4))
    return " ".join([*before, *path, *after])


def refused(line: str) -> bool:
    """Does the parser refuse the line?  What it accepts has one value per option, never
    a list.  (A line with many attempts is not worth running.)"""
    try:
        opts = grammar.parse(grammar.split(line))
    except UsageError:
        return True
    except grammar.HelpShown:
        return False
    assert not [v for v in vars(opts).values() if isinstance(v, list)], (line, opts)
    assume((opts.retry or 1) <= MAX_ATTEMPTS)
    return False


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=lines())
def test_a_line_works_or_fails_cleanly(vast, line):
    vast.magics.timeout = 2
    line = line.replace(EMULATOR, vast.emu.url)
    parse_refused = refused(line)
    sent = len(vast.api_requests())
    ran = vast.run(f"%vast {line}")
    assert ran.error is None or isinstance(ran.error, (UsageError, VastError)), \
        (line, repr(ran.error), ran.text)
    assert "Traceback" not in ran.text, (line, ran.text)
    if parse_refused:
        assert len(vast.api_requests()) == sent, (line, ran.text)
