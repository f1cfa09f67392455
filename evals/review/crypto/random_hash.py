"""A random "hash" is a token by another name: a password-reset or login hash drawn from the
random module can be predicted. A hash of content, and a random jitter, are fine."""

import hashlib
import random


class User:
    def __init__(self, email: str) -> None:
        self.email = email
        hash_ = random.getrandbits(128)  # expect: crypto
        self.reset_password = str(hash_)

    def link_facebook(self) -> None:
        self.facebook_login_hash = random.getrandbits(128)  # expect: crypto

    def avatar_hash(self) -> str:
        return hashlib.sha256(self.email.encode()).hexdigest()

    def retry_delay(self, attempt: int) -> float:
        return random.uniform(0, 2**attempt)
