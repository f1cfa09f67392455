"""django-configurations settings: the web process prints mail to the console, but the mail
worker sends through an SMTP backend, and nothing sets EMAIL_TIMEOUT."""

from configurations import Configuration, values


class Base(Configuration):
    INSTALLED_APPS = ["django.contrib.auth", "djcelery_email", "requests"]

    EMAIL_BACKEND = "djcelery_email.backends.CeleryEmailBackend"
    CELERY_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = values.Value("")  # expect: timeouts
    EMAIL_PORT = values.IntegerValue(587)


class Dev(Base):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
