"""The docs that are generated from code match the code."""

from pathlib import Path

from helpers import DOCUMENTED_ERROR_CODES

from vast_magic import reference

ROOT = Path(__file__).resolve().parent.parent


def test_reference_matches_the_parser():
    committed = (ROOT / "docs" / "reference.md").read_text()
    assert committed == reference.generate(), (
        "docs/reference.md is stale: run `python -m vast_magic.reference > docs/reference.md`")


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci


def test_troubleshooting_covers_every_documented_error_code():
    api = (ROOT.parent / "shared" / "reference" / "vast-2fa-api.md")
    page = (ROOT / "docs" / "troubleshooting.md").read_text()
    codes = DOCUMENTED_ERROR_CODES
    if api.exists():  # the list above is the reference's table
        for code in codes:
            assert f"`{code}`" in api.read_text(), code
    for code in codes:
        assert f"`{code}`" in page, code
