"""Sign-ups: a login that is taken must not get a session."""


class SignupError(Exception):
    """The sign-up cannot go ahead; the message says why."""


USERS: dict[str, str] = {}


def create_user(login: str) -> str:
    try:
        if login in USERS:
            raise KeyError(login)
        USERS[login] = "active"
    except KeyError as error:
        SignupError(f"{login} is taken: {error}")
    return f"session-for-{login}"
