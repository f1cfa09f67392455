"""Fresh records are retained, the cutoff lies in the past, and records keep their fields."""

from datetime import timedelta

import audit


def check() -> None:
    entry = audit.record("ada", "login")
    assert (entry.actor, entry.action) == ("ada", "login")
    assert audit.is_retained(entry, days=30)
    old = audit.AuditRecord("bob", "login", entry.at - timedelta(days=40))
    assert not audit.is_retained(old, days=30)
    assert audit.retention_cutoff(1) < entry.at


if __name__ == "__main__":
    check()
