"""The registry's panel on an LKS manager's home page
(``sigap.wiring.HOME_PANELS``): their LKS's registration status and
validity, and the required documents still to upload (missing, rejected
or expired: the same checklist the LKS page shows), each linking to where
it is uploaded. A manager sees their own LKS only (``registry.access``)."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from registry import documents
from registry.access import ensure_can_see
from registry.guide import TO_UPLOAD
from registry.tables import Document, RegistrationStatus
from sigap.audit import Actor
from sigap.db import fetch
from sigap.errors import NotFound
from sigap.i18n import WIB
from sigap.tables import Role

_LKS_FIELDS = (
    "id", "name", "kind", "legal_entity", "registration_status", "status_reason", "certificate_number", "registered_on",
    "valid_until",
)


@cache
def _document_fields() -> tuple[str, ...]:
    return tuple(c._meta.name for c in Document._meta.columns)


@cache
def _lks_with_documents() -> str:
    """The LKS's fields and every document of it (``d_``-prefixed; none:
    one row of NULLs), joined."""
    lks = ", ".join(f'l."{name}" AS "{name}"' for name in _LKS_FIELDS)
    docs = ", ".join(f'd."{c._meta.db_column_name}" AS "d_{c._meta.name}"' for c in Document._meta.columns)
    return (
        f'SELECT {lks}, {docs} FROM "registry_lks" l LEFT JOIN "{Document._meta.tablename}" d ON d."lks" = l."id"'
        ' WHERE l."id" = {}'
    )


RENEWAL_WARNING_DAYS = 90  # the registration alert's horizon: time to apply for renewal


async def manager_registration(user, now: datetime) -> dict | None:
    if user is None or user.role != Role.manager or not user.lks_id:
        return None
    actor = Actor(user_id=user.id, username=user.username, role=user.role, lks_id=user.lks_id)
    try:
        ensure_can_see(actor, user.lks_id)
    except NotFound:
        return None
    # Read on every home page view: the LKS and its documents in one
    # statement, written once (Piccolo took longer to build than to run it).
    rows = await fetch(_lks_with_documents(), user.lks_id)
    if not rows:
        return None
    lks = {name: rows[0][name] for name in _LKS_FIELDS}
    own = [{name: row[f"d_{name}"] for name in _document_fields()} for row in rows if row["d_id"] is not None]
    today = now.astimezone(WIB).date()
    checklist = await documents.checklist(lks, today=today, documents=own)
    days_left = (lks["valid_until"] - today).days if lks["valid_until"] else None
    registered = lks["registration_status"] == RegistrationStatus.registered.value
    return {
        "template": "registry/_home.html",
        "order": 20,
        "lks": lks,
        "days_left": days_left,
        "renew_soon": registered and days_left is not None and 0 <= days_left <= RENEWAL_WARNING_DAYS,
        "to_upload": [i for i in checklist if i["state"] in TO_UPLOAD],
        "pending": sum(1 for i in checklist if i["state"] == "pending"),
        "required": len(checklist),
    }
