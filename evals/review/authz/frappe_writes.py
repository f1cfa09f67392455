"""Frappe API functions that change a record the caller picks, with a write that skips Frappe's
own permission check (db.set_value, db.delete, db_set, ignore_permissions=True) and no access
decision: any logged-in user changes anyone's record. Writes that Frappe checks (save() without
ignore_permissions), writes after a permission check, to the caller's own rows, and guest
sign-up flows are fine."""

import json

import frappe


@frappe.whitelist()
def remove_user(user: str) -> str:
    user_doc = frappe.get_doc("User", user)
    user_doc.enabled = 0
    user_doc.save(ignore_permissions=True)  # expect: authz
    return user


@frappe.whitelist()
def close_loan(loan: str) -> None:
    frappe.db.set_value("Loan", loan, "status", "Closed")  # expect: authz


@frappe.whitelist()
def mark_paid(invoice: str) -> None:
    doc = frappe.get_doc("Invoice", invoice)
    doc.db_set("status", "Paid")  # expect: authz


@frappe.whitelist()
def rename_project(project: str, title: str) -> None:
    doc = frappe.get_doc("Project", project)
    doc.title = title
    doc.save()


@frappe.whitelist()
def archive_project(project: str) -> None:
    if not frappe.has_permission("Project", "write", project):
        frappe.throw("Not permitted", frappe.PermissionError)
    frappe.db.set_value("Project", project, "archived", 1)


@frappe.whitelist()
def set_default_view(name: str) -> None:
    frappe.db.set_value("View Settings", {"name": name, "user": frappe.session.user}, "is_default", 1)


@frappe.whitelist(allow_guest=True)
def verify_signup(request: str, otp: str) -> None:
    signup = frappe.get_doc("Signup Request", request)
    signup.verified = signup.otp == otp
    signup.save(ignore_permissions=True)


@frappe.whitelist()
def update_sidebar(sidebar_items: str) -> None:
    for label, items in json.loads(sidebar_items).items():
        for item in items:
            frappe.db.set_value("Sidebar Item", item["name"], "label", label)  # expect: authz


@frappe.whitelist()
def clear_notifications(ticket: str) -> None:
    filters = {"user_to": frappe.session.user, "read": False}
    filters["ticket"] = ticket
    for notification in frappe.get_all("Notification", filters=filters, pluck="name"):
        frappe.db.set_value("Notification", notification, "read", 1)


def agent_only(function: object) -> object:
    return function


@frappe.whitelist()
@agent_only
def reassign(ticket: str, agent: str) -> None:
    frappe.db.set_value("Ticket", ticket, "agent", agent)
