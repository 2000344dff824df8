"""The panel improvement plans and pembinaan add to the registry's LKS
page (``registry.hooks.LKS_DETAIL_PANELS``): the actions not done yet and
the LKS's latest training, for staff and for the LKS's own manager."""

from __future__ import annotations

from datetime import datetime, timezone

from accreditation.improvement.services import ActionFilter, search_actions, today_wib
from accreditation.training.services import COVERAGE_DAYS, lks_attendance
from accreditation.training.tables import TrainingTopic
from registry.access import is_staff
from sigap.audit import Actor
from sigap.tables import Role

SHOWN = 5


async def plan_panel_at(actor: Actor, lks: dict, *, now: datetime) -> dict | None:
    if not (is_staff(actor) or (actor.role == Role.manager and actor.lks_id == lks["id"])):
        return None
    # The panel shows no thread: its notes are not read.
    actions = await search_actions(
        actor, ActionFilter(lks_id=lks["id"], status="not_done"), now=now, limit=100, with_notes=False
    )
    attended = await lks_attendance(actor, lks["id"])
    today = today_wib(now)
    protection = [a for a in attended if a["topic"] == TrainingTopic.child_protection.value and a["held_on"] <= today]
    last = max((a["held_on"] for a in protection), default=None)
    return {
        "template": "accreditation/_plan_panel.html",
        "actions": actions[:SHOWN],
        "more": max(0, len(actions) - SHOWN),
        "overdue": sum(1 for a in actions if a["overdue"]),
        "last_training": last,
        "covered": last is not None and (today - last).days < COVERAGE_DAYS,
        "is_staff": is_staff(actor),
    }


async def plan_panel(actor: Actor, lks: dict) -> dict | None:
    """The LKS_DETAIL_PANELS provider: the panel as of now."""
    return await plan_panel_at(actor, lks, now=datetime.now(timezone.utc))
