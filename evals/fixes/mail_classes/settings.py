"""Class-based settings in the style of django-configurations: production mail goes over SMTP,
development prints it."""


class Base:
    INSTALLED_APPS = ["django.contrib.auth", "accounts"]
    DEFAULT_FROM_EMAIL = "app@example.org"


class Production(Base):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "smtp.example.org"
    EMAIL_PORT = 587
    EMAIL_USE_TLS = True


class Dev(Base):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
