"""Shared pytest configuration."""

# The emulator fixtures (vast_emulator, vast_emulator_url).
pytest_plugins = ["vast_magic.emulator.pytest_plugin"]

# The %vast fixtures (home, memory_keyring, no_keyring, ip, vast).
pytest_plugins += ["magic_fixtures"]
