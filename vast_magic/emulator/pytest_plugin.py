"""pytest fixtures for the Vast.ai 2FA emulator.

Enable with ``pytest_plugins = ["vast_magic.emulator.pytest_plugin"]`` in a
conftest.py.

- ``vast_emulator``: a fresh, started :class:`~vast_magic.emulator.Emulator`
  per test (own port, demo accounts, empty outbox/log, real-time clock),
  stopped after the test. Starting and stopping take about a millisecond.
- ``vast_emulator_url``: its base URL.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from .core import Emulator


@pytest.fixture
def vast_emulator() -> Iterator[Emulator]:
    with Emulator(port=0) as emu:
        yield emu


@pytest.fixture
def vast_emulator_url(vast_emulator: Emulator) -> str:
    return vast_emulator.url
