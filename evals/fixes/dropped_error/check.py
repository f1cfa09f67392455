"""A new login signs up and gets its session; a taken one leaves the accounts as they were."""

import accounts


def check() -> None:
    assert accounts.create_user("ada") == "session-for-ada"
    try:
        accounts.create_user("ada")
    except accounts.SignupError:
        pass  # what the fix makes of it: the duplicate is refused
    assert accounts.USERS == {"ada": "active"}


if __name__ == "__main__":
    check()
