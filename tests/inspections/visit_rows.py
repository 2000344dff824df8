"""Visit rows written straight through the tables, for tests that need an
approved visit report without filing one from a tablet."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from inspections.planning.tables import Task
from inspections.visits.gate import create_verification_task, verification_key
from inspections.visits.tables import Checklist, Visit
from registry import workflow
from registry.tables import Lks
from sigap.audit import Actor

SYSTEM = Actor.system("test")


async def _checklist_id() -> int:
    row = await Checklist.select(Checklist.id).where(Checklist.unique_key == "test:1").first()
    if row is None:
        checklist = Checklist(code="test", version=1, lks_kinds=["lksa"], title={"id": "Uji", "en": "Test"},
                              definition={"sections": []}, created_at=datetime.now(timezone.utc), unique_key="test:1")
        await checklist.save()
        return checklist.id
    return row["id"]


async def add_visit(task_id: int, *, status: str = "approved", outcome: str = "compliant", at: datetime | None = None) -> dict:
    """A visit report of ``task_id`` in ``status`` with ``outcome``."""
    at = at or datetime.now(timezone.utc)
    task = await Task.select(Task.lks, Task.team).where(Task.id == task_id).first()
    visit = Visit(client_id=uuid.uuid4().hex, task=task_id, lks=task["lks"], checklist=await _checklist_id(), team=task["team"],
                  status=status, outcome=outcome, submitted_at=at, updated_at=at)
    await visit.save()
    return await Visit.select().where(Visit.id == visit.id).first()


async def approved_verification_visit(lks_id: int, *, now: datetime | None = None) -> dict:
    """An approved visit report of the open application's field
    verification task (created here if the workflow's hook did not)."""
    now = now or datetime.now(timezone.utc)
    application = await workflow.open_application(lks_id)
    lks = await Lks.select().where(Lks.id == lks_id).first()
    await create_verification_task(SYSTEM, lks, application, now)
    task = await Task.select(Task.id).where(Task.unique_key == verification_key(application)).first()
    return await add_visit(task["id"], at=now)
