"""Scheduled work of joint monitoring. Plain async functions taking ``now``;
``sigap jobs run plan|alerts|notify [--now ISO]`` runs them by hand.

Every row they create has a unique key and is inserted with ON CONFLICT DO
NOTHING, and every decision is a function of the data and ``now``: two
planners running at once produce exactly what one would."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from inspections import risk
from inspections.services import insert_tasks, pick_team, team_leads, teams_covering
from inspections.tables import Finding, Incident, Task, TaskKind, TaskStatus
from registry.tables import Application, Lks, StatusChange
from sigap.i18n import WIB
from sigap.settings import get_settings

LOOKAHEAD_DAYS = 30  # routine tasks appear this long before they are due
UNREGISTERED_CHECK_DAYS = 14


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


@dataclass
class PlanResult:
    assessed: int
    created: int

    def __str__(self) -> str:
        return f"{self.assessed} LKS assessed, {self.created} tasks created"


async def plan(*, now: datetime) -> PlanResult:
    """Assess every LKS's risk, then create the tasks that are due."""
    today = now.astimezone(WIB).date()
    levels = await risk.assess(now=now)
    intervals = interval_months()
    teams = await teams_covering()
    leads = await team_leads()

    lks_rows = await Lks.select(
        Lks.id, Lks.registration_status, Lks.kelurahan_code, Lks.kecamatan_code, Lks.created_at
    ).where(Lks.registration_status != "closed")
    open_kinds: set[tuple[int, str]] = {
        (r["lks"], r["kind"])
        for r in await Task.select(Task.lks, Task.kind).where(Task.status.is_in([TaskStatus.open.value, TaskStatus.in_progress.value]))
    }
    last_visit: dict[int, datetime] = {}
    for r in await Task.select(Task.lks, Task.done_at).where((Task.status == TaskStatus.done.value) & Task.done_at.is_not_null()):
        if r["lks"] not in last_visit or r["done_at"] > last_visit[r["lks"]]:
            last_visit[r["lks"]] = r["done_at"]
    unregistered_since: dict[int, datetime] = {}
    for r in await StatusChange.select(StatusChange.lks, StatusChange.at).where(StatusChange.to_status == "unregistered"):
        if r["lks"] not in unregistered_since or r["at"] > unregistered_since[r["lks"]]:
            unregistered_since[r["lks"]] = r["at"]
    checks_done_after: dict[int, datetime] = {}
    for r in await Task.select(Task.lks, Task.created_at).where(Task.kind == TaskKind.unregistered_check.value):
        if r["lks"] not in checks_done_after or r["created_at"] > checks_done_after[r["lks"]]:
            checks_done_after[r["lks"]] = r["created_at"]
    verifications = await Application.select(Application.id, Application.lks).where(Application.step == "field_verification")
    findings = await Finding.select(Finding.id, Finding.lks, Finding.due_on).where(Finding.status == "open")
    incidents = await Incident.select(Incident.id, Incident.lks, Incident.recorded_at).where(Incident.status == "open")

    by_id = {r["id"]: r for r in lks_rows}
    new: list[dict] = []

    def task(lks_id: int, kind: TaskKind, due: date, key: str, *, unannounced_visit: bool = False, due_at=None, **extra) -> None:
        lks = by_id.get(lks_id)
        if lks is None:
            return
        team = pick_team(teams, lks["kelurahan_code"], lks["kecamatan_code"])
        new.append(
            {
                "lks": lks_id, "kind": kind.value, "status": TaskStatus.open.value,
                "team": team["id"] if team else None, "lead": leads.get(team["id"]) if team else None,
                "due_on": due, "due_at": due_at, "unannounced": unannounced_visit, "unique_key": key,
                "created_at": now, "updated_at": now, **extra,
            }
        )

    horizon = today + timedelta(days=LOOKAHEAD_DAYS)
    for lks in lks_rows:
        lks_id = lks["id"]
        level = levels.get(lks_id, "medium")
        # Routine monitoring, at the interval of the risk level.
        if (lks_id, TaskKind.routine.value) not in open_kinds:
            base = last_visit.get(lks_id) or lks["created_at"]
            due = add_months(base.astimezone(WIB).date(), intervals[level])
            if due <= horizon:
                due = max(due, today)
                task(lks_id, TaskKind.routine, due, f"routine:{lks_id}:{due.isoformat()}",
                     unannounced_visit=unannounced(lks_id, due, level))
        # An unregistered LKS is checked within 14 days of becoming known.
        if lks["registration_status"] == "unregistered":
            since = unregistered_since.get(lks_id) or lks["created_at"]
            checked = checks_done_after.get(lks_id)
            if checked is None or checked < since:
                due = since.astimezone(WIB).date() + timedelta(days=UNREGISTERED_CHECK_DAYS)
                task(lks_id, TaskKind.unregistered_check, max(due, today) if due < today else due,
                     f"unregistered:{lks_id}:{since.astimezone(WIB).date().isoformat()}")
    for app in verifications:
        task(app["lks"], TaskKind.registration_verification, today + timedelta(days=14), f"verification:{app['id']}")
    for finding in findings:
        task(finding["lks"], TaskKind.findings_follow_up, finding["due_on"], f"finding:{finding['id']}", finding=finding["id"])
    for incident in incidents:
        due_at = incident["recorded_at"] + timedelta(hours=48)
        task(incident["lks"], TaskKind.incident_response, due_at.astimezone(WIB).date(), f"incident:{incident['id']}",
             unannounced_visit=True, due_at=due_at, incident=incident["id"])
    created = await insert_tasks(new)
    return PlanResult(assessed=len(levels), created=created)
