"""Settings for the S3 uploader."""

AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLF"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
BUCKET = "uploads"


def credentials() -> dict[str, str]:
    return {"key": AWS_ACCESS_KEY_ID, "secret": AWS_SECRET_ACCESS_KEY, "bucket": BUCKET}
