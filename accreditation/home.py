"""Accreditation's panel on an LKS manager's home page
(``sigap.wiring.HOME_PANELS``): where their LKS's accreditation stands
(stage, grade, validity, self-assessment) and the improvement actions not
done yet, overdue first, each linking to where the manager answers it. The
data and the access rules are those of the LKS page's panels
(``accreditation_panel``, ``plan_panel_at``)."""

from __future__ import annotations

from datetime import datetime

from accreditation.cycles.panel import accreditation_panel
from accreditation.improvement.panel import plan_panel_at
from sigap.audit import Actor
from sigap.tables import Role


async def manager_accreditation(user, now: datetime) -> dict | None:
    if user is None or user.role != Role.manager or not user.lks_id:
        return None
    actor = Actor(user_id=user.id, username=user.username, role=user.role, lks_id=user.lks_id)
    lks = {"id": user.lks_id}
    record = await accreditation_panel(actor, lks)
    plan = await plan_panel_at(actor, lks, now=now)
    if record is None or plan is None:
        return None
    actions = sorted(plan["actions"], key=lambda a: (not a["overdue"], a["due_on"], a["id"]))
    return {
        "template": "accreditation/_home.html",
        "order": 40,
        "lks_id": user.lks_id,
        "cycle": record["cycle"],
        "assessment": record["assessment"],
        "actions": actions,
        "more": plan["more"],
        "overdue": plan["overdue"],
        "last_training": plan["last_training"],
        "covered": plan["covered"],
    }
