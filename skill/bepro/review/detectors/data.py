"""Detectors for batching, transactions, outbox, id generation and caching."""
