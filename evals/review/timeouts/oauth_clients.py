"""Sign-in through authlib: its requests-based clients send with no timeout unless given
`default_timeout`, so a provider that stops answering hangs the login. The httpx-based
Starlette client has httpx's 5 s default."""

from authlib.integrations.flask_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from django.contrib import admin

from accounts.models import Identity
from config import settings

oauth = OAuth()

oauth.register(  # expect: timeouts
    name="keycloak",
    client_id=settings.OIDC_CLIENT_ID,
    client_secret=settings.OIDC_CLIENT_SECRET,
    server_metadata_url=settings.OIDC_METADATA_URL,
    client_kwargs={"scope": "openid email"},
)

oauth.register(
    name="partner",
    client_id=settings.PARTNER_CLIENT_ID,
    server_metadata_url=settings.PARTNER_METADATA_URL,
    client_kwargs={"scope": "openid", "default_timeout": 10},
)

admin.site.register(Identity)


def admin_api_session() -> OAuth2Session:
    session = OAuth2Session(  # expect: timeouts
        client_id=settings.ADMIN_CLIENT_ID,
        client_secret=settings.ADMIN_CLIENT_SECRET,
        token_endpoint=settings.ADMIN_TOKEN_URL,
    )
    session.fetch_token(grant_type="client_credentials")
    return session


def reporting_session() -> OAuth2Session:
    return OAuth2Session(
        client_id=settings.REPORTS_CLIENT_ID,
        token_endpoint=settings.REPORTS_TOKEN_URL,
        default_timeout=(3.05, 10),
    )


def register_provider(config: dict[str, str], pkce: bool) -> None:
    # the options are built first (pgadmin's OAuth2 providers): still no default_timeout
    client_kwargs = {"scope": config.get("scope", "openid email")}
    if pkce:
        client_kwargs.update({"code_challenge_method": "S256"})
    options = {
        "name": config["name"],
        "client_id": config["client_id"],
        "server_metadata_url": config["metadata_url"],
        "client_kwargs": client_kwargs,
    }
    oauth.register(**options)  # expect: timeouts


def register_configured(config: dict[str, str], extra: dict[str, object]) -> None:
    oauth.register(name=config["name"], client_id=config["client_id"], **extra)
