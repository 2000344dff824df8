"""The accreditation panel on the registry's LKS page (LKS_DETAIL_PANELS)."""

from __future__ import annotations

from functools import cache

from accreditation.assessments.tables import Assessment
from accreditation.cycles.tables import Cycle
from registry.access import ensure_can_see, is_staff
from sigap.audit import Actor
from sigap.db import fetch, select_all
from sigap.errors import NotFound
from sigap.tables import Role

_ASSESSMENT = Assessment._meta.tablename


@cache
def _latest_with_assessment() -> str:
    """The LKS's latest cycle (``cycles.services.latest_cycle``) and its
    self-assessment (one per cycle) in one statement: on every view."""
    return (
        select_all(Cycle).replace(" FROM ", ', a."id" AS "assessment_id", a."status" AS "assessment_status" FROM ', 1)
        + f' LEFT JOIN "{_ASSESSMENT}" a ON a."cycle" = "accreditation_cycle"."id"'
        ' WHERE "accreditation_cycle"."latest_key" = {} LIMIT 1'
    )


async def accreditation_panel(actor: Actor, lks: dict) -> dict | None:
    try:
        ensure_can_see(actor, lks["id"])
    except NotFound:
        return None
    if not (is_staff(actor) or actor.role == Role.manager):
        return None
    rows = await fetch(_latest_with_assessment(), str(lks["id"]))
    cycle = rows[0] if rows else None
    assessment = None
    if cycle is not None:
        assessment_id, status = cycle.pop("assessment_id"), cycle.pop("assessment_status")
        if assessment_id is not None:
            assessment = {"id": assessment_id, "status": status}
    return {"template": "accreditation/_panel.html", "cycle": cycle, "assessment": assessment,
            "staff": is_staff(actor)}
