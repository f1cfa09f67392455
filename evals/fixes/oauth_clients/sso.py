"""Sign-in through the company's identity provider, and a client for its admin API."""

import os

from authlib.integrations.flask_client import OAuth
from authlib.integrations.requests_client import OAuth2Session

oauth = OAuth()
oauth.register(
    name="corp",
    client_id="portal",
    client_secret=os.environ["CORP_CLIENT_SECRET"],
    server_metadata_url="https://id.corp.test/.well-known/openid-configuration",
    client_kwargs={"scope": "openid email"},
)


def admin_client(token_url: str) -> OAuth2Session:
    return OAuth2Session(
        client_id="portal-admin",
        client_secret=os.environ["CORP_CLIENT_SECRET"],
        token_endpoint=token_url,
    )
