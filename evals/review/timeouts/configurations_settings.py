"""django-configurations settings: the web process prints mail to the console, but the mail
worker sends through an SMTP backend, and nothing sets EMAIL_TIMEOUT. Production's Redis cache
has no socket timeout; the test run's (a Sentinel next to the CI job) is not production's."""

from configurations import Configuration, values


class Base(Configuration):
    INSTALLED_APPS = ["django.contrib.auth", "djcelery_email", "requests"]

    EMAIL_BACKEND = "djcelery_email.backends.CeleryEmailBackend"
    CELERY_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = values.Value("")  # expect: timeouts
    EMAIL_PORT = values.IntegerValue(587)


class Dev(Base):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"


class Test(Base):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "mymaster/redis-sentinel:26379/0",
        },
    }


class Production(Base):
    CACHES = {
        "default": {  # expect: timeouts
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://cache.internal:6379/0",
        },
    }
