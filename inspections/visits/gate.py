"""Registration needs a visit: the registry's workflow asks these through
its hooks (``registry.hooks``), never importing joint monitoring.

* :func:`create_verification_task` (``FIELD_VERIFICATION_STARTED``): starting
  field verification creates the application's verification visit, for the
  team covering the LKS (one per application: the plan job uses the same key);
* :func:`verification_visit_problems` (``REGISTRATION_APPROVAL_CHECKS``):
  approval waits for an approved visit report of that task."""

from __future__ import annotations

from datetime import datetime, timedelta

from inspections.planning.jobs import VERIFICATION_DAYS
from inspections.planning.services import insert_tasks, new_task, today_wib
from inspections.planning.tables import TaskKind
from inspections.teams.services import team_leads, teams_covering
from inspections.visits.tables import Visit, VisitStatus
from sigap.audit import Actor
from sigap.i18n import _


def verification_key(application: dict) -> str:
    return f"verification:{application['id']}"


async def create_verification_task(actor: Actor, lks: dict, application: dict, now: datetime) -> None:
    due = today_wib(now) + timedelta(days=VERIFICATION_DAYS)
    task = new_task(
        lks, TaskKind.registration_verification, due, verification_key(application),
        teams=await teams_covering(), leads=await team_leads(), now=now,
    )
    await insert_tasks([task])


async def verification_visit_problems(lks: dict, application: dict) -> list[str]:
    approved = await Visit.exists().where(
        (Visit.task.unique_key == verification_key(application)) & (Visit.status == VisitStatus.approved.value)
    )
    if approved:
        return []
    return [_("there is no approved visit report of the field verification yet.")]

