"""SDK clients whose calls have no timeout unless one is set where the client is made; the same
clients made with their bound are fine."""

import caldav
import gitlab
from caldav import DAVClient
from gql.transport.requests import RequestsHTTPTransport
from google import genai
from google.genai import types
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from zeep import Client as SoapClient
from zeep.transports import Transport

from config import settings


def caption_model() -> genai.Client:
    return genai.Client(api_key=settings.GEMINI_API_KEY)  # expect: timeouts


def sms_client() -> Client:
    return Client(settings.TWILIO_SID, settings.TWILIO_TOKEN)  # expect: timeouts


def payments_client() -> SoapClient:
    return SoapClient(settings.PAYMENTS_WSDL)  # expect: timeouts


def bounded_caption_model() -> genai.Client:
    return genai.Client(
        api_key=settings.GEMINI_API_KEY, http_options=types.HttpOptions(timeout=30_000)
    )


def bounded_sms_client() -> Client:
    return Client(
        settings.TWILIO_SID, settings.TWILIO_TOKEN, http_client=TwilioHttpClient(timeout=10)
    )


def wsdl_bounded_payments_client() -> SoapClient:
    # timeout= bounds loading the WSDL only
    return SoapClient(settings.PAYMENTS_WSDL, transport=Transport(timeout=10))  # expect: timeouts


def bounded_payments_client() -> SoapClient:
    return SoapClient(settings.PAYMENTS_WSDL, transport=Transport(operation_timeout=15))


def graph_transport() -> RequestsHTTPTransport:
    return RequestsHTTPTransport(url=settings.GRAPH_URL, timeout=10)


def calendar_client(url: str, user: str, password: str) -> DAVClient:
    return DAVClient(url=url, username=user, password=password)  # expect: timeouts


def bounded_calendar_client(url: str, user: str, password: str) -> caldav.DAVClient:
    return caldav.DAVClient(url, None, user, password, None, 10)


def forge_client(url: str, token: str) -> gitlab.Gitlab:
    return gitlab.Gitlab(url, private_token=token)  # expect: timeouts


def bounded_forge_client(url: str, token: str) -> gitlab.Gitlab:
    return gitlab.Gitlab(url, private_token=token, timeout=10)
