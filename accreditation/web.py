"""What accreditation's controllers share: role guards, form-field parsing,
and a page shown again after a failed form (the same contract as joint
monitoring's; the two domains never import each other)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar.response import Template

from registry.access import STAFF_ROLES
from sigap.errors import DomainError
from sigap.i18n import _
from sigap.tables import Role
from sigap.web import page, requires

STAFF = requires(*STAFF_ROLES)
STAFF_OR_MANAGER = requires(*STAFF_ROLES, Role.manager)
MANAGER = requires(Role.manager)
ADMIN = requires(Role.admin)
SIGNED_IN = requires()


def int_field(value: Any) -> int | None:
    """A positive whole number typed into a form (never past 32 bits)."""
    value = str(value if value is not None else "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def date_field(value: Any, name: str, errors: dict[str, str]) -> date | None:
    """A YYYY-MM-DD field; a bad one is None, noted in ``errors``."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = _("Dates must be written as YYYY-MM-DD.")
        return None


def failed(exc: DomainError, form: dict[str, Any], **context: Any) -> dict[str, Any]:
    return {"status_code": exc.status_code, "message": exc.message, "errors": exc.fields, "form": form, **context}


def form_page(template_name: str, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("message", None)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return page(template_name, status_code=status_code, **context)
