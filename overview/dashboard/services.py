"""The staff dashboard's figures, counted in the database (GROUP BY /
COUNT), a fixed handful of queries however many LKS there are.

``snapshot(now, kecamatan=None)`` is the one entry; the monthly report reads
it too, so its keys stay as documented there. Definitions shared with the
lists each figure links to (the list shows the same count):

- registration / accreditation / grade / risk figures: the LKS row's fields
  (``/lks?registration_status=...``, ``accreditation_grade=...``);
- accreditation expiring: an accredited cycle whose validity ends within
  the board's horizon (``accreditation.board.services.EXPIRING_DAYS``);
- open incidents: incidents with status ``open``;
- overdue tasks: open or in progress and past due (``due_at`` to the hour
  when set, else ``due_on`` before today in WIB), as
  ``inspections.planning.services.is_overdue``;
- overdue findings: open or answered, due before today (WIB);
- alerts: unresolved alerts, by severity;
- visits this month: visit reports submitted in the current WIB month;
- registrations issued per month: LKS by the month of ``registered_on``
  (their current Tanda Daftar); validity ending per month: by the month of
  ``valid_until``.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from piccolo.query.functions.aggregate import Count

from accreditation.board.services import EXPIRING_DAYS, REGISTERED
from accreditation.cycles.services import IN_PROCESS
from accreditation.cycles.tables import Cycle, Stage
from inspections.alerts.tables import Alert
from inspections.findings.services import UNRESOLVED
from inspections.findings.tables import Finding
from inspections.incidents.tables import Incident, IncidentCategory, Severity
from inspections.planning.services import overdue_condition
from inspections.planning.tables import Task
from inspections.visits.tables import Visit
from registry import regions
from registry.tables import AccreditationStatus, Lks, RegistrationStatus, RiskLevel
from sigap.i18n import WIB
from sigap.settings import get_settings

GRADES = ("A", "B", "C")
MONTHS = 12  # the registrations chart: this month and the eleven before
YEARS = 5  # the incidents chart: this year and the four before
SEVERITIES = [s.value for s in Severity]  # low .. critical
STAGES = [s.value for s in Stage]


def today_wib(now: datetime) -> date:
    return now.astimezone(WIB).date()


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def wib_start(day: date) -> datetime:
    """Midnight WIB at the start of ``day``, as an aware datetime (UTC)."""
    return datetime.combine(day, time(0), tzinfo=WIB)


_LKS_GROUPS = ("kecamatan_code", "registration_status", "accreditation_status", "accreditation_grade", "risk_level")


def _lks_sql(kecamatan: str | None) -> tuple[str, list]:
    """LKS counted per combination of the fields the register figures
    need (the risk level from its own table, registry.risk_cache); a few
    hundred rows, summed up in :func:`_lks_counts`."""
    columns = ", ".join(f"l.{c}" for c in _LKS_GROUPS[:-1]) + ", r.level"
    sql = (
        f"SELECT {columns.replace('r.level', 'r.level AS risk_level')}, COUNT(*) AS n FROM registry_lks l"
        " LEFT JOIN registry_lks_risk r ON r.lks = l.id"
    )
    args: list = []
    if kecamatan:
        sql += " WHERE l.kecamatan_code = {}"
        args.append(kecamatan)
    return sql + f" GROUP BY {columns}", args


def _lks_counts(groups: list[dict]) -> dict[str, dict[str, int]]:
    """Per kecamatan code: ``lks``, ``reg_<status>``, ``acc_<status>``,
    ``grade_<g>`` (accredited only), ``risk_<level>``/``risk_none`` and
    ``registered_accredited``."""
    out: dict[str, dict[str, int]] = {}
    for g in groups:
        n = int(g["n"])
        row = out.setdefault(g["kecamatan_code"], {})

        def add(key: str) -> None:
            row[key] = row.get(key, 0) + n

        add("lks")
        add(f"reg_{g['registration_status']}")
        add(f"acc_{g['accreditation_status']}")
        if g["accreditation_status"] == AccreditationStatus.accredited.value:
            if g["accreditation_grade"] in GRADES:
                add(f"grade_{g['accreditation_grade']}")
            if g["registration_status"] in REGISTERED:
                add("registered_accredited")
        add(f"risk_{g['risk_level'] or 'none'}")
    return out


def _by_kecamatan(query, column, kecamatan: str | None):
    """``query`` counted per kecamatan of its LKS (``column``: the LKS's kecamatan_code)."""
    query = query.group_by(column)
    if kecamatan:
        query = query.where(column == kecamatan)
    return query


async def _month_counts(column_name: str, start: date, end: date, kecamatan: str | None) -> dict[str, int]:
    """LKS per month of a date column, ``start`` <= date < ``end``.
    ``CAST(date AS TEXT)`` is ISO on both databases."""
    sql = (
        f"SELECT substr(CAST({column_name} AS TEXT), 1, 7) AS month, COUNT(*) AS n FROM registry_lks "
        f"WHERE {column_name} >= {{}} AND {column_name} < {{}}"
    )
    args: list = [start, end]
    if kecamatan:
        sql += " AND kecamatan_code = {}"
        args.append(kecamatan)
    rows = await Lks.raw(sql + " GROUP BY 1", *args)
    return {r["month"]: int(r["n"]) for r in rows}


async def _incidents_by_year(start: date, kecamatan: str | None) -> list[dict]:
    sql = (
        "SELECT substr(CAST(i.occurred_on AS TEXT), 1, 4) AS year, i.category AS category, COUNT(*) AS n "
        "FROM inspections_incident i JOIN registry_lks l ON l.id = i.lks WHERE i.occurred_on >= {}"
    )
    args: list = [start]
    if kecamatan:
        sql += " AND l.kecamatan_code = {}"
        args.append(kecamatan)
    return await Lks.raw(sql + " GROUP BY 1, 2", *args)


def _grouped(rows: list[dict], key: str = "code") -> dict[str, int]:
    return {r[key]: int(r["n"]) for r in rows}


async def snapshot(now: datetime, *, kecamatan: str | None = None) -> dict:
    """The dashboard's figures at ``now`` (for one kecamatan code, or the
    whole region). JSON-serialisable; its keys are stable:

    - ``as_of`` (WIB date, ISO), ``month`` ("YYYY-MM", WIB), ``kecamatan`` (code or None)
    - ``total_lks``: int
    - ``registration``: {status: int} for every RegistrationStatus value
    - ``accreditation``: {"accredited", "in_process", "none", "expired": int}
    - ``grades``: {"A", "B", "C": int} (accredited LKS by grade)
    - ``accreditation_expiring``: int (accredited cycles ending within ``expiring_days``), ``expiring_days``: int
    - ``risk``: {"high", "medium", "low", "none": int} ("none": not assessed yet)
    - ``open_incidents``, ``overdue_tasks``, ``overdue_findings``, ``visits_this_month``: int
    - ``alerts``: {"critical", "high", "medium", "low": int} (unresolved)
    - ``by_kecamatan``: [{"code", "name", "lks", "registered", "expired", "accredited",
      "high_risk", "open_incidents", "overdue_tasks"}], by name; every kecamatan of the region
    - ``registrations_by_month``: [{"month": "YYYY-MM", "issued": int, "expired": int}],
      the last 12 months, oldest first ("expired": certificates whose validity ends that month)
    - ``incidents_by_year``: [{"year": int, "total": int, "categories": {category: int}}],
      the last 5 years, oldest first; ``incident_categories``: [category, ...]
    - ``accreditation_progress``: {"stages": {stage: int} (each LKS's latest cycle;
      "not_started" without one), "in_process": int, "registered": int,
      "registered_accredited": int, "percent": int}
    """
    today = today_wib(now)
    kecamatan = kecamatan or None
    month_start = add_months(today, 0)
    next_month = add_months(today, 1)
    chart_start = add_months(today, -(MONTHS - 1))
    year_start = date(today.year - (YEARS - 1), 1, 1)
    horizon = today + timedelta(days=EXPIRING_DAYS)

    overdue_task = overdue_condition(now)
    sql, args = _lks_sql(kecamatan)
    stage_q = Cycle.select(Cycle.stage, Count(alias="n")).where(Cycle.latest_key.is_not_null()).group_by(Cycle.stage)
    expiring_q = Cycle.count().where(
        (Cycle.stage == Stage.accredited.value) & (Cycle.valid_until >= today) & (Cycle.valid_until <= horizon)
    )
    alerts_q = Alert.select(Alert.severity, Count(alias="n")).where(Alert.resolved_at.is_null()).group_by(Alert.severity)
    visits_q = Visit.count().where(
        (Visit.submitted_at >= wib_start(month_start)) & (Visit.submitted_at < wib_start(next_month))
    )
    if kecamatan:
        stage_q = stage_q.where(Cycle.lks.kecamatan_code == kecamatan)
        expiring_q = expiring_q.where(Cycle.lks.kecamatan_code == kecamatan)
        alerts_q = alerts_q.where(Alert.lks.kecamatan_code == kecamatan)
        visits_q = visits_q.where(Visit.lks.kecamatan_code == kecamatan)
    (
        lks_rows, incident_rows, task_rows, finding_rows, stage_rows, expiring, alert_rows, visits,
        issued, ending, incident_years, districts,
    ) = await asyncio.gather(
        Lks.raw(sql, *args).run(),  # groups
        _by_kecamatan(
            Incident.select(Incident.lks.kecamatan_code.as_alias("code"), Count(alias="n")).where(Incident.status == "open"),
            Incident.lks.kecamatan_code, kecamatan,
        ).run(),
        _by_kecamatan(
            Task.select(Task.lks.kecamatan_code.as_alias("code"), Count(alias="n")).where(overdue_task),
            Task.lks.kecamatan_code, kecamatan,
        ).run(),
        _by_kecamatan(
            Finding.select(Finding.lks.kecamatan_code.as_alias("code"), Count(alias="n")).where(
                Finding.status.is_in(list(UNRESOLVED)) & (Finding.due_on < today)
            ),
            Finding.lks.kecamatan_code, kecamatan,
        ).run(),
        stage_q.run(),
        expiring_q.run(),
        alerts_q.run(),
        visits_q.run(),
        _month_counts("registered_on", chart_start, next_month, kecamatan),
        _month_counts("valid_until", chart_start, next_month, kecamatan),
        _incidents_by_year(year_start, kecamatan),
        regions.districts(get_settings().region),
    )

    counts = _lks_counts(lks_rows)

    def total(key: str) -> int:
        return sum(row.get(key, 0) for row in counts.values())

    incidents_by_code = _grouped(incident_rows)
    tasks_by_code = _grouped(task_rows)
    total_lks = total("lks")

    names = {d["code"]: d["name"] for d in districts}
    codes = [d["code"] for d in districts if not kecamatan or d["code"] == kecamatan]
    lks_by_code = counts
    codes += sorted(c for c in set(lks_by_code) | set(incidents_by_code) | set(tasks_by_code) if c not in names and c)
    by_kecamatan = []
    for code in codes:
        row = lks_by_code.get(code) or {}
        by_kecamatan.append({
            "code": code,
            "name": names.get(code, code),
            "lks": int(row.get("lks") or 0),
            "registered": int(row.get("reg_registered") or 0),
            "expired": int(row.get("reg_expired") or 0),
            "accredited": int(row.get("acc_accredited") or 0),
            "high_risk": int(row.get("risk_high") or 0),
            "open_incidents": incidents_by_code.get(code, 0),
            "overdue_tasks": tasks_by_code.get(code, 0),
        })

    stages = dict.fromkeys(STAGES, 0)
    for r in stage_rows:
        stages[r["stage"]] = stages.get(r["stage"], 0) + int(r["n"])
    stages[Stage.not_started.value] += max(0, total_lks - sum(stages.values()))
    registered = sum(total(f"reg_{s}") for s in sorted(REGISTERED))
    registered_accredited = total("registered_accredited")

    months = [month_key(add_months(chart_start, i)) for i in range(MONTHS)]
    categories = [c.value for c in IncidentCategory]
    years: dict[int, dict[str, int]] = {y: dict.fromkeys(categories, 0) for y in range(year_start.year, today.year + 1)}
    for r in incident_years:
        year = int(r["year"])
        if year in years:
            years[year][r["category"]] = years[year].get(r["category"], 0) + int(r["n"])
    alerts = dict.fromkeys(reversed(SEVERITIES), 0)
    for r in alert_rows:
        alerts[r["severity"]] = alerts.get(r["severity"], 0) + int(r["n"])

    return {
        "as_of": today.isoformat(),
        "month": month_key(today),
        "kecamatan": kecamatan,
        "total_lks": total_lks,
        "registration": {s.value: total(f"reg_{s.value}") for s in RegistrationStatus},
        "accreditation": {a.value: total(f"acc_{a.value}") for a in AccreditationStatus},
        "grades": {g: total(f"grade_{g}") for g in GRADES},
        "accreditation_expiring": int(expiring),
        "expiring_days": EXPIRING_DAYS,
        "risk": {**{r.value: total(f"risk_{r.value}") for r in RiskLevel}, "none": total("risk_none")},
        "open_incidents": sum(incidents_by_code.values()),
        "overdue_tasks": sum(tasks_by_code.values()),
        "overdue_findings": sum(_grouped(finding_rows).values()),
        "alerts": alerts,
        "visits_this_month": int(visits),
        "by_kecamatan": by_kecamatan,
        "registrations_by_month": [
            {"month": m, "issued": issued.get(m, 0), "expired": ending.get(m, 0)} for m in months
        ],
        "incidents_by_year": [
            {"year": y, "total": sum(counts.values()), "categories": counts} for y, counts in years.items()
        ],
        "incident_categories": categories,
        "accreditation_progress": {
            "stages": stages,
            "in_process": sum(stages[s] for s in STAGES if s in IN_PROCESS),
            "registered": registered,
            "registered_accredited": registered_accredited,
            "percent": round(100 * registered_accredited / registered) if registered else 0,
        },
    }
