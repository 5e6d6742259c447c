"""Turns (photo, mask) into a filled photo at full resolution, for the CLI and the app alike (no Qt)."""
