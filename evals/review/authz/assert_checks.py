"""Access decided by `assert`: `python -O` strips it and a refusal is a 500. Checks that raise,
and asserts that only narrow a type or state an internal invariant, are fine."""

import os

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from forms.models import Form
from forms.permissions import can_edit_form, has_permission_for_form


def get_form(token: str, user: object) -> Form:
    form = Form.objects.get(token=token)
    assert has_permission_for_form(user, form), "insufficient permission"  # expect: authz
    return form


def rename_form(request: HttpRequest, form: Form, title: str) -> None:
    assert request.user.is_authenticated and can_edit_form(request.user, form)  # expect: authz
    form.title = title
    form.save()


def delete_form(request: HttpRequest, form: Form) -> None:
    if not has_permission_for_form(request.user, form):
        raise PermissionDenied("you cannot delete this form")
    form.delete()


def form_owner(request: HttpRequest, form: Form) -> str:
    assert request.user.is_authenticated  # after @login_required: narrows the type for mypy
    assert isinstance(form.fields, list)
    return str(form.owner_id)


def mark_archived(forms: QuerySet[Form]) -> int:
    assert forms.query.can_filter(), "cannot update a sliced queryset"  # a state check
    return forms.update(archived=True)


def export_form(form: Form, path: str) -> None:
    assert os.access(os.path.dirname(path), os.W_OK)  # the process may write there: not a right
    form.export_to(path)


def publish_form(request: HttpRequest, form: Form) -> None:
    assert request.user.can_publish()  # expect: authz
    form.published = True
    form.save()


def is_allowed_type(content_type: str) -> bool:
    return content_type in {"application/pdf", "text/plain"}


def store_upload(content_type: str, data: bytes) -> int:
    # a precondition on a file's type that every caller validated: not an access decision
    assert is_allowed_type(content_type), f"unsupported type {content_type}"
    return len(data)
