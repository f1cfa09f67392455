"""Detectors for secrets and PII in logs, and input validation."""
