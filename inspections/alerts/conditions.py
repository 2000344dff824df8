"""What the data calls for: every alert that should be open at ``now``,
each with a stable unique key naming its occurrence (a renewed registration
has a new ``valid_until``, a rescheduled task a new due date: a new alert;
the same condition coming back: the same alert, reopened).

Set-based: a handful of queries over all rows, never one query per LKS."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from inspections.alerts.services import MANAGER_KINDS, chunks
from inspections.alerts.tables import Alert, AlertKind
from inspections.findings.services import UNRESOLVED
from inspections.findings.tables import Finding, FindingSeverity
from inspections.incidents.tables import Incident, Severity
from inspections.planning.services import (
    ACTIVE_STATUSES,
    INCIDENT_VISIT_HOURS,
    UNREGISTERED_CHECK_DAYS,
    is_overdue,
    today_wib,
    unregistered_since,
)
from inspections.planning.tables import Task, TaskKind, TaskStatus
from inspections.teams.services import pick_team, team_leads, teams_covering
from registry.tables import (
    AccreditationStatus,
    Document,
    DocumentStatus,
    Lks,
    RegistrationStatus,
)

EXPIRY_WARNING_DAYS = 90  # registration
# Accreditation: a warning at each threshold (days before the end), and its severity.
ACCREDITATION_STEPS = ((180, Severity.low.value), (90, Severity.medium.value), (30, Severity.high.value))
DOCUMENT_WARNING_DAYS = 30
TASK_CRITICAL_AFTER_DAYS = 14


def _ladder(days_left: int, *, medium_at: int, high_at: int) -> str:
    if days_left <= high_at:
        return Severity.high.value
    if days_left <= medium_at:
        return Severity.medium.value
    return Severity.low.value


def _team(task_team: int | None, teams: list[dict], row: dict) -> int | None:
    """The team an alert goes to: the one of its task, else the most
    specific team covering the LKS."""
    if task_team is not None:
        return task_team
    covering = pick_team(teams, row["kelurahan_code"] or "", row["kecamatan_code"] or "")
    return covering["id"] if covering else None


@dataclass
class Wanted:
    """An alert the current data calls for."""

    kind: str
    severity: str
    unique_key: str
    lks: int | None
    link: str
    params: dict = field(default_factory=dict)
    task: int | None = None
    team: int | None = None
    document: int | None = None

    @property
    def manager_visible(self) -> bool:
        return self.kind in MANAGER_KINDS

    def values(self, now: datetime) -> tuple:
        """In the order of :data:`INSERT_COLUMNS`."""
        return (
            self.kind, self.severity, self.unique_key, self.lks, self.task, self.team, self.document,
            json.dumps(self.params), self.link, self.manager_visible, now, None, None,
        )


INSERT_COLUMNS = (
    Alert.kind, Alert.severity, Alert.unique_key, Alert.lks, Alert.task, Alert.team, Alert.document, Alert.params,
    Alert.link, Alert.manager_visible, Alert.raised_at, Alert.escalated_at, Alert.resolved_at,
)


async def _overdue_tasks(now: datetime, today: date) -> list[Wanted]:
    rows = await Task.select(
        Task.id, Task.lks, Task.kind, Task.status, Task.team, Task.due_on, Task.due_at
    ).where(Task.status.is_in(list(ACTIVE_STATUSES)) & (Task.due_on <= today))
    out = []
    for r in rows:
        if not is_overdue(r, now):
            continue
        days = (today - r["due_on"]).days
        urgent = r["kind"] == TaskKind.incident_response.value
        severity = Severity.critical.value if urgent or days >= TASK_CRITICAL_AFTER_DAYS else Severity.medium.value
        out.append(
            Wanted(
                AlertKind.task_overdue.value, severity, f"task_overdue:{r['id']}:{r['due_on'].isoformat()}", r["lks"],
                f"/tasks/{r['id']}", {"task_kind": r["kind"], "due": r["due_on"].isoformat()}, task=r["id"], team=r["team"],
            )
        )
    return out


async def _registrations(today: date) -> list[Wanted]:
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    rows = await Lks.select(Lks.id, Lks.registration_status, Lks.valid_until).where(
        (
            # A suspended registration runs out on its date like a registered one.
            Lks.registration_status.is_in([RegistrationStatus.registered.value, RegistrationStatus.suspended.value])
            & Lks.valid_until.is_not_null()
            & (Lks.valid_until <= horizon)
        )
        | (Lks.registration_status == RegistrationStatus.expired.value)
    )
    out = []
    for r in rows:
        until: date | None = r["valid_until"]
        stamp = until.isoformat() if until else "none"
        params = {"date": until.isoformat() if until else None}
        if r["registration_status"] == RegistrationStatus.expired.value or until < today:
            out.append(Wanted(AlertKind.registration_expired.value, Severity.high.value,
                              f"registration_expired:{r['id']}:{stamp}", r["id"], f"/lks/{r['id']}", params))
        else:
            severity = _ladder((until - today).days, medium_at=30, high_at=7)
            out.append(Wanted(AlertKind.registration_expiring.value, severity,
                              f"registration:{r['id']}:{stamp}", r["id"], f"/lks/{r['id']}", params))
    return out


def accreditation_step(days_left: int) -> tuple[str, str] | None:
    """The warning an accreditation ``days_left`` from its end calls for:
    (step, severity), one step per threshold (180, 90, 30 days) and
    "expired"; None when it is further off than the first threshold."""
    if days_left < 0:
        return "expired", Severity.high.value
    reached = [(threshold, severity) for threshold, severity in ACCREDITATION_STEPS if days_left <= threshold]
    if not reached:
        return None
    threshold, severity = reached[-1]
    return f"{threshold}d", severity


async def _accreditations(today: date) -> list[Wanted]:
    """Accreditation (the LKS row's fields, derived by the accreditation
    domain from its cycles): an alert at 180, 90 and 30 days before the end
    and one when it has expired, each with its own key (raised once each;
    the previous step's alert resolves when the next one is raised)."""
    horizon = today + timedelta(days=ACCREDITATION_STEPS[0][0])
    rows = await Lks.select(Lks.id, Lks.accreditation_valid_until).where(
        Lks.accreditation_status.is_in([AccreditationStatus.accredited.value, AccreditationStatus.expired.value])
        & Lks.accreditation_valid_until.is_not_null()
        & (Lks.accreditation_valid_until <= horizon)
        & (Lks.registration_status != RegistrationStatus.closed.value)
    )
    out = []
    for r in rows:
        until: date = r["accreditation_valid_until"]
        step, severity = accreditation_step((until - today).days)
        out.append(Wanted(AlertKind.accreditation_expiring.value, severity,
                          f"accreditation:{r['id']}:{until.isoformat()}:{step}", r["id"], f"/lks/{r['id']}",
                          {"date": until.isoformat(), "step": step}))
    return out


async def _documents(today: date) -> list[Wanted]:
    horizon = today + timedelta(days=DOCUMENT_WARNING_DAYS)
    rows = await Document.select(Document.id, Document.lks, Document.doc_type, Document.expires_on).where(
        Document.status.is_in([DocumentStatus.pending.value, DocumentStatus.verified.value])
        & Document.superseded_at.is_null()
        & Document.expires_on.is_not_null()
        & (Document.expires_on <= horizon)
        & (Document.lks.registration_status != RegistrationStatus.closed.value)
    )
    out = []
    for r in rows:
        until: date = r["expires_on"]
        days = (until - today).days
        severity = Severity.high.value if days < 0 else (Severity.medium.value if days <= 7 else Severity.low.value)
        out.append(
            Wanted(AlertKind.document_expiring.value, severity, f"document:{r['id']}:{until.isoformat()}", r["lks"],
                   f"/lks/{r['lks']}#documents", {"doc_type": r["doc_type"], "date": until.isoformat()}, document=r["id"])
        )
    return out


async def _findings(today: date, teams: list[dict]) -> list[Wanted]:
    rows = await Finding.select(
        Finding.id, Finding.lks, Finding.due_on, Finding.task, Finding.task.team.as_alias("task_team"),
        Finding.lks.kelurahan_code.as_alias("kelurahan_code"), Finding.lks.kecamatan_code.as_alias("kecamatan_code"),
    ).where(
        Finding.status.is_in(list(UNRESOLVED)) & (Finding.severity == FindingSeverity.critical.value) & (Finding.due_on < today)
    )
    out = []
    for r in rows:
        team = _team(r["task_team"], teams, r)
        out.append(Wanted(AlertKind.finding_overdue.value, Severity.critical.value, f"finding_overdue:{r['id']}", r["lks"],
                          f"/lks/{r['lks']}/monitoring", {"date": r["due_on"].isoformat()}, task=r["task"], team=team))
    return out


async def _leadless() -> list[Wanted]:
    """Visits still to make, without a lead, that went to a team without a
    lead (no member with an account): for staff, once per task; resolved
    when the task or its team gets one (adding such a member does both)."""
    led = set(await team_leads())
    rows = await Task.select(Task.id, Task.lks, Task.kind, Task.team, Task.due_on).where(
        Task.status.is_in(list(ACTIVE_STATUSES)) & Task.team.is_not_null() & Task.lead.is_null()
    )
    out = []
    for r in rows:
        if r["team"] in led:
            continue
        urgent = r["kind"] == TaskKind.incident_response.value
        out.append(Wanted(AlertKind.team_without_lead.value, Severity.critical.value if urgent else Severity.high.value,
                          f"team_without_lead:{r['id']}", r["lks"], f"/tasks/{r['id']}",
                          {"task_kind": r["kind"], "due": r["due_on"].isoformat()}, task=r["id"]))
    return out


async def _incidents(now: datetime, teams: list[dict]) -> list[Wanted]:
    rows = await Incident.select(
        Incident.id, Incident.lks, Incident.recorded_at,
        Incident.lks.kelurahan_code.as_alias("kelurahan_code"), Incident.lks.kecamatan_code.as_alias("kecamatan_code"),
    ).where(Incident.status == "open")
    late = [r for r in rows if r["recorded_at"] + timedelta(hours=INCIDENT_VISIT_HOURS) <= now]
    if not late:
        return []
    visited: set[int] = set()
    response: dict[int, dict] = {}
    for batch in chunks([r["id"] for r in late]):
        for t in await Task.select(Task.id, Task.incident, Task.team, Task.status).where(
            (Task.kind == TaskKind.incident_response.value) & Task.incident.is_in(batch)
        ).order_by(Task.id):
            if t["status"] == TaskStatus.done.value:
                visited.add(t["incident"])
            elif t["status"] in ACTIVE_STATUSES:
                response.setdefault(t["incident"], t)
    out = []
    for r in late:
        if r["id"] in visited:
            continue
        task = response.get(r["id"])
        team = _team(task["team"] if task else None, teams, r)
        # Never anything from the incident itself beyond its id: no
        # category, no description (alerts reach e-mail and field roles).
        out.append(Wanted(AlertKind.incident_unvisited.value, Severity.critical.value, f"incident_unvisited:{r['id']}",
                          r["lks"], f"/incidents/{r['id']}", {"hours": INCIDENT_VISIT_HOURS},
                          task=task["id"] if task else None, team=team))
    return out


async def _unregistered(now: datetime, teams: list[dict]) -> list[Wanted]:
    rows = await Lks.select(Lks.id, Lks.created_at, Lks.kelurahan_code, Lks.kecamatan_code).where(
        Lks.registration_status == RegistrationStatus.unregistered.value
    )
    if not rows:
        return []
    since = await unregistered_since()
    last_check: dict[int, datetime] = {}
    open_check: dict[int, dict] = {}
    for t in await Task.select(Task.id, Task.lks, Task.team, Task.status, Task.done_at).where(
        Task.kind == TaskKind.unregistered_check.value
    ).order_by(Task.id):
        if t["status"] == TaskStatus.done.value and t["done_at"] is not None:
            if t["lks"] not in last_check or t["done_at"] > last_check[t["lks"]]:
                last_check[t["lks"]] = t["done_at"]
        elif t["status"] in ACTIVE_STATUSES:
            open_check[t["lks"]] = t
    out = []
    for r in rows:
        start = since.get(r["id"]) or r["created_at"]
        if start + timedelta(days=UNREGISTERED_CHECK_DAYS) > now:
            continue
        checked = last_check.get(r["id"])
        if checked is not None and checked >= start:
            continue
        task = open_check.get(r["id"])
        team = _team(task["team"] if task else None, teams, r)
        day = today_wib(start).isoformat()
        out.append(Wanted(AlertKind.unregistered_unchecked.value, Severity.high.value, f"unregistered:{r['id']}:{day}",
                          r["id"], f"/lks/{r['id']}", {"date": day}, task=task["id"] if task else None, team=team))
    return out


SEVERITIES = frozenset(s.value for s in Severity)


async def _contributed(today: date, sources) -> list[Wanted]:
    """What other domains' ``ALERT_SOURCES`` ask for (unknown kinds ignored)."""
    kinds = {k.value for k in AlertKind}
    out = []
    for source in sources:
        for w in await source(today):
            key = str(w.get("unique_key") or "")
            if w.get("kind") in kinds and w.get("severity") in SEVERITIES and 0 < len(key) <= 120:
                out.append(Wanted(w["kind"], w["severity"], key, w.get("lks"), str(w.get("link") or ""), dict(w.get("params") or {})))
    return out


async def wanted_alerts(*, now: datetime, sources: Iterable = ()) -> dict[str, Wanted]:
    """Every alert the data calls for at ``now``, by unique key (with what
    the ``inspections.hooks.ALERT_SOURCES`` contributions ``sources`` want)."""
    today = today_wib(now)
    teams = await teams_covering()
    found: list[Wanted] = []
    found += await _overdue_tasks(now, today)
    found += await _registrations(today)
    found += await _accreditations(today)
    found += await _documents(today)
    found += await _findings(today, teams)
    found += await _incidents(now, teams)
    found += await _unregistered(now, teams)
    found += await _leadless()
    found += await _contributed(today, sources)
    return {w.unique_key: w for w in found}
