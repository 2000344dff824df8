"""Visit report rules: who files and who reads a report, submitting one
(stored once per client id, however often and from however many tabs it
arrives; it completes its task in the same transaction), resubmitting a
returned one, and staff review (approve or return, version-checked).

Readers: staff see every report; inspectors and partners those of their
teams' tasks; managers never the report itself (their findings are in
``inspections.findings``). Filers: the task's lead, an inspector of its
team, or staff; partners co-sign but never file."""

from __future__ import annotations

import math
from datetime import datetime

from inspections.findings.tables import Finding
from inspections.planning.services import get_task, visible_task_filter
from inspections.planning.tables import Task, TaskStatus
from inspections.planning.tables import VisitOutcome as TaskOutcome
from inspections.teams.services import team_ids_of
from inspections.visits.checklists import get_checklist
from inspections.visits.tables import Visit, VisitOutcome, VisitPhoto, VisitStatus
from inspections.visits.validation import check_report, clean_text, valid_client_id
from registry.access import is_staff
from registry.tables import Lks
from sigap import audit
from sigap.audit import Actor
from sigap.db import is_sqlite, unique_violation, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, _, ngettext
from sigap.tables import Role

FAR_START_M = 500  # a visit started further than this from the LKS's registered point is flagged
EARTH_RADIUS_M = 6_371_000
TASK_OUTCOME = {
    VisitOutcome.compliant.value: TaskOutcome.satisfactory.value,
    VisitOutcome.needs_improvement.value: TaskOutcome.concerns.value,
    VisitOutcome.serious_concern.value: TaskOutcome.critical.value,
    VisitOutcome.immediate_action.value: TaskOutcome.critical.value,
}
OUTCOME_LABELS = {
    VisitOutcome.compliant: N_("Compliant"),
    VisitOutcome.needs_improvement: N_("Needs improvement"),
    VisitOutcome.serious_concern: N_("Serious concern"),
    VisitOutcome.immediate_action: N_("Immediate action needed"),
}
STATUS_LABELS = {
    VisitStatus.submitted: N_("Waiting for review"),
    VisitStatus.returned: N_("Returned for correction"),
    VisitStatus.approved: N_("Approved"),
}
REVIEW_DECISIONS = ("approve", "return")


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> int:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(math.sqrt(a)))


def _distance(position: dict | None, lks: dict) -> int | None:
    if position is None or lks.get("latitude") is None or lks.get("longitude") is None:
        return None
    return distance_m(position["lat"], position["lng"], lks["latitude"], lks["longitude"])


# --- who files, who reads -------------------------------------------------------------------


async def ensure_can_file(actor: Actor, task: dict) -> None:
    """The task's lead, an inspector of its team, or staff."""
    if is_staff(actor):
        return
    if actor.role == Role.inspector and (task["lead"] == actor.user_id or task["team"] in await team_ids_of(actor.user_id)):
        return
    raise Forbidden(_("Only the task's lead or an inspector of its team can file the visit report."))


async def _visible_task_ids(actor: Actor) -> list[int] | None:
    """None for staff (every task); the task ids of the actor's teams otherwise."""
    if not (is_staff(actor) or actor.role in (Role.inspector, Role.partner)):
        raise Forbidden(_("Your role does not allow this action."))
    condition = await visible_task_filter(actor)
    if condition is None:
        return None
    return [r["id"] for r in await Task.select(Task.id).where(condition)]


async def _visit_row(visit_id: int | None = None, client_id: str | None = None) -> dict | None:
    query = Visit.select(
        *Visit.all_columns(), Visit.lks.name.as_alias("lks_name"), Visit.lks.kecamatan_code.as_alias("kecamatan_code"),
        Visit.team.name.as_alias("team_name"), Visit.filed_by.full_name.as_alias("filed_by_name"),
        Visit.reviewed_by.full_name.as_alias("reviewed_by_name"),
    ).output(load_json=True)
    query = query.where(Visit.id == visit_id) if visit_id is not None else query.where(Visit.client_id == client_id)
    return await query.first()


async def get_visit(actor: Actor, visit_id: int) -> dict:
    """The stored report if the actor may read it; another team's is "not found"."""
    task_ids = await _visible_task_ids(actor)
    row = await _visit_row(visit_id)
    if row is None or (task_ids is not None and row["task"] not in task_ids):
        raise NotFound(_("Visit report not found."))
    return row


async def search_visits(
    actor: Actor, *, lks_id: int | None = None, task_id: int | None = None, status: str | None = None,
    kecamatan: str | None = None, submitted: tuple[datetime, datetime] | None = None, limit: int = 200,
) -> list[dict]:
    """Reports the actor may read, those waiting for review first, newest
    first; ``submitted``: only those submitted from .. before."""
    task_ids = await _visible_task_ids(actor)
    query = Visit.select(
        Visit.id, Visit.client_id, Visit.task, Visit.lks, Visit.status, Visit.outcome, Visit.announced, Visit.submitted_at,
        Visit.far_start, Visit.distance_m, Visit.version, Visit.lks.name.as_alias("lks_name"),
        Visit.lks.kecamatan_code.as_alias("kecamatan_code"), Visit.team.name.as_alias("team_name"),
        Visit.filed_by.full_name.as_alias("filed_by_name"),
    ).order_by(Visit.submitted_at, ascending=False).order_by(Visit.id, ascending=False).limit(limit)
    if task_ids is not None:
        query = query.where(Visit.task.is_in(task_ids or [0]))
    for column, value in ((Visit.lks, lks_id), (Visit.task, task_id), (Visit.status, status), (Visit.lks.kecamatan_code, kecamatan)):
        if value is not None:
            query = query.where(column == value)
    if submitted is not None:
        query = query.where((Visit.submitted_at >= submitted[0]) & (Visit.submitted_at < submitted[1]))
    rows = await query
    rows.sort(key=lambda r: r["status"] != VisitStatus.submitted.value)
    return rows


async def photos_of(visit_id: int) -> list[dict]:
    return await VisitPhoto.select().where(VisitPhoto.visit == visit_id).order_by(VisitPhoto.id)


def missing_photos(visit: dict, photos: list[dict]) -> list[str]:
    """Client ids the report declared whose photo has not arrived yet."""
    received = {p["client_id"] for p in photos}
    return [p["client_id"] for p in visit["photos_expected"] if p["client_id"] not in received]


async def findings_of_visit(visit_id: int) -> list[dict]:
    return await Finding.select().where(Finding.visit == visit_id).order_by(Finding.id)


async def visit_json(actor: Actor, visit: dict) -> dict:
    """The visit as the API gives it (internal notes: staff and the team,
    who are the only readers)."""
    photos = await photos_of(visit["id"])
    return {
        "id": visit["id"], "client_id": visit["client_id"], "task_id": visit["task"], "lks_id": visit["lks"],
        "checklist_id": visit["checklist"], "status": visit["status"], "outcome": visit["outcome"], "announced": visit["announced"],
        "started_at": visit["started_at"], "submitted_at": visit["submitted_at"], "distance_m": visit["distance_m"],
        "far_start": visit["far_start"], "present": visit["present"], "residents_present": visit["residents_present"],
        "answers": visit["answers"],
        "findings": [
            {
                "id": f["id"], "question_code": f["question_code"], "severity": f["severity"], "description": f["description"],
                "corrective_action": f["corrective_action"], "due_on": f["due_on"], "responsible": f["responsible"], "status": f["status"],
            }
            for f in await findings_of_visit(visit["id"])
        ],
        "photos": [
            {"id": p["id"], "client_id": p["client_id"], "question_code": p["question_code"], "finding_ref": p["finding_ref"],
             "url": f"/visits/{visit['id']}/photos/{p['id']}"}
            for p in photos
        ],
        "photos_missing": missing_photos(visit, photos),
        "summary": visit["summary"], "review_comment": visit["review_comment"], "version": visit["version"],
        "internal_notes": visit["internal_notes"],
    }


# --- submitting -----------------------------------------------------------------------------


async def _lock_task(task_id: int) -> None:
    """Serialise reports of one task (SQLite writers are serialised already)."""
    if not is_sqlite():
        await Task.raw("SELECT id FROM inspections_task WHERE id = {} FOR UPDATE", task_id)


def _report_columns(report: dict, lks: dict) -> dict:
    position = report["position"] or {}
    distance = _distance(report["position"], lks)
    return {
        Visit.outcome: report["outcome"], Visit.announced: report["announced"], Visit.started_at: report["started_at"],
        Visit.latitude: position.get("lat"), Visit.longitude: position.get("lng"), Visit.accuracy_m: position.get("accuracy_m"),
        Visit.distance_m: distance, Visit.far_start: distance is not None and distance > FAR_START_M,
        Visit.present: report["present"], Visit.residents_present: report["residents_present"], Visit.answers: report["answers"],
        Visit.photos_expected: report["photos"], Visit.signatures: report["signatures"], Visit.summary: report["summary"],
        Visit.internal_notes: report["internal_notes"],
    }


async def _store_findings(visit_id: int, task: dict, findings: list[dict], *, now: datetime) -> None:
    await Finding.delete().where(Finding.visit == visit_id)
    for f in findings:
        await Finding.insert(Finding(
            lks=task["lks"], task=task["id"], visit=visit_id, question_code=f["question_code"], severity=f["severity"],
            description=f["description"], corrective_action=f["corrective_action"], responsible=f["responsible"],
            due_on=f["due_on"], status="open", created_at=now, updated_at=now,
        ))


async def _complete_task(task: dict, outcome: str, *, now: datetime) -> None:
    await Task.update({
        Task.status: TaskStatus.done.value, Task.outcome: TASK_OUTCOME[outcome], Task.done_at: now, Task.updated_at: now,
        Task.version: Task.version + 1,
    }).where(Task.id == task["id"])


def ensure_author(actor: Actor, body: dict) -> None:
    """A report queued on a shared tablet carries ``author``, the account
    signed in when it was queued: it is filed by that account or not at
    all, never by whoever signs in next on the same device."""
    author = body.get("author")
    if author is None:
        return
    if not (isinstance(author, int) and not isinstance(author, bool)):
        raise ValidationError(_("The report's author is not valid."), fields={"author": _("Invalid.")})
    if author != actor.user_id:
        raise Conflict(_("This report was written on this device by another account. Sign in as that account to send it."))


async def _prepare(actor: Actor, body: dict, *, now: datetime) -> tuple[dict, dict, dict]:
    """The task, its LKS and the checked report; raises before anything is stored."""
    ensure_author(actor, body)
    task_id, checklist_id = body.get("task_id"), body.get("checklist_id")
    if not (isinstance(task_id, int) and 0 < task_id < 2**31):
        raise ValidationError(_("Choose the task of the visit."), fields={"task_id": _("Required.")})
    task = await get_task(actor, task_id)
    await ensure_can_file(actor, task)
    if task["status"] == TaskStatus.cancelled.value:
        raise Conflict(_("This task was cancelled; a report cannot be filed for it."))
    lks = await Lks.select(Lks.id, Lks.kind, Lks.latitude, Lks.longitude).where(Lks.id == task["lks"]).first()
    if not (isinstance(checklist_id, int) and 0 < checklist_id < 2**31):
        raise ValidationError(_("Choose the checklist."), fields={"checklist_id": _("Required.")})
    checklist = await get_checklist(checklist_id)
    if lks["kind"] not in checklist["lks_kinds"]:
        raise ValidationError(_("This checklist is not for this kind of LKS."), fields={"checklist_id": _("Not for this kind of LKS.")})
    return task, lks, check_report(body, checklist, now=now)


async def _insert_visit(actor: Actor, client_id: str, task: dict, lks: dict, report: dict, checklist_id: int, *, now: datetime) -> dict | None:
    """The new visit, or None when this client id was stored meanwhile."""
    async with write_transaction():
        await _lock_task(task["id"])
        if await Visit.exists().where(Visit.client_id == client_id):
            return None
        if await Visit.exists().where(Visit.task == task["id"]):
            raise Conflict(_("Another report was already filed for this task. Open it from the task instead of sending a new one."))
        visit = Visit(
            client_id=client_id, task=task["id"], lks=task["lks"], checklist=checklist_id, team=task["team"], filed_by=actor.user_id,
            status=VisitStatus.submitted.value, submitted_at=now, updated_at=now, version=1,
        )
        for column, value in _report_columns(report, lks).items():
            setattr(visit, column._meta.name, value)
        await visit.save()
        await _store_findings(visit.id, task, report["findings"], now=now)
        await _complete_task(task, report["outcome"], now=now)
        row = await _visit_row(visit.id)
        await audit.record(actor, "visit.submit", "visit", visit.id, now=now, after=_audited(row))
    return row


def _audited(row: dict) -> dict:
    """What the audit keeps of a report (signatures are images: left out)."""
    return {k: v for k, v in row.items() if k not in ("signatures",)}


async def submit(actor: Actor, body: dict, *, now: datetime) -> tuple[dict, bool]:
    """Store a report; returns (visit, created). The same client id again,
    even concurrently, returns the stored report and creates nothing."""
    client_id = body.get("client_id")
    if not valid_client_id(client_id):
        raise ValidationError(_("The client id must be 8 to 64 letters, digits or . _ : -"), fields={"client_id": _("Invalid.")})
    existing = await _visit_row(client_id=client_id)
    if existing is not None:
        return await get_visit(actor, existing["id"]), False
    task, lks, report = await _prepare(actor, body, now=now)
    try:
        row = await _insert_visit(actor, client_id, task, lks, report, body["checklist_id"], now=now)
    except Exception as exc:
        if not unique_violation(exc):
            raise
        row = None
    if row is None:
        stored = await _visit_row(client_id=client_id)
        if stored is None:
            raise Conflict(_("The report could not be stored; please send it again."))
        return await get_visit(actor, stored["id"]), False
    return row, True


async def resubmit(actor: Actor, visit_id: int, body: dict, *, now: datetime) -> dict:
    """A returned report corrected and sent again (``version`` required: a
    stale one is a conflict; the client then reads the server copy)."""
    visit = await get_visit(actor, visit_id)
    body = {**body, "task_id": visit["task"]}
    task, lks, report = await _prepare(actor, body, now=now)
    async with write_transaction():
        current = await _visit_row(visit_id)
        if body.get("version") != current["version"]:
            raise Conflict(_("This report was changed meanwhile (version %(version)s). Compare with the server copy and send again.", version=current["version"]))
        if current["status"] != VisitStatus.returned.value:
            raise Conflict(_("Only a report returned for correction can be sent again."))
        changes = _report_columns(report, lks)
        changes.update({
            Visit.checklist: body["checklist_id"], Visit.status: VisitStatus.submitted.value, Visit.updated_at: now,
            Visit.version: current["version"] + 1,
        })
        await Visit.update(changes).where(Visit.id == visit_id)
        await _store_findings(visit_id, task, report["findings"], now=now)
        after = await _visit_row(visit_id)
        await audit.record(actor, "visit.resubmit", "visit", visit_id, now=now, before=_audited(current), after=_audited(after))
    return after


# --- review --------------------------------------------------------------------------------


async def review(actor: Actor, visit_id: int, *, decision: str, comment: str, version: int | None, now: datetime) -> dict:
    """Staff approve a report or return it with a comment."""
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can review visit reports."))
    if decision not in REVIEW_DECISIONS:
        raise ValidationError(_("Choose approve or return."), fields={"decision": _("Required.")})
    comment = clean_text(comment)
    if decision == "return" and len(comment) < 5:
        raise ValidationError(
            _("Say what must be corrected (at least 5 characters): the inspector will see it."), fields={"comment": _("Required.")}
        )
    async with write_transaction():
        before = await get_visit(actor, visit_id)
        if version != before["version"]:
            raise Conflict(_("This report was changed by someone else in the meantime. Reload the page and try again."))
        if before["status"] != VisitStatus.submitted.value:
            raise Conflict(_("This report is not waiting for review."))
        missing = missing_photos(before, await photos_of(visit_id))
        if decision == "approve" and missing:
            raise Conflict(ngettext(
                "%(num)s photo of this report has not arrived yet; approve it when it has.",
                "%(num)s photos of this report have not arrived yet; approve it when they have.", len(missing), num=len(missing),
            ))
        status = VisitStatus.approved if decision == "approve" else VisitStatus.returned
        await Visit.update({
            Visit.status: status.value, Visit.review_comment: comment, Visit.reviewed_by: actor.user_id, Visit.reviewed_at: now,
            Visit.updated_at: now, Visit.version: before["version"] + 1,
        }).where(Visit.id == visit_id)
        after = await _visit_row(visit_id)
        await audit.record(actor, f"visit.{decision}", "visit", visit_id, now=now, before=_audited(before), after=_audited(after))
    return after
