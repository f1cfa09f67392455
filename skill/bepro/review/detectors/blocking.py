"""Detectors for blocking calls inside async functions that ruff does not catch."""
