"""bepro's own detectors, one module per family; importing this package registers them all."""

from bepro.review.detectors import (  # noqa: F401 - imported for their registrations
    api,
    blocking,
    concurrency,
    data,
    invariants,
    resilience,
    security,
    state,
    timekeeping,
)
