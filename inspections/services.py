"""Joint monitoring rules: teams, who sees which task, task life cycle,
findings and incidents. Plain async functions taking the acting user and
``now``; every change is audited in its own transaction."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

from inspections.tables import (
    Agency,
    Finding,
    FindingSeverity,
    Incident,
    IncidentAction,
    IncidentActionKind,
    IncidentCategory,
    IncidentSource,
    Referral,
    Severity,
    Task,
    TaskKind,
    TaskStatus,
    Team,
    TeamMember,
    VisitOutcome,
)
from registry.tables import Lks
from sigap import audit
from sigap.audit import Actor
from sigap.db import insert_many, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, WIB, _, choice_label
from sigap.tables import Role, User

STAFF_ROLES = frozenset({Role.admin, Role.staff})
FIELD_ROLES = frozenset({Role.inspector, Role.partner})
INCIDENT_VISIT_HOURS = 48

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
AGENCY_LABELS = {
    Agency.dinsos: N_("Dinas Sosial"),
    Agency.satpol_pp: N_("Satpol PP"),
    Agency.kecamatan: N_("Kecamatan"),
    Agency.kelurahan: N_("Kelurahan"),
    Agency.rt_rw: N_("RT/RW"),
    Agency.puskesmas: N_("Puskesmas"),
    Agency.police: N_("Police"),
    Agency.other: N_("Other"),
}
SOURCE_LABELS = {
    IncidentSource.public_complaint: N_("Public complaint"),
    IncidentSource.police: N_("Police"),
    IncidentSource.kpai: N_("KPAI"),
    IncidentSource.media: N_("Media"),
    IncidentSource.visit_finding: N_("Visit finding"),
    IncidentSource.lks_itself: N_("The LKS itself"),
}
CATEGORY_LABELS = {
    IncidentCategory.physical_abuse: N_("Physical abuse"),
    IncidentCategory.sexual_abuse: N_("Sexual abuse"),
    IncidentCategory.psychological_abuse: N_("Psychological abuse"),
    IncidentCategory.neglect: N_("Neglect"),
    IncidentCategory.exploitation: N_("Exploitation"),
    IncidentCategory.unsafe_premises: N_("Unsafe premises"),
    IncidentCategory.unregistered_operation: N_("Unregistered operation"),
    IncidentCategory.other: N_("Other"),
}
SEVERITY_LABELS = {
    Severity.low: N_("Low"),
    Severity.medium: N_("Medium"),
    Severity.high: N_("High"),
    Severity.critical: N_("Critical"),
}
REFERRAL_LABELS = {
    Referral.uptd_ppa: N_("UPTD PPA"),
    Referral.police: N_("Police"),
    Referral.dp3ap2kb: N_("DP3AP2KB"),
    Referral.dinkes: N_("Dinas Kesehatan"),
    Referral.disdukcapil: N_("Disdukcapil"),
}
ACTION_LABELS = {
    IncidentActionKind.children_moved: N_("Children moved to the RPS"),
    IncidentActionKind.referral: N_("Referral"),
    IncidentActionKind.admissions_suspended: N_("Admissions suspended"),
    IncidentActionKind.registration_suspended: N_("Registration suspended"),
    IncidentActionKind.note: N_("Note"),
}


label = choice_label


def is_staff(actor: Actor) -> bool:
    return actor.role in STAFF_ROLES


def today_wib(now: datetime) -> date:
    return now.astimezone(WIB).date()


# --- teams -------------------------------------------------------------------


async def team_ids_of(user_id: int | None) -> list[int]:
    if user_id is None:
        return []
    rows = await TeamMember.select(TeamMember.team).where(TeamMember.user == user_id)
    return sorted({r["team"] for r in rows})


async def teams_covering() -> list[dict]:
    """Active teams, most specific area first (longest code)."""
    rows = await Team.select().where(Team.active == True)  # noqa: E712
    return sorted(rows, key=lambda t: (-len(t["area_code"]), t["id"]))


def pick_team(teams: list[dict], kelurahan_code: str, kecamatan_code: str) -> dict | None:
    for team in teams:
        code = team["area_code"]
        if kelurahan_code == code or kelurahan_code.startswith(code + ".") or kecamatan_code == code:
            return team
    return None


async def team_leads() -> dict[int, int]:
    """team id → the user id of its lead (first lead with an account)."""
    rows = await TeamMember.select(TeamMember.team, TeamMember.user, TeamMember.is_lead, TeamMember.id).where(
        TeamMember.user.is_not_null()
    ).order_by(TeamMember.id)
    leads: dict[int, int] = {}
    for row in rows:
        if row["is_lead"] and row["team"] not in leads:
            leads[row["team"]] = row["user"]
    for row in rows:  # no lead named: the first member with an account
        leads.setdefault(row["team"], row["user"])
    return leads


async def create_team(actor: Actor, *, name: str, area_code: str, now: datetime) -> dict:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can manage teams."))
    name = " ".join((name or "").split())
    errors = {}
    if not 3 <= len(name) <= 120:
        errors["name"] = _("Give the team a name (3 to 120 characters).")
    from registry.tables import Region

    if not area_code or not await Region.exists().where(Region.code == area_code):
        errors["area_code"] = _("Choose the area the team covers.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        team = Team(name=name, area_code=area_code, active=True, created_at=now)
        await team.save()
        row = await Team.select().where(Team.id == team.id).first()
        await audit.record(actor, "team.create", "team", team.id, now=now, after=row)
    return row


async def add_member(
    actor: Actor, team_id: int, *, agency: str, now: datetime, user_id: int | None = None, name: str = "",
    phone: str = "", is_lead: bool = False,
) -> dict:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can manage teams."))
    if not await Team.exists().where(Team.id == team_id):
        raise NotFound(_("Team not found."))
    errors = {}
    if agency not in Agency.__members__:
        errors["agency"] = _("Choose the member's agency.")
    if not re.fullmatch(r"\+?[0-9 ()\-]{0,20}", phone.strip()):
        errors["phone"] = _("Write the phone number with digits only (at most 20).")
    if user_id is not None:
        user = await User.select(User.role, User.is_active).where(User.id == user_id).first()
        if user is None or user["role"] not in (Role.inspector.value, Role.partner.value, Role.staff.value):
            errors["user_id"] = _("Choose an inspector, partner or staff account.")
    elif not 3 <= len(" ".join(name.split())) <= 200:
        errors["name"] = _("Give the name of a member without an account.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        if user_id is not None and await TeamMember.exists().where((TeamMember.team == team_id) & (TeamMember.user == user_id)):
            raise Conflict(_("This account is already in the team."))
        member = TeamMember(team=team_id, user=user_id, name=" ".join(name.split()), agency=agency, phone=phone.strip(), is_lead=is_lead)
        await member.save()
        row = await TeamMember.select().where(TeamMember.id == member.id).first()
        await audit.record(actor, "team.member_add", "team", team_id, now=now, after=row)
    return row


async def remove_member(actor: Actor, team_id: int, member_id: int, *, now: datetime) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can manage teams."))
    async with write_transaction():
        row = await TeamMember.select().where((TeamMember.id == member_id) & (TeamMember.team == team_id)).first()
        if row is None:
            raise NotFound(_("Team member not found."))
        await TeamMember.delete().where(TeamMember.id == member_id)
        await audit.record(actor, "team.member_remove", "team", row["team"], now=now, before=row)


# --- tasks -------------------------------------------------------------------


async def visible_task_filter(actor: Actor):
    """A Piccolo condition limiting tasks to what the actor may see, or None
    for everything. Inspectors and partners see their teams' tasks (and any
    they lead); managers see none."""
    if is_staff(actor):
        return None
    if actor.role in FIELD_ROLES:
        teams = await team_ids_of(actor.user_id)
        condition = Task.lead == actor.user_id
        if teams:
            condition = condition | Task.team.is_in(teams)
        return condition
    raise Forbidden(_("Your role does not allow this action."))


async def get_task(actor: Actor, task_id: int) -> dict:
    condition = await visible_task_filter(actor)
    query = Task.select(*Task.all_columns(), Task.lks.name.as_alias("lks_name"), Task.team.name.as_alias("team_name")).where(
        Task.id == task_id
    )
    if condition is not None:
        query = query.where(condition)
    row = await query.first()
    if row is None:
        raise NotFound(_("Task not found."))
    return row


def public_task(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("unique_key",)}


async def insert_tasks(rows: list[dict]) -> int:
    """Insert-or-ignore by unique key (several planners may race); returns
    how many were new."""
    if not rows:
        return 0
    columns = [getattr(Task, name) for name in TASK_INSERT_COLUMNS]
    defaults = {"due_at": None, "incident": None, "finding": None, "reason": "", "notes": "", "outcome": None, "done_at": None, "version": 1}
    values = [tuple({**defaults, **row}[name] for name in TASK_INSERT_COLUMNS) for row in rows]
    created = await insert_many(Task, columns, values, conflict=Task.unique_key, returning=Task.id)
    return len(created)


TASK_INSERT_COLUMNS = (
    "lks", "kind", "status", "team", "lead", "due_on", "due_at", "unannounced", "incident", "finding", "reason",
    "outcome", "notes", "unique_key", "created_at", "updated_at", "done_at", "version",
)


async def create_incident_task(incident: dict, lks: dict, *, now: datetime) -> None:
    """The urgent joint visit an incident needs, due within 48 hours."""
    teams = await teams_covering()
    team = pick_team(teams, lks["kelurahan_code"], lks["kecamatan_code"])
    leads = await team_leads()
    due_at = now + timedelta(hours=INCIDENT_VISIT_HOURS)
    await insert_tasks(
        [
            {
                "lks": lks["id"], "kind": TaskKind.incident_response.value, "status": TaskStatus.open.value,
                "team": team["id"] if team else None, "lead": leads.get(team["id"]) if team else None,
                "due_on": today_wib(due_at), "due_at": due_at, "unannounced": True, "incident": incident["id"],
                "unique_key": f"incident:{incident['id']}", "created_at": now, "updated_at": now,
            }
        ]
    )


TASK_ACTIONS = ("start", "complete", "reschedule", "cancel")


async def act_on_task(
    actor: Actor, task_id: int, action: str, *, now: datetime, version: int | None = None, reason: str = "",
    due_on: date | None = None, outcome: str | None = None, notes: str = "", finding: dict | None = None,
) -> dict:
    """start / complete (with an outcome, maybe a finding) / reschedule (new
    date and a reason) / cancel (a reason). Staff and the task's team may act."""
    if action not in TASK_ACTIONS:
        raise ValidationError(_("Unknown action."))
    if actor.role == Role.partner and action in ("reschedule", "cancel"):
        raise Forbidden(_("Only Dinas Sosial officers can reschedule or cancel a task."))
    reason = " ".join((reason or "").split())[:1000]
    async with write_transaction():
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
            await _add_finding(before, finding, now=now)
        after = await get_task(actor, task_id)
        await audit.record(actor, f"task.{action}", "task", task_id, now=now, before=public_task(before), after=public_task(after))
    return after


async def _add_finding(task: dict, data: dict, *, now: datetime) -> None:
    severity = data.get("severity")
    description = " ".join(str(data.get("description") or "").split())
    due = data.get("due_on")
    errors = {}
    if severity not in FindingSeverity.__members__:
        errors["finding_severity"] = _("Choose how serious the finding is.")
    if len(description) < 5:
        errors["finding_description"] = _("Describe the finding (at least 5 characters).")
    if not isinstance(due, date) or due < today_wib(now):
        errors["finding_due_on"] = _("Give the date by which it must be corrected.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    await Finding.insert(
        Finding(lks=task["lks"], task=task["id"], severity=severity, description=description, due_on=due, status="open", created_at=now)
    )


async def close_finding(actor: Actor, finding_id: int, *, now: datetime) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can close a finding."))
    async with write_transaction():
        row = await Finding.select().where(Finding.id == finding_id).first()
        if row is None:
            raise NotFound(_("Finding not found."))
        await Finding.update({Finding.status: "closed", Finding.closed_at: now}).where(Finding.id == finding_id)
        await audit.record(actor, "finding.close", "finding", finding_id, now=now)


async def findings_of(lks_id: int, *, open_only: bool = True) -> list[dict]:
    query = Finding.select().where(Finding.lks == lks_id).order_by(Finding.due_on)
    if open_only:
        query = query.where(Finding.status == "open")
    return await query


# --- incidents -----------------------------------------------------------------


def _incident_summary(row: dict) -> dict:
    """What an audit row may hold about an incident: never the description."""
    return {k: row.get(k) for k in ("lks", "source", "category", "severity", "occurred_on", "status")}


async def record_incident(
    actor: Actor, *, lks_id: int, source: str, category: str, severity: str, occurred_on: date | str | None,
    description: str, now: datetime,
) -> dict:
    """Record an incident: the LKS is flagged at once and the urgent joint
    visit task is created in the same breath."""
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can record an incident."))
    errors = {}
    if source not in IncidentSource.__members__:
        errors["source"] = _("Choose where the report came from.")
    if category not in IncidentCategory.__members__:
        errors["category"] = _("Choose the category.")
    if severity not in Severity.__members__:
        errors["severity"] = _("Choose the severity.")
    if isinstance(occurred_on, str):
        try:
            occurred_on = date.fromisoformat(occurred_on)
        except ValueError:
            occurred_on = None
    if not isinstance(occurred_on, date):
        errors["occurred_on"] = _("Dates must be written as YYYY-MM-DD.")
    elif occurred_on > today_wib(now):
        errors["occurred_on"] = _("The date cannot be in the future.")
    description = (description or "").strip()
    if len(description) < 10:
        errors["description"] = _("Describe what happened (at least 10 characters).")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        lks = await Lks.select().where(Lks.id == lks_id).first()
        if lks is None:
            raise NotFound(_("LKS not found."))
        incident = Incident(
            lks=lks_id, source=source, category=category, severity=severity, occurred_on=occurred_on,
            description=description[:20000], status="open", recorded_by=actor.user_id, recorded_at=now,
        )
        await incident.save()
        row = await Incident.select().where(Incident.id == incident.id).first()
        await Lks.update({Lks.open_incident: True, Lks.risk_level: "high", Lks.updated_at: now}).where(Lks.id == lks_id)
        await create_incident_task(row, lks, now=now)
        await audit.record(actor, "incident.create", "incident", incident.id, now=now, after=_incident_summary(row))
    from inspections import risk

    await risk.assess([lks_id], now=now)
    return row


async def get_incident(actor: Actor, incident_id: int, *, now: datetime) -> dict:
    """The incident with its restricted description: staff and admins only;
    every read is audited."""
    if not is_staff(actor):
        raise NotFound(_("Incident not found."))
    row = await Incident.select(*Incident.all_columns(), Incident.lks.name.as_alias("lks_name")).where(Incident.id == incident_id).first()
    if row is None:
        raise NotFound(_("Incident not found."))
    await audit.record(actor, "incident.view", "incident", incident_id, now=now)
    return row


async def list_incidents(actor: Actor, *, lks_id: int | None = None, status: str | None = None) -> list[dict]:
    """Incidents without their descriptions (lists are not audited reads)."""
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))
    query = Incident.select(
        Incident.id, Incident.lks, Incident.lks.name.as_alias("lks_name"), Incident.source, Incident.category,
        Incident.severity, Incident.occurred_on, Incident.status, Incident.recorded_at, Incident.closed_at,
    ).order_by(Incident.recorded_at, ascending=False)
    if lks_id is not None:
        query = query.where(Incident.lks == lks_id)
    if status:
        query = query.where(Incident.status == status)
    return await query


async def incident_actions(actor: Actor, incident_id: int) -> list[dict]:
    if not is_staff(actor):
        raise NotFound(_("Incident not found."))
    return await IncidentAction.select(*IncidentAction.all_columns(), IncidentAction.actor.username.as_alias("actor_name")).where(
        IncidentAction.incident == incident_id
    ).order_by(IncidentAction.at)


async def add_incident_action(
    actor: Actor, incident_id: int, *, kind: str, now: datetime, count: int | None = None, referral: str | None = None,
    note: str = "",
) -> dict:
    if not is_staff(actor):
        raise NotFound(_("Incident not found."))
    errors = {}
    if kind not in IncidentActionKind.__members__:
        errors["kind"] = _("Choose the action.")
    if kind == IncidentActionKind.children_moved.value and (count is None or count < 1):
        errors["count"] = _("How many children were moved (a number, never names)?")
    if kind == IncidentActionKind.referral.value and referral not in Referral.__members__:
        errors["referral"] = _("Choose where the case was referred.")
    if kind == IncidentActionKind.note.value and len(" ".join((note or "").split())) < 5:
        errors["note"] = _("Write the note (at least 5 characters).")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        incident = await Incident.select().where(Incident.id == incident_id).first()
        if incident is None:
            raise NotFound(_("Incident not found."))
        if incident["status"] != "open":
            raise Conflict(_("This incident is closed."))
        action = IncidentAction(
            incident=incident_id, kind=kind, count=count if kind == IncidentActionKind.children_moved.value else None,
            referral=referral if kind == IncidentActionKind.referral.value else None, note=" ".join(note.split())[:2000],
            at=now, actor=actor.user_id,
        )
        await action.save()
        await audit.record(
            actor, "incident.action", "incident", incident_id, now=now,
            after={"kind": kind, "count": action.count, "referral": action.referral},
        )
    if kind == IncidentActionKind.registration_suspended.value:
        from registry import services as registry_services

        lks = await Lks.select(Lks.registration_status).where(Lks.id == incident["lks"]).first()
        if lks and lks["registration_status"] == "registered":
            await registry_services.transition(
                actor, incident["lks"], "suspend", reason=_("Suspended while an incident is handled."), now=now
            )
    return await IncidentAction.select().where(IncidentAction.id == action.id).first()


async def close_incident(actor: Actor, incident_id: int, *, outcome: str, now: datetime) -> dict:
    if not is_staff(actor):
        raise NotFound(_("Incident not found."))
    outcome = (outcome or "").strip()
    if len(outcome) < 10:
        raise ValidationError(_("Describe the outcome (at least 10 characters)."), fields={"outcome": _("Required.")})
    async with write_transaction():
        incident = await Incident.select().where(Incident.id == incident_id).first()
        if incident is None:
            raise NotFound(_("Incident not found."))
        if incident["status"] != "open":
            raise Conflict(_("This incident is closed."))
        await Incident.update(
            {Incident.status: "closed", Incident.outcome: outcome[:5000], Incident.closed_at: now, Incident.version: incident["version"] + 1}
        ).where(Incident.id == incident_id)
        still_open = await Incident.exists().where((Incident.lks == incident["lks"]) & (Incident.status == "open"))
        if not still_open:
            await Lks.update({Lks.open_incident: False, Lks.updated_at: now}).where(Lks.id == incident["lks"])
        await audit.record(actor, "incident.close", "incident", incident_id, now=now, before=_incident_summary(incident),
                           after={**_incident_summary(incident), "status": "closed"})
    from inspections import risk

    await risk.assess([incident["lks"]], now=now)
    return await Incident.select().where(Incident.id == incident_id).first()


def dumps(value) -> str:
    return json.dumps(value, default=str)
