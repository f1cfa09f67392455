"""OpenID Connect sign-in for a Django app, and the groups API the login view calls."""

from authlib.integrations.django_client import OAuth

oauth = OAuth()
oauth.register(
    "campus",
    client_id="intranet",
    server_metadata_url="https://auth.campus.test/.well-known/openid-configuration",
)


def groups_of(token: dict[str, str]) -> list[str]:
    client = oauth.create_client("campus")
    response = client.get("https://groups.campus.test/me/groups", token=token)
    return [group["id"] for group in response.json()]
