"""Personal data as span attributes or metric labels is flagged; opaque ids, hashed values and
constant markers are not."""

from opentelemetry import trace
from prometheus_client import Counter

tracer = trace.get_tracer(__name__)
LOGINS = Counter("logins_total", "Logins by outcome.", ["outcome", "email"])
SIGNUPS = Counter("signups_total", "Signups by plan.", ["plan"])


def record_login(user: object, ok: bool) -> None:
    span = trace.get_current_span()
    span.set_attribute("user.email", user.email)  # expect: data-min
    span.set_attribute("user.id", user.id)
    LOGINS.labels(outcome="ok" if ok else "failed", email=user.email).inc()  # expect: data-min


def record_signup(plan: str, phone_number: str, email_hash: str) -> None:
    with tracer.start_as_current_span("signup") as span:
        span.set_attributes({"plan": plan, "customer.phone": phone_number})  # expect: data-min
        span.set_attribute("customer.email_hash", email_hash)
        span.set_attribute("customer.email", "redacted")
    SIGNUPS.labels(plan=plan).inc()
