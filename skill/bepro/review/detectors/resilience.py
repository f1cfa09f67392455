"""Detectors for timeouts and retries."""
