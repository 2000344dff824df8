"""Incident rules: only Dinas Sosial staff record, read and handle
incidents; the description is restricted (every read audited, never in a
list, a log or an e-mail); recording one flags the LKS and creates the
urgent joint visit at once. Plain async functions taking the acting user
and ``now``; every change is audited."""

from __future__ import annotations

from datetime import date, datetime

from inspections.incidents.tables import (
    Incident,
    IncidentAction,
    IncidentActionKind,
    IncidentCategory,
    IncidentSource,
    Referral,
    Severity,
)
from inspections.planning import risk
from inspections.planning.services import create_incident_task, today_wib
from inspections.planning.tables import Task, TaskKind
from registry import workflow as registry_services
from registry.access import is_staff
from registry.risk_cache import set_level
from registry.tables import Lks
from sigap import audit
from sigap.audit import Actor
from sigap.db import lock_row, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, _

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
STATUS_LABELS = {"open": N_("Open"), "closed": N_("Closed")}
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


def _staff_only(actor: Actor) -> None:
    """Anyone else is told the incident does not exist."""
    if not is_staff(actor):
        raise NotFound(_("Incident not found."))


def _summary(row: dict) -> dict:
    """What an audit row may hold about an incident: never the description."""
    return {k: row.get(k) for k in ("lks", "source", "category", "severity", "occurred_on", "status")}


async def _open_incident(incident_id: int) -> dict:
    incident = await Incident.select().where(Incident.id == incident_id).first()
    if incident is None:
        raise NotFound(_("Incident not found."))
    if incident["status"] != "open":
        raise Conflict(_("This incident is closed."))
    return incident


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
        await Lks.update({Lks.open_incident: True, Lks.updated_at: now}).where(Lks.id == lks_id)
        await set_level(lks_id, "high")
        await create_incident_task(row, lks, now=now)
        await audit.record(actor, "incident.create", "incident", incident.id, now=now, after=_summary(row))
    await risk.assess([lks_id], now=now)
    return row


async def response_task_id(incident_id: int) -> int | None:
    """The urgent joint visit created for the incident."""
    task = await Task.select(Task.id).where((Task.incident == incident_id) & (Task.kind == TaskKind.incident_response.value)).first()
    return task["id"] if task else None


async def get_incident(actor: Actor, incident_id: int, *, now: datetime) -> dict:
    """The incident with its restricted description: staff and admins only;
    every read is audited."""
    _staff_only(actor)
    row = await Incident.select(*Incident.all_columns(), Incident.lks.name.as_alias("lks_name")).where(Incident.id == incident_id).first()
    if row is None:
        raise NotFound(_("Incident not found."))
    await audit.record(actor, "incident.view", "incident", incident_id, now=now)
    return row


async def list_incidents(
    actor: Actor, *, lks_id: int | None = None, status: str | None = None, kecamatan: str | None = None,
    category: str | None = None, year: int | None = None,
) -> list[dict]:
    """Incidents without their descriptions (lists are not audited reads);
    ``year``: the year it occurred."""
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
    if kecamatan:
        query = query.where(Incident.lks.kecamatan_code == kecamatan)
    if category:
        query = query.where(Incident.category == category)
    if year is not None:
        query = query.where((Incident.occurred_on >= date(year, 1, 1)) & (Incident.occurred_on < date(year + 1, 1, 1)))
    return await query


async def incident_actions(actor: Actor, incident_id: int) -> list[dict]:
    _staff_only(actor)
    return await IncidentAction.select(*IncidentAction.all_columns(), IncidentAction.actor.username.as_alias("actor_name")).where(
        IncidentAction.incident == incident_id
    ).order_by(IncidentAction.at)


async def incident_tasks(actor: Actor, incident_id: int) -> list[dict]:
    """The visits answering an incident (staff only, like the incident)."""
    _staff_only(actor)
    return await Task.select(
        Task.id, Task.status, Task.due_on, Task.due_at, Task.team, Task.lead, Task.team.name.as_alias("team_name"), Task.outcome,
        Task.done_at,
    ).where(Task.incident == incident_id).order_by(Task.id)


async def add_incident_action(
    actor: Actor, incident_id: int, *, kind: str, now: datetime, count: int | None = None, referral: str | None = None,
    note: str = "",
) -> dict:
    _staff_only(actor)
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
        incident = await _open_incident(incident_id)
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
            # The action and the suspension it records: both or neither.
            lks = await Lks.select(Lks.registration_status).where(Lks.id == incident["lks"]).first()
            if lks and lks["registration_status"] == "registered":
                await registry_services.transition(
                    actor, incident["lks"], "suspend", reason=_("Suspended while an incident is handled."), now=now
                )
    return await IncidentAction.select().where(IncidentAction.id == action.id).first()


async def close_incident(actor: Actor, incident_id: int, *, outcome: str, now: datetime) -> dict:
    _staff_only(actor)
    outcome = (outcome or "").strip()
    if len(outcome) < 10:
        raise ValidationError(_("Describe the outcome (at least 10 characters)."), fields={"outcome": _("Required.")})
    async with write_transaction():
        await lock_row(Incident, incident_id)  # closed once, however many close it at once
        incident = await _open_incident(incident_id)
        await Incident.update(
            {Incident.status: "closed", Incident.outcome: outcome[:5000], Incident.closed_at: now, Incident.version: incident["version"] + 1}
        ).where(Incident.id == incident_id)
        still_open = await Incident.exists().where((Incident.lks == incident["lks"]) & (Incident.status == "open"))
        if not still_open:
            await Lks.update({Lks.open_incident: False, Lks.updated_at: now}).where(Lks.id == incident["lks"])
        await audit.record(actor, "incident.close", "incident", incident_id, now=now, before=_summary(incident),
                           after={**_summary(incident), "status": "closed"})
    await risk.assess([incident["lks"]], now=now)
    return await Incident.select().where(Incident.id == incident_id).first()
