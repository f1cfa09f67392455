"""requests_oauthlib's OAuth2Session is a requests.Session: its token requests and its calls wait
forever without timeout=, like any session's."""

from requests_oauthlib import OAuth2Session

from config import settings

HTTP_TIMEOUT_S = 10


def finish_sign_in(state: str, callback_url: str) -> dict[str, str]:
    oauth = OAuth2Session(settings.SSO_CLIENT_ID, state=state)
    return oauth.fetch_token(  # expect: timeouts
        settings.SSO_TOKEN_URL,
        authorization_response=callback_url,
        client_secret=settings.SSO_CLIENT_SECRET,
    )


def profile(token: dict[str, str]) -> dict[str, str]:
    oauth = OAuth2Session(settings.SSO_CLIENT_ID, token=token)
    return oauth.get(settings.SSO_PROFILE_URL).json()  # expect: timeouts


def bounded_sign_in(state: str, callback_url: str) -> dict[str, str]:
    oauth = OAuth2Session(settings.SSO_CLIENT_ID, state=state)
    return oauth.fetch_token(
        settings.SSO_TOKEN_URL,
        authorization_response=callback_url,
        client_secret=settings.SSO_CLIENT_SECRET,
        timeout=HTTP_TIMEOUT_S,
    )


class SignInProvider:
    """The session comes from a method of the class that makes it (baserow's SSO providers)."""

    def session_for(self, state: str | None) -> OAuth2Session:
        if state:
            return OAuth2Session(settings.SSO_CLIENT_ID, state=state)
        return OAuth2Session(settings.SSO_CLIENT_ID)

    def user_info(self, state: str, code: str) -> dict[str, str]:
        oauth = self.session_for(state)
        oauth.fetch_token(settings.SSO_TOKEN_URL, code=code)  # expect: timeouts
        return oauth.get(settings.SSO_PROFILE_URL, timeout=HTTP_TIMEOUT_S).json()

    def describe(self) -> str:
        return self.name_of()

    def name_of(self) -> str:
        return "sso"
