"""With the deployment's variables set, the uploader gets the same credentials."""

import os

os.environ.update(
    AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLF",
    AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)

import storage  # noqa: E402 - after the environment is set, as a deployment does


def check() -> None:
    assert storage.credentials() == {
        "key": "AKIAIOSFODNN7EXAMPLF",
        "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "bucket": "uploads",
    }


if __name__ == "__main__":
    check()
