"""A re-inspection instead of closing: Dinas Sosial schedules a follow-up
task for a finding (one per finding: the same unique key the plan job uses,
so a follow-up it already created is moved to the chosen date rather than
doubled), and the finding links to it."""

from __future__ import annotations

from datetime import date, datetime

from inspections.findings.services import checked_for_decision, today_wib, update_checked
from inspections.findings.tables import Finding
from inspections.planning.services import ACTIVE_STATUSES, insert_tasks, new_task
from inspections.planning.tables import Task, TaskKind
from inspections.teams.services import team_leads, teams_covering
from registry.tables import Lks
from sigap import audit
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.errors import ValidationError
from sigap.i18n import _


def follow_up_key(finding: dict, existing: dict | None) -> str:
    """``finding:{id}``; once that visit is over, a new one per decision."""
    base = f"finding:{finding['id']}"
    return base if existing is None else f"{base}:{finding['version']}"


async def _move(task: dict, due_on: date, note: str, now: datetime) -> int:
    await Task.update({
        Task.due_on: due_on, Task.due_at: None, Task.reason: note, Task.updated_at: now, Task.version: task["version"] + 1,
    }).where(Task.id == task["id"])
    return task["id"]


async def _create(finding: dict, key: str, due_on: date, note: str, now: datetime) -> int:
    lks = await Lks.select(Lks.id, Lks.kelurahan_code, Lks.kecamatan_code).where(Lks.id == finding["lks"]).first()
    task = new_task(lks, TaskKind.findings_follow_up, due_on, key, teams=await teams_covering(), leads=await team_leads(),
                    now=now, finding=finding["id"], reason=note)
    await insert_tasks([task])
    return (await Task.select(Task.id).where(Task.unique_key == key).first())["id"]


async def schedule_follow_up(
    actor: Actor, finding_id: int, *, follow_up_on: date | None, now: datetime, note: str = "", version: int | None = None,
) -> dict:
    """Staff schedule a re-inspection of a finding on ``follow_up_on``; the
    finding stays unresolved until closed. Returns the finding after."""
    note = " ".join((note or "").split())[:1000]
    async with write_transaction():
        finding = await checked_for_decision(actor, finding_id, version)
        if follow_up_on is None:
            raise ValidationError(_("Please correct the marked fields."), fields={"follow_up_on": _("Choose the date of the re-inspection.")})
        if follow_up_on < today_wib(now):
            raise ValidationError(_("Please correct the marked fields."), fields={"follow_up_on": _("The date cannot be in the past.")})
        existing = await Task.select().where(Task.unique_key == f"finding:{finding_id}").first()
        if existing is not None and existing["status"] in ACTIVE_STATUSES:
            task_id = await _move(existing, follow_up_on, note, now)
        else:
            task_id = await _create(finding, follow_up_key(finding, existing), follow_up_on, note, now)
        after = await update_checked(finding, {Finding.follow_up_task: task_id}, now=now)
        await audit.record(actor, "finding.follow_up", "finding", finding_id, now=now, before=finding,
                           after={**after, "follow_up_on": follow_up_on, "note": note})
    return after
