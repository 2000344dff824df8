"""How the audit log names the registry's entities and actions (the shell's
``ENTITY_NAMES`` and ``ACTION_LABELS`` hooks): one query per entity type."""

from __future__ import annotations

from registry.documents import type_label
from registry.sightings.tables import Sighting
from registry.tables import Document, Lks
from registry.workflow import ACTIONS
from sigap.audit_view import EntityNamer
from sigap.i18n import N_, _


def _ids(ids: set[str]) -> list[int]:
    return sorted({int(i) for i in ids if i.isdigit() and len(i) < 19})


async def lks_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    return {str(r["id"]): r["name"] for r in await Lks.select(Lks.id, Lks.name).where(Lks.id.is_in(numbers))}


async def document_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    rows = await Document.select(Document.id, Document.doc_type, Document.lks.name.as_alias("lks_name")).where(
        Document.id.is_in(numbers)
    )
    return {str(r["id"]): f"{type_label(r['doc_type'])} · {r['lks_name']}" for r in rows}


async def sighting_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    rows = await Sighting.select(Sighting.id, Sighting.lks.name.as_alias("lks_name")).where(Sighting.id.is_in(numbers))
    return {str(r["id"]): _("Report of %(name)s", name=r["lks_name"]) for r in rows}


NAMERS = (
    EntityNamer("lks", N_("LKS"), lks_names, "/lks/%s"),
    EntityNamer("document", N_("Document"), document_names),
    EntityNamer("sighting", N_("Unregistered LKS report"), sighting_names, "/sightings/%s"),
)

ACTION_LABELS = {
    "lks.create": N_("Added an LKS"),
    "lks.update": N_("Changed an LKS"),
    "lks.import": N_("Imported the register"),
    "lks.export": N_("Exported the register"),
    "lks.expire": N_("Registration expired"),
    **{f"lks.{name}": action.label for name, action in ACTIONS.items()},
    "document.upload": N_("Uploaded a document"),
    "document.download": N_("Downloaded a document"),
    "document.verify": N_("Verified a document"),
    "document.reject": N_("Rejected a document"),
    "sighting.create": N_("Reported an unregistered LKS"),
    "sighting.outcome": N_("Decided the outcome of a report"),
    "sighting.photo_view": N_("Viewed the photo of a report"),
}
