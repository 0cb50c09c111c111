"""Lines and settings that must fail cleanly before anything reaches the server."""

from __future__ import annotations

import pytest
from helpers import assert_clean_failure
from traitlets import TraitError

# `--` alone as an option's value, in `=` or glued form: argparse 3.10-3.12 turns it
# into [] without converting it.  The word every message must name comes second.
EMPTY_VALUES = [
    ("tfa auth-new --code=--", "--code"),
    ("tfa auth-new -c--", "--code"),
    ("tfa auth-new -c=--", "--code"),
    ("tfa auth-new --backup-code=--", "--backup-code"),
    ("tfa auth-new -bc=--", "--backup-code"),
    ("tfa auth-new --method-id=--", "--method-id"),
    ("tfa auth-new -id=--", "--method-id"),
    ("tfa auth-new --secret=--", "--secret"),
    ("tfa auth-new -s--", "--secret"),
    ("tfa status --url=--", "--url"),
    ("--url=-- tfa status", "--url"),
    ("tfa status --retry=--", "--retry"),
    ("--retry=-- tfa auth-new -t sms", "--retry"),
    ("tfa status --api-key=--", "--api-key"),
]  # set api-key takes no option with a value (tests/test_messages.py)


@pytest.mark.parametrize("line, option", EMPTY_VALUES)
def test_dashdash_is_not_an_option_value(vast, line, option):
    assert_clean_failure(vast.run(f"%vast {line}"), option, "needs a value")
    assert vast.api_requests() == []


@pytest.mark.parametrize("line, option", [("tfa auth-new -id--", "-id"),
                                          ("tfa auth-new -bc--", "-bc")])
def test_dashdash_glued_to_a_two_letter_short_form(vast, line, option):
    """Python 3.11 reads no value glued to -id/-bc (an unrecognized word); newer ones may."""
    assert_clean_failure(vast.run(f"%vast {line}"), option)
    assert vast.api_requests() == []


@pytest.mark.parametrize("name", ["timeout", "retry_after_cap", "deadline"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_seconds_must_be_finite(vast, caplog, name, value):
    before = getattr(vast.magics, name)
    with pytest.raises(TraitError, match="finite"):
        setattr(vast.magics, name, float(value))
    vast.run(f"%config VastMagics.{name} = float({value!r})")  # %config logs the refusal
    assert "finite" in caplog.text
    assert getattr(vast.magics, name) == before
    assert vast.run("%vast tfa status").success
