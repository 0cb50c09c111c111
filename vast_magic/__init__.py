"""vast-magic."""
