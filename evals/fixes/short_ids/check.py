"""Ids stay hex text, at least as long as before, and distinct."""

import re

import ids


def check() -> None:
    uploads = {ids.upload_id() for _ in range(100)}
    assert len(uploads) == 100 and all(re.fullmatch(r"[0-9a-f]{10,32}", u) for u in uploads)
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f-]+)?", ids.share_token())


if __name__ == "__main__":
    check()
