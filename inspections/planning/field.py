"""The field view of an LKS: what an inspector needs on the way to a visit
(and, offline, on the tablet): where it is with a map link, who to reach,
capacity and residents (counts only), its document checklist, past visits
and open findings. Partners of a joint team get the basic profile only
(name, address, map link, head, phone). Who may open it:
:func:`inspections.planning.services.monitoring_lks`; anyone else gets
"not found"."""

from __future__ import annotations

from datetime import datetime

from inspections.findings.services import findings_of
from inspections.planning.services import monitoring_lks, today_wib
from inspections.visits.tables import Visit
from registry import documents, regions
from registry.access import FIELD_ROLES, is_staff
from registry.risk_cache import lks_columns
from registry.tables import Lks
from sigap.audit import Actor
from sigap.errors import NotFound
from sigap.i18n import _
from sigap.tables import Role

PAST_VISITS = 20


def map_url(latitude: float | None, longitude: float | None) -> str:
    """OpenStreetMap at the LKS's point (5 decimals: about a metre, all a
    single-precision column holds)."""
    if latitude is None or longitude is None:
        return ""
    return f"https://www.openstreetmap.org/?mlat={latitude:.5f}&mlon={longitude:.5f}#map=17/{latitude:.5f}/{longitude:.5f}"


def basic_profile(lks: dict, places: dict[str, str]) -> dict:
    return {
        "id": lks["id"], "name": lks["name"], "kind": lks["kind"], "address": lks["address"], "rt": lks["rt"], "rw": lks["rw"],
        "kelurahan_code": lks["kelurahan_code"], "kelurahan": places.get(lks["kelurahan_code"], ""),
        "kecamatan_code": lks["kecamatan_code"], "kecamatan": places.get(lks["kecamatan_code"], ""),
        "latitude": lks["latitude"], "longitude": lks["longitude"], "map_url": map_url(lks["latitude"], lks["longitude"]),
        "head_name": lks["head_name"], "phone": lks["phone"],
    }


async def past_visits(lks_id: int) -> list[dict]:
    return await Visit.select(Visit.id, Visit.submitted_at, Visit.outcome, Visit.status, Visit.announced).where(
        Visit.lks == lks_id
    ).order_by(Visit.submitted_at, ascending=False).limit(PAST_VISITS)


def _finding(row: dict) -> dict:
    keys = ("id", "severity", "description", "corrective_action", "due_on", "status", "responsible", "question_code")
    return {k: row[k] for k in keys}


async def field_profile(actor: Actor, lks_id: int, *, now: datetime) -> dict:
    """``{"basic_only": bool, "lks": {...}}``, plus for inspectors and staff
    ``documents``, ``visits`` and ``findings``."""
    if not (is_staff(actor) or actor.role in FIELD_ROLES):
        raise NotFound(_("LKS not found."))
    await monitoring_lks(actor, lks_id)
    lks = await Lks.select(*lks_columns()).where(Lks.id == lks_id).output(load_json=True).first()
    places = await regions.region_names({lks["kelurahan_code"], lks["kecamatan_code"]})
    profile = basic_profile(lks, places)
    if actor.role == Role.partner:
        return {"basic_only": True, "lks": profile}
    profile.update({
        "capacity": lks["capacity"], "residents_total": lks["residents_total"], "residents": lks["residents"] or {},
        "registration_status": lks["registration_status"], "accreditation_status": lks["accreditation_status"],
        "risk_level": lks["risk_level"], "open_incident": lks["open_incident"],
    })
    checklist = await documents.checklist(lks, today=today_wib(now))
    return {
        "basic_only": False,
        "lks": profile,
        "documents": [{"doc_type": d["doc_type"], "label": d["label"], "state": d["state"]} for d in checklist],
        "visits": await past_visits(lks_id),
        "findings": [_finding(f) for f in await findings_of(lks_id)],
    }
