"""The accreditation panel on the registry's LKS page (LKS_DETAIL_PANELS)."""

from __future__ import annotations

from accreditation.assessments.tables import Assessment
from accreditation.cycles.services import latest_cycle
from registry.access import ensure_can_see, is_staff
from sigap.audit import Actor
from sigap.errors import NotFound
from sigap.tables import Role


async def accreditation_panel(actor: Actor, lks: dict) -> dict | None:
    try:
        ensure_can_see(actor, lks["id"])
    except NotFound:
        return None
    if not (is_staff(actor) or actor.role == Role.manager):
        return None
    cycle = await latest_cycle(lks["id"])
    assessment = None
    if cycle is not None:
        assessment = await Assessment.select(Assessment.id, Assessment.status).where(Assessment.cycle == cycle["id"]).first()
    return {"template": "accreditation/_panel.html", "cycle": cycle, "assessment": assessment,
            "staff": is_staff(actor)}
