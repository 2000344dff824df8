"""The plan job (daily, 01:00 WIB): assess every LKS's risk, then create
the tasks that are due. A plain async function taking ``now``; ``sigap jobs
run plan [--now ISO]`` runs it by hand.

Every task it creates has a unique key and is inserted with ON CONFLICT DO
NOTHING, and every decision is a function of the data and ``now``: two
planners running at once produce exactly what one would."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from inspections.findings.tables import Finding
from inspections.hooks import RiskContributions
from inspections.incidents.tables import Incident
from inspections.planning import risk
from inspections.planning.services import (
    ACTIVE_STATUSES,
    UNREGISTERED_CHECK_DAYS,
    incident_task,
    insert_tasks,
    new_task,
    today_wib,
    unregistered_since,
)
from inspections.planning.tables import Task, TaskKind, TaskStatus
from inspections.teams.services import pick_team, team_leads, teams_covering
from registry.tables import Application, Lks
from sigap.settings import get_settings

LOOKAHEAD_DAYS = 30  # routine tasks appear this long before they are due
VERIFICATION_DAYS = 14  # a registration's field verification is due this long after it is asked for


def interval_months() -> dict[str, int]:
    """Visit interval by risk level (SIGAP_VISIT_MONTHS_HIGH/MEDIUM/LOW,
    checked at start-up by the settings)."""
    return get_settings().visit_interval_months


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return day.replace(year=year, month=month, day=min(day.day, last))


def unannounced(lks_id: int, due: date, level: str) -> bool:
    """Part of routine visits are unannounced: a stable draw per LKS and date
    (30 %, 50 % for high risk), so every planner draws the same."""
    digest = hashlib.sha256(f"{lks_id}:{due.isoformat()}".encode()).digest()
    return digest[0] % 100 < (50 if level == "high" else 30)


def _latest(rows: list[dict], key: str, value: str) -> dict:
    """lks id → the latest ``value`` among ``rows`` keyed by ``key``."""
    out: dict = {}
    for r in rows:
        if r[key] not in out or r[value] > out[r[key]]:
            out[r[key]] = r[value]
    return out


@dataclass
class PlanResult:
    assessed: int
    created: int

    def __str__(self) -> str:
        return f"{self.assessed} LKS assessed, {self.created} tasks created"


async def plan(*, now: datetime, factors: Callable[[], RiskContributions] | RiskContributions | None = None) -> PlanResult:
    """Assess every LKS's risk (with the ``RISK_FACTORS`` contributions
    ``factors``, or a function giving them at run time), then create the
    tasks that are due."""
    today = today_wib(now)
    levels = await risk.assess(now=now, factors=factors() if callable(factors) else factors)
    intervals = interval_months()
    teams = await teams_covering()
    leads = await team_leads()

    lks_rows = await Lks.select(
        Lks.id, Lks.registration_status, Lks.kelurahan_code, Lks.kecamatan_code, Lks.created_at
    ).where(Lks.registration_status != "closed")
    open_kinds: set[tuple[int, str]] = {
        (r["lks"], r["kind"]) for r in await Task.select(Task.lks, Task.kind).where(Task.status.is_in(list(ACTIVE_STATUSES)))
    }
    last_visit = _latest(
        await Task.select(Task.lks, Task.done_at).where((Task.status == TaskStatus.done.value) & Task.done_at.is_not_null()),
        "lks", "done_at",
    )
    since_of = await unregistered_since()
    checks_done_after = _latest(
        await Task.select(Task.lks, Task.created_at).where(Task.kind == TaskKind.unregistered_check.value), "lks", "created_at"
    )
    verifications = await Application.select(Application.id, Application.lks).where(Application.step == "field_verification")
    findings = await Finding.select(Finding.id, Finding.lks, Finding.due_on).where(Finding.status == "open")
    incidents = await Incident.select(Incident.id, Incident.lks, Incident.recorded_at).where(Incident.status == "open")

    by_id = {r["id"]: r for r in lks_rows}
    new: list[dict] = []
    areas: dict[tuple[str, str], dict | None] = {}  # (kelurahan, kecamatan) → team: a few hundred areas

    def team_of(kelurahan: str, kecamatan: str) -> dict | None:
        key = (kelurahan, kecamatan)
        if key not in areas:
            areas[key] = pick_team(teams, kelurahan, kecamatan)
        return areas[key]

    def task(lks_id: int, kind: TaskKind, due: date, key: str, **extra) -> None:
        if lks_id in by_id:  # not for a closed LKS
            new.append(new_task(by_id[lks_id], kind, due, key, teams=teams, leads=leads, now=now, team_of=team_of, **extra))

    horizon = today + timedelta(days=LOOKAHEAD_DAYS)
    routine = TaskKind.routine.value
    for lks in lks_rows:
        lks_id = lks["id"]
        level = levels.get(lks_id, "medium")
        # Routine monitoring, at the interval of the risk level.
        if (lks_id, routine) not in open_kinds:
            base = last_visit.get(lks_id) or lks["created_at"]
            due = add_months(today_wib(base), intervals[level])
            if due <= horizon:
                due = max(due, today)
                task(lks_id, TaskKind.routine, due, f"routine:{lks_id}:{due.isoformat()}", unannounced=unannounced(lks_id, due, level))
        # An unregistered LKS is checked within 14 days of becoming known.
        if lks["registration_status"] == "unregistered":
            since = since_of.get(lks_id) or lks["created_at"]
            checked = checks_done_after.get(lks_id)
            if checked is None or checked < since:
                due = today_wib(since) + timedelta(days=UNREGISTERED_CHECK_DAYS)
                task(lks_id, TaskKind.unregistered_check, max(due, today), f"unregistered:{lks_id}:{today_wib(since).isoformat()}")
    for app in verifications:
        task(app["lks"], TaskKind.registration_verification, today + timedelta(days=VERIFICATION_DAYS), f"verification:{app['id']}")
    for finding in findings:
        task(finding["lks"], TaskKind.findings_follow_up, finding["due_on"], f"finding:{finding['id']}", finding=finding["id"])
    for incident in incidents:
        if incident["lks"] in by_id:
            new.append(incident_task(incident, by_id[incident["lks"]], teams=teams, leads=leads, now=now))
    created = await insert_tasks(new)
    return PlanResult(assessed=len(levels), created=created)
