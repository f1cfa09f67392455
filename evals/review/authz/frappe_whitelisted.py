"""Frappe API functions (`@frappe.whitelist()`) that read or change a record of whatever doctype
the caller names, checking no permission: any logged-in user reads any record. Functions that
check a permission, compare the record's owner with the session user, list through
frappe.get_list, or fix the doctype themselves are fine, and so are a document's own methods."""

import frappe
from frappe.model.document import Document


@frappe.whitelist()
def get_values(doctype: str, name: str, fields: list[str]) -> dict:
    return frappe.db.get_value(doctype, name, fields, as_dict=True)  # expect: authz


@frappe.whitelist()
def make_payment(dt: str, dn: str) -> dict:
    source = frappe.get_doc(dt, dn)  # expect: authz
    return {"company": source.company, "amount": source.grand_total}


@frappe.whitelist()
def get_checked_values(doctype: str, name: str, fields: list[str]) -> dict:
    frappe.has_permission(doctype, "read", name, throw=True)
    return frappe.db.get_value(doctype, name, fields, as_dict=True)


@frappe.whitelist()
def share(resource_type: str, resource_name: str, team: str) -> None:
    if frappe.db.get_value(resource_type, resource_name, "owner") != frappe.session.user:
        frappe.throw("Not permitted", frappe.PermissionError)
    frappe.get_doc("Team", team).add_resource(resource_type, resource_name)


@frappe.whitelist()
def recent(doctype: str) -> list[dict]:
    return frappe.get_list(doctype, fields=["name", "modified"], limit=20)


@frappe.whitelist()
def leave_balance(employee: str) -> float:
    return frappe.db.get_value("Leave Allocation", {"employee": employee}, "balance")


@frappe.whitelist()
def new_ticket(doc: dict) -> str:
    doc["doctype"] = "Ticket"
    return frappe.get_doc(doc).insert().name


class Shift(Document):
    @frappe.whitelist()
    def copy_from(self, doctype: str, name: str) -> None:
        self.start = frappe.db.get_value(doctype, name, "start")


def _queue_enrichment(doctype: str, name: str) -> str:
    doc = frappe.get_doc(doctype, name)
    doc.check_permission("write")
    return frappe.enqueue("crm.enrich", doctype=doctype, name=name).id


@frappe.whitelist()
def enrich(doctype: str, name: str) -> str:
    website = frappe.get_doc(doctype, name).website
    frappe.logger().info("enriching %s", website)
    return _queue_enrichment(doctype, name)
