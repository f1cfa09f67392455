"""Detectors for API contracts: idempotency of POST handlers that create resources."""
