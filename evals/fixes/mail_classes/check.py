"""Each configuration keeps its mail settings; a timeout, where one is set, bounds the wait."""

import settings


def check() -> None:
    production, dev = settings.Production, settings.Dev
    assert (production.EMAIL_HOST, production.EMAIL_PORT, production.EMAIL_USE_TLS) == (
        "smtp.example.org",
        587,
        True,
    )
    assert production.EMAIL_BACKEND.endswith("smtp.EmailBackend")
    assert dev.EMAIL_BACKEND.endswith("console.EmailBackend")
    assert production.DEFAULT_FROM_EMAIL == dev.DEFAULT_FROM_EMAIL == "app@example.org"
    timeout = getattr(production, "EMAIL_TIMEOUT", None)
    assert timeout is None or 0 < timeout <= 60


if __name__ == "__main__":
    check()
