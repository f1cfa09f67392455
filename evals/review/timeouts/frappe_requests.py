"""Frappe's integration helpers (make_get_request, make_post_request) send with a requests
session and no timeout, and take none: a partner that stops answering holds the web worker or
the scheduled job forever. requests with a timeout is bounded."""

import frappe
import requests
from frappe.integrations.utils import make_get_request

GRAPH = "https://graph.example.com/v19.0"


def fetch_leads(form_id: str, token: str) -> dict:
    return make_get_request(f"{GRAPH}/{form_id}/leads", params={"access_token": token})  # expect: timeouts


@frappe.whitelist()
def submit_survey(responses: str) -> None:
    frappe.integrations.utils.make_post_request(  # expect: timeouts
        "https://telemetry.example.com/api/survey", data={"response": responses}
    )


def fetch_pages(token: str) -> dict:
    response = requests.get(f"{GRAPH}/me/accounts", params={"access_token": token}, timeout=(3.05, 10))
    return response.json()
