"""The printer takes exactly eight characters: a longer reference breaks the ticket layout."""

import refs


def check() -> None:
    ref = refs.booking_ref()
    assert len(ref) == 8 and ref.isalnum()


if __name__ == "__main__":
    check()
