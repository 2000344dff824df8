"""Task rules: who sees which task, the task life cycle (completing one may
record a finding, see ``inspections.findings.services``), when a task is
overdue, the urgent visit an incident calls for. Plain async functions taking the acting user and
``now``; every change is audited in its own transaction.

Visibility: staff see every task; inspectors and partners those of their
teams and those they lead; anyone else none (tasks include unannounced
visits)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

from piccolo.columns.combination import WhereRaw

from inspections.findings.services import add_finding, task_findings
from inspections.planning.tables import Task, TaskKind, TaskStatus, VisitOutcome
from inspections.teams.services import (
    covers,
    pick_team,
    team_leads,
    teams_covering,
    teams_of_query,
)
from registry.access import FIELD_ROLES, is_staff
from registry.risk_cache import RISK_LEVEL
from registry.tables import Lks, RegistrationStatus, StatusChange
from sigap import audit
from sigap.audit import Actor
from sigap.db import all_of, built_once, fetch, fetch_where, insert_many, is_sqlite, lock_row, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, WIB, _
from sigap.tables import Role

TASK_KIND_LABELS = {
    TaskKind.routine: N_("Routine monitoring"),
    TaskKind.registration_verification: N_("Registration field verification"),
    TaskKind.findings_follow_up: N_("Follow-up of findings"),
    TaskKind.incident_response: N_("Incident response (urgent joint visit)"),
    TaskKind.unregistered_check: N_("Check of an unregistered LKS"),
}
TASK_STATUS_LABELS = {
    TaskStatus.open: N_("Open"),
    TaskStatus.in_progress: N_("In progress"),
    TaskStatus.done: N_("Done"),
    TaskStatus.cancelled: N_("Cancelled"),
}
OUTCOME_LABELS = {
    VisitOutcome.satisfactory: N_("Satisfactory"),
    VisitOutcome.concerns: N_("Concerns found"),
    VisitOutcome.critical: N_("Critical problems"),
    VisitOutcome.not_found: N_("No LKS found at the address"),
}
HISTORY_LABELS = {
    "task.start": N_("Started"),
    "task.complete": N_("Completed"),
    "task.reschedule": N_("Rescheduled"),
    "task.cancel": N_("Cancelled"),
}

ACTIVE_STATUSES = (TaskStatus.open.value, TaskStatus.in_progress.value)  # a task still to do
_OPEN = TaskStatus.open.value
TASK_ACTIONS = ("start", "complete", "reschedule", "cancel")
INCIDENT_VISIT_HOURS = 48  # an incident's urgent joint visit is due within this
UNREGISTERED_CHECK_DAYS = 14  # an unregistered LKS is checked within this of becoming known


def today_wib(now: datetime) -> date:
    return now.astimezone(WIB).date()


def is_overdue(task: dict, now: datetime) -> bool:
    """Still to do and past due: urgent tasks carry a deadline to the hour,
    the others a day (in WIB)."""
    if task["status"] not in ACTIVE_STATUSES:
        return False
    if task.get("due_at"):
        return task["due_at"] < now
    return task["due_on"] < today_wib(now)


def overdue_condition(now: datetime):
    """:func:`is_overdue` as a query condition (lists and counts). A task
    with a deadline to the hour has ``due_on`` = its WIB date
    (:func:`incident_task`; rescheduling clears ``due_at``), so every
    overdue task has ``due_on <= today``: that range leads, on the due_on
    index (SQLite, without statistics, would otherwise walk every open task
    by the status index: ``+status`` keeps it off that one)."""
    today = today_wib(now)
    if is_sqlite():
        active = WhereRaw(f'+"inspections_task"."status" IN {tuple(ACTIVE_STATUSES)!r}')
    else:
        active = Task.status.is_in(list(ACTIVE_STATUSES))
    return (Task.due_on <= today) & active & (
        (Task.due_at.is_not_null() & (Task.due_at < now)) | (Task.due_at.is_null() & (Task.due_on < today))
    )


def can_plan(actor: Actor) -> bool:
    """May reschedule or cancel tasks: Dinas Sosial officers, not the
    partners of a joint team."""
    return actor.role != Role.partner


# --- who sees which task -------------------------------------------------------------


async def visible_task_filter(actor: Actor):
    """A Piccolo condition limiting tasks to what the actor may see, or None
    for everything. Inspectors and partners see their teams' tasks (and any
    they lead); managers see none."""
    if is_staff(actor):
        return None
    if actor.role in FIELD_ROLES:
        if actor.user_id is None:
            return Task.lead.is_null()
        # As text, their teams read in the same statement: Piccolo conditions
        # on a foreign key cost more to build than the read takes.
        return WhereRaw(
            '("inspections_task"."lead" = {} OR "inspections_task"."team" IN ({}))', actor.user_id, teams_of_query(actor.user_id)
        )
    raise Forbidden(_("Your role does not allow this action."))


def _task_query():
    return Task.select(*Task.all_columns(), Task.lks.name.as_alias("lks_name"), Task.team.name.as_alias("team_name"))


async def read_task(actor: Actor, task_id: int, name: str, build) -> dict:
    """The task, if ``actor`` may see it, with the columns of ``build()``
    (a ``Task.select`` of columns and joins, built once under ``name``)."""
    condition = await visible_task_filter(actor)
    condition = Task.id == task_id if condition is None else (Task.id == task_id) & condition
    rows = await fetch_where(built_once(name, build), condition, " LIMIT 1")
    if not rows:
        raise NotFound(_("Task not found."))
    return rows[0]


async def get_task(actor: Actor, task_id: int) -> dict:
    return await read_task(actor, task_id, "inspections.get_task", _task_query)


def public_task(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("unique_key",)}


def _task_list_query():
    return Task.select(
        *Task.all_columns(exclude=[Task.unique_key]),
        Task.lks.name.as_alias("lks_name"),
        Task.lks.kecamatan_code.as_alias("kecamatan_code"),
        Task.lks.kelurahan_code.as_alias("kelurahan_code"),
        Task.team.name.as_alias("team_name"),
        Task.lead.full_name.as_alias("lead_full_name"),
        Task.lead.username.as_alias("lead_username"),
    )


async def search_tasks(
    actor: Actor, *, lks_id: int | None = None, statuses: list[str] | None = None, team_id: int | None = None,
    kind: str | None = None, kecamatan: str | None = None, mine: bool = False, due_from: date | None = None,
    due_to: date | None = None, overdue_at: datetime | None = None, limit: int = 200,
) -> list[dict]:
    """Tasks the actor may see (visible_task_filter), filtered, earliest due
    first, with the LKS, team and lead names."""
    conditions = [c for c in [await visible_task_filter(actor)] if c is not None]
    if lks_id is not None:
        conditions.append(Task.lks == lks_id)
    if statuses:
        conditions.append(Task.status.is_in(list(statuses)))
    if team_id is not None:
        conditions.append(Task.team == team_id)
    if kind:
        conditions.append(Task.kind == kind)
    if kecamatan:
        conditions.append(Task.lks.kecamatan_code == kecamatan)
    if mine:
        conditions.append(Task.lead == actor.user_id)
    if due_from is not None:
        conditions.append(Task.due_on >= due_from)
    if due_to is not None:
        conditions.append(Task.due_on <= due_to)
    if overdue_at is not None:  # only those overdue at that instant
        conditions.append(overdue_condition(overdue_at))
    condition = all_of(conditions)
    # The task list, calendar and API read this on every view: its columns
    # and joins are built once (Piccolo took milliseconds each time).
    rows = await fetch_where(
        built_once("inspections.search_tasks", _task_list_query), condition,
        ' ORDER BY "inspections_task"."due_on", "inspections_task"."id" LIMIT {}', limit,
    )
    for row in rows:
        full_name, username = row.pop("lead_full_name"), row.pop("lead_username")
        row["lead_name"] = full_name or username or ""
    return rows


async def tasks_due_in(actor: Actor, ranges: list[tuple[date | None, date | None, int]], *, statuses: list[str]) -> list[list[dict]]:
    """:func:`search_tasks` for several due ranges in one statement: per
    ``(due_from, due_to, limit)``, the tasks the actor may see with one of
    ``statuses`` due in that range (bounds included), earliest due first, at
    most ``limit`` (a UNION ALL of the same prebuilt list query)."""
    visible = await visible_task_filter(actor)
    base = built_once("inspections.search_tasks", _task_list_query)
    statuses_sql = ", ".join("{}" for _ in statuses)
    parts, args = [], []
    for i, (due_from, due_to, limit) in enumerate(ranges):
        # Plain text for the ranges: Piccolo conditions cost more to build than to run.
        where = f'"inspections_task"."status" IN ({statuses_sql})'
        args += [*statuses]
        if visible is not None:
            where += " AND {}"
            args.append(visible.querystring)
        if due_from is not None:
            where += ' AND "inspections_task"."due_on" >= {}'
            args.append(due_from)
        if due_to is not None:
            where += ' AND "inspections_task"."due_on" <= {}'
            args.append(due_to)
        parts.append(
            f'SELECT {i} AS "due_range", r{i}.* FROM ({base} WHERE {where}'
            f' ORDER BY "inspections_task"."due_on", "inspections_task"."id" LIMIT {{}}) r{i}'
        )
        args.append(limit)
    out: list[list[dict]] = [[] for _ in ranges]
    for row in await fetch(" UNION ALL ".join(parts), *args):
        full_name, username = row.pop("lead_full_name"), row.pop("lead_username")
        row["lead_name"] = full_name or username or ""
        out[row.pop("due_range")].append(row)
    for rows in out:  # UNION ALL keeps no order
        rows.sort(key=lambda r: (r["due_on"], r["id"]))
    return out


def with_overdue(rows: list[dict], now: datetime) -> list[dict]:
    for row in rows:
        row["overdue"] = is_overdue(row, now)
    return rows


def _task_detail_query():
    # get_task's columns, plus where the LKS is and the lead's name (one statement, not three).
    return Task.select(
        *Task.all_columns(), Task.lks.name.as_alias("lks_name"), Task.team.name.as_alias("team_name"),
        Task.lks.address.as_alias("lks_address"), Task.lks.kelurahan_code.as_alias("lks_kelurahan_code"),
        Task.lks.kecamatan_code.as_alias("lks_kecamatan_code"),
        Task.lead.full_name.as_alias("lead_full_name"), Task.lead.username.as_alias("lead_username"),
    )


async def task_detail(actor: Actor, task_id: int, *, now: datetime) -> dict:
    """What the task page shows: the task, where its LKS is, the lead's
    name, its findings and its history."""
    task = await read_task(actor, task_id, "inspections.task_detail", _task_detail_query)
    lks = {"address": task.pop("lks_address"), "kelurahan_code": task.pop("lks_kelurahan_code"),
           "kecamatan_code": task.pop("lks_kecamatan_code")}
    full_name, username = task.pop("lead_full_name"), task.pop("lead_username")
    lead_name = (full_name or username or "") if task["lead"] else ""
    task["overdue"] = is_overdue(task, now)
    events = await audit.search(audit.AuditFilter(entity_type="task", entity_id=str(task_id)), limit=50)
    return {
        "task": task, "lks": lks if task["lks_name"] is not None else None, "lead_name": lead_name,
        "findings": await task_findings(task_id), "history": _history(events),
    }


def _history(events: list[dict]) -> list[dict]:
    out = []
    for event in events:
        if event["action"] not in HISTORY_LABELS:
            continue
        after = event.get("after") or {}
        label = HISTORY_LABELS[event["action"]]
        new_date = after.get("due_on") if event["action"] == "task.reschedule" else None
        out.append({
            "at": event["at"], "actor": event["actor_username"], "label": _(label),
            "reason": after.get("reason") if event["action"] in ("task.reschedule", "task.cancel") else "",
            "due_on": date.fromisoformat(new_date) if isinstance(new_date, str) else None,
        })
    return out


async def monitoring_lks(actor: Actor, lks_id: int) -> dict:
    """The LKS, if the actor may see its monitoring page: staff always; an
    inspector or partner when one of their teams covers its area or they
    can see one of its tasks; anyone else never (its tasks include
    unannounced visits). Another LKS is "not found", not "forbidden"."""
    if not (is_staff(actor) or actor.role in FIELD_ROLES):
        raise Forbidden(_("Your role does not allow this action."))
    lks = await Lks.select(
        Lks.id, Lks.name, Lks.kind, Lks.address, Lks.rt, Lks.rw, Lks.kelurahan_code, Lks.kecamatan_code,
        Lks.registration_status, Lks.accreditation_status, Lks.accreditation_grade, RISK_LEVEL, Lks.open_incident,
        Lks.capacity, Lks.residents_total,
    ).where(Lks.id == lks_id).first()
    if lks is None:
        raise NotFound(_("LKS not found."))
    if is_staff(actor) or await covers(actor.user_id, lks["kelurahan_code"], lks["kecamatan_code"]):
        return lks
    condition = await visible_task_filter(actor)
    if await Task.exists().where((Task.lks == lks_id) & condition):
        return lks
    raise NotFound(_("LKS not found."))


# --- new tasks ------------------------------------------------------------------------

TASK_INSERT_COLUMNS = (
    "lks", "kind", "status", "team", "lead", "due_on", "due_at", "unannounced", "incident", "finding", "reason",
    "outcome", "notes", "unique_key", "created_at", "updated_at", "done_at", "version",
)


def new_task(
    lks: dict, kind: TaskKind, due_on: date, key: str, *, teams: list[dict], leads: dict[int, int], now: datetime,
    unannounced: bool = False, due_at: datetime | None = None, team_of=None, **extra,
) -> dict:
    """An open task for ``lks`` (a row with its kelurahan and kecamatan
    codes), assigned to the most specific team covering it and its lead.
    ``team_of(kelurahan, kecamatan)``, when given, replaces ``pick_team``
    (the plan job passes a memo of it: 100,000 LKS, a few hundred areas)."""
    team = (team_of or partial(pick_team, teams))(lks["kelurahan_code"], lks["kecamatan_code"])
    return {
        "lks": lks["id"], "kind": kind.value, "status": _OPEN,
        "team": team["id"] if team else None, "lead": leads.get(team["id"]) if team else None,
        "due_on": due_on, "due_at": due_at, "unannounced": unannounced, "unique_key": key,
        "created_at": now, "updated_at": now, **extra,
    }


def incident_task(incident: dict, lks: dict, *, teams: list[dict], leads: dict[int, int], now: datetime) -> dict:
    """The urgent, unannounced joint visit an incident calls for, due within
    ``INCIDENT_VISIT_HOURS`` of its recording (one per incident)."""
    due_at = incident["recorded_at"] + timedelta(hours=INCIDENT_VISIT_HOURS)
    return new_task(
        lks, TaskKind.incident_response, today_wib(due_at), f"incident:{incident['id']}", teams=teams, leads=leads, now=now,
        unannounced=True, due_at=due_at, incident=incident["id"],
    )


async def unregistered_since() -> dict[int, datetime]:
    """lks id → when it last became unregistered (the 14 days count from
    then; an LKS known as unregistered from the start counts from its
    creation)."""
    since: dict[int, datetime] = {}
    for r in await StatusChange.select(StatusChange.lks, StatusChange.at).where(
        StatusChange.to_status == RegistrationStatus.unregistered.value
    ):
        if r["lks"] not in since or r["at"] > since[r["lks"]]:
            since[r["lks"]] = r["at"]
    return since


async def insert_tasks(rows: list[dict]) -> int:
    """Insert-or-ignore by unique key (several planners may race); returns
    how many were new."""
    if not rows:
        return 0
    columns = [getattr(Task, name) for name in TASK_INSERT_COLUMNS]
    defaults = {"due_at": None, "incident": None, "finding": None, "reason": "", "notes": "", "outcome": None, "done_at": None, "version": 1}
    names = TASK_INSERT_COLUMNS
    values = []
    for row in rows:
        merged = {**defaults, **row}  # once per row (not once per column)
        values.append(tuple([merged[name] for name in names]))
    created = await insert_many(Task, columns, values, conflict=Task.unique_key, returning=Task.id)
    return len(created)


async def create_incident_task(incident: dict, lks: dict, *, now: datetime) -> None:
    """The urgent joint visit of a just recorded incident."""
    await insert_tasks([incident_task(incident, lks, teams=await teams_covering(), leads=await team_leads(), now=now)])


# --- the task life cycle -----------------------------------------------------------------


async def act_on_task(
    actor: Actor, task_id: int, action: str, *, now: datetime, version: int | None = None, reason: str = "",
    due_on: date | None = None, outcome: str | None = None, notes: str = "", finding: dict | None = None,
) -> dict:
    """start / complete (with an outcome, maybe a finding) / reschedule (new
    date and a reason) / cancel (a reason). Staff and the task's team may act."""
    if action not in TASK_ACTIONS:
        raise ValidationError(_("Unknown action."))
    if action in ("reschedule", "cancel") and not can_plan(actor):
        raise Forbidden(_("Only Dinas Sosial officers can reschedule or cancel a task."))
    reason = " ".join((reason or "").split())[:1000]
    async with write_transaction():
        await lock_row(Task, task_id)  # two people acting on one task: the second sees the first's result
        before = await get_task(actor, task_id)
        if version is not None and before["version"] != version:
            raise Conflict(_("This task was changed by someone else in the meantime. Reload the page and try again."))
        status = TaskStatus(before["status"])
        if status in (TaskStatus.done, TaskStatus.cancelled):
            raise Conflict(_("This task is already closed."))
        changes: dict = {Task.version: before["version"] + 1, Task.updated_at: now}
        if action == "start":
            changes[Task.status] = TaskStatus.in_progress.value
        elif action == "complete":
            if outcome not in VisitOutcome.__members__:
                raise ValidationError(_("Record the outcome of the visit."), fields={"outcome": _("Required.")})
            changes.update({Task.status: TaskStatus.done.value, Task.outcome: outcome, Task.notes: notes[:5000], Task.done_at: now})
        elif action == "reschedule":
            errors = {}
            if due_on is None:
                errors["due_on"] = _("Choose the new date.")
            elif due_on < today_wib(now):
                errors["due_on"] = _("The new date cannot be in the past.")
            if len(reason) < 5:
                errors["reason"] = _("Give a reason (at least 5 characters).")
            if errors:
                raise ValidationError(_("Please correct the marked fields."), fields=errors)
            changes.update({Task.due_on: due_on, Task.due_at: None, Task.reason: reason})
        elif action == "cancel":
            if len(reason) < 5:
                raise ValidationError(_("Give a reason (at least 5 characters)."), fields={"reason": _("Required.")})
            changes.update({Task.status: TaskStatus.cancelled.value, Task.reason: reason})
        await Task.update(changes).where(Task.id == task_id)
        if action == "complete" and finding:
            await add_finding(before, finding, now=now)
        after = await get_task(actor, task_id)
        await audit.record(actor, f"task.{action}", "task", task_id, now=now, before=public_task(before), after=public_task(after))
    return after


async def start_unregistered_check(actor: Actor, lks: dict, now: datetime) -> None:
    """An LKS known as unregistered was reported again: its check, due in
    ``UNREGISTERED_CHECK_DAYS``, starts now unless one is still to do (the
    plan job counts it as the check since the LKS became unregistered, so it
    adds no second one)."""
    open_check = await Task.exists().where(
        (Task.lks == lks["id"]) & (Task.kind == TaskKind.unregistered_check.value) & Task.status.is_in(list(ACTIVE_STATUSES))
    )
    if open_check:
        return
    today = today_wib(now)
    await insert_tasks([new_task(
        lks, TaskKind.unregistered_check, today + timedelta(days=UNREGISTERED_CHECK_DAYS),
        f"unregistered:{lks['id']}:reported:{today.isoformat()}", teams=await teams_covering(), leads=await team_leads(), now=now,
    )])
