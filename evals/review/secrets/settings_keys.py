"""Django settings read from the environment with django-environ: the signing key falls back to a
literal, so a deploy that misses the variable signs sessions with a key in the source. A switch,
and a key read with no default, are fine."""

import environ

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="change-me-in-production")  # expect: secrets
SESSION_COOKIE_SECRET = env("SESSION_COOKIE_SECRET", default="local-cookie-secret")  # expect: secrets
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost"])
CSRF_COOKIE_SECURE = env.str("CSRF_COOKIE_SECURE", default="true")
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY")
