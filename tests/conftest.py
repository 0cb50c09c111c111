"""Shared pytest configuration."""

# The emulator fixtures (vast_emulator, vast_emulator_url).
pytest_plugins = ["vast_magic.emulator.pytest_plugin"]
