"""Risk of an LKS (high / medium / low) from explainable factors, and the
risk panel joint monitoring adds to the registry's LKS page.

Computed set-based: a handful of queries for all LKS at once, points added
in Python, and only the LKS whose level or reasons changed are written.
"Today" is always the date in WIB (a visit 12 months ago counts from the
Jakarta date, also between 00:00 and 07:00 WIB)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from inspections.findings.services import UNRESOLVED
from inspections.findings.tables import Finding, FindingSeverity
from inspections.hooks import NONE, RiskContributions
from inspections.incidents.tables import Incident, IncidentSource
from inspections.planning.services import today_wib
from inspections.planning.tables import RiskAssessment, Task, TaskStatus
from inspections.visits.tables import Visit, VisitOutcome, VisitStatus
from registry.access import is_staff
from registry.risk_cache import RISK_LEVEL, set_levels
from registry.tables import Lks
from sigap.audit import Actor
from sigap.db import fetch, insert_many, select_all
from sigap.i18n import N_, _

# code → message shown on the LKS page (params filled in), in English msgids.
REASONS = {
    "unregistered": N_("Operating without registration"),
    "registration_expired": N_("Registration has expired"),
    "registration_suspended": N_("Registration is suspended"),
    "registration_revoked": N_("Registration was revoked"),
    "registration_pending": N_("Registration is still being processed"),
    "not_accredited": N_("Not accredited"),
    "accreditation_expired": N_("Accreditation has expired"),
    "accreditation_grade_c": N_("Accredited with grade C"),
    "never_visited": N_("Never visited"),
    "last_visit_critical": N_("Last visit found critical problems (%(date)s)"),
    "last_visit_concerns": N_("Last visit found concerns (%(date)s)"),
    "visit_long_ago": N_("Last visit more than %(months)s months ago"),
    "critical_findings": N_("%(n)s open critical finding(s)"),
    "major_findings": N_("%(n)s open major finding(s)"),
    "overdue_findings": N_("%(n)s finding(s) not corrected by their due date"),
    "report_immediate_action": N_("The latest visit report calls for immediate action (%(date)s)"),
    "report_serious_concern": N_("The latest visit report found a serious concern (%(date)s)"),
    "open_incident": N_("%(n)s open incident(s)"),
    "complaints": N_("%(n)s complaint(s) in the last 12 months"),
    "over_capacity": N_("More residents (%(residents)s) than capacity (%(capacity)s)"),
}
HIGH_AT = 5
MEDIUM_AT = 2


def describe(reasons: list, extra: RiskContributions = NONE) -> list[dict]:
    """Reasons as translated sentences with their points (the codes of
    contributed factors with their texts)."""
    texts = {**extra.texts, **REASONS}
    out = []
    for code, points, params in reasons:
        text = _(texts.get(code, code))
        try:
            text = text % params if params else text
        except (KeyError, TypeError, ValueError):
            pass
        out.append({"code": code, "points": points, "text": text})
    return out


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a setattr call per field, 100,000 times
class Facts:
    registration_status: str
    accreditation_status: str
    accreditation_grade: str | None
    capacity: int
    residents_total: int
    last_visit_on: date | None
    last_outcome: str | None
    critical_findings: int
    open_incidents: int
    complaints: int
    major_findings: int = 0
    overdue_findings: int = 0
    report_outcome: str | None = None  # of the latest visit report (not one returned for correction)
    report_on: date | None = None
    stored_level: str | None = None  # the level in registry.risk_cache now (not scored: what to write or not)


def score(f: Facts, today: date, extra: Sequence = ()) -> tuple[str, int, list]:
    """Level, points and reasons; ``extra`` are reasons contributed by other
    domains' risk factors (``[code, points, params]``)."""
    reasons: list = []

    def add(code: str, points: int, **params) -> None:
        reasons.append([code, points, {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items()}])

    status = f.registration_status
    if status == "unregistered":
        add("unregistered", 3)
    elif status == "expired":
        add("registration_expired", 2)
    elif status == "suspended":
        add("registration_suspended", 3)
    elif status == "revoked":
        add("registration_revoked", 3)
    elif status in ("applied", "document_check", "field_verification"):
        add("registration_pending", 1)
    if f.accreditation_status == "none":
        add("not_accredited", 1)
    elif f.accreditation_status == "expired":
        add("accreditation_expired", 1)
    elif f.accreditation_status == "accredited" and f.accreditation_grade == "C":
        add("accreditation_grade_c", 1)
    if f.last_visit_on is None:
        add("never_visited", 1)
    else:
        if f.last_outcome in ("critical", "not_found"):
            add("last_visit_critical", 3, date=f.last_visit_on)
        elif f.last_outcome == "concerns":
            add("last_visit_concerns", 2, date=f.last_visit_on)
        months = (today - f.last_visit_on).days // 30
        if months >= 24:
            add("visit_long_ago", 2, months=24)
        elif months >= 12:
            add("visit_long_ago", 1, months=12)
    if f.report_outcome == VisitOutcome.immediate_action.value:
        add("report_immediate_action", 5, date=f.report_on)
    elif f.report_outcome == VisitOutcome.serious_concern.value:
        add("report_serious_concern", 3, date=f.report_on)
    if f.critical_findings:
        add("critical_findings", 3, n=f.critical_findings)
    if f.major_findings:
        add("major_findings", 1, n=f.major_findings)
    if f.overdue_findings:
        add("overdue_findings", 2, n=f.overdue_findings)
    if f.open_incidents:
        add("open_incident", 5, n=f.open_incidents)
    if f.complaints:
        add("complaints", min(2, f.complaints), n=f.complaints)
    if f.capacity and f.residents_total > f.capacity:
        add("over_capacity", 2, residents=f.residents_total, capacity=f.capacity)
    reasons += [[code, points, dict(params or {})] for code, points, params in extra]
    total = sum(r[1] for r in reasons)
    level = "high" if (f.open_incidents or total >= HIGH_AT) else "medium" if total >= MEDIUM_AT else "low"
    return level, total, reasons


async def _finding_counts(scoped, today: date) -> dict[str, dict[int, int]]:
    """Unresolved findings per LKS: critical, major, and overdue (any severity)."""
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    rows = await scoped(
        Finding.select(Finding.lks, Finding.severity, Finding.due_on).where(Finding.status.is_in(list(UNRESOLVED))), Finding.lks
    )
    for row in rows:
        counts[row["severity"]][row["lks"]] += 1
        if row["due_on"] < today:
            counts["overdue"][row["lks"]] += 1
    return counts


async def _latest_reports(scoped) -> dict[int, tuple[datetime, str]]:
    """lks id → (submitted at, outcome) of its latest visit report."""
    latest: dict[int, tuple[datetime, str]] = {}
    rows = await scoped(
        Visit.select(Visit.lks, Visit.submitted_at, Visit.outcome).where(Visit.status != VisitStatus.returned.value), Visit.lks
    )
    for row in rows:
        if row["lks"] not in latest or row["submitted_at"] > latest[row["lks"]][0]:
            latest[row["lks"]] = (row["submitted_at"], row["outcome"])
    return latest


async def gather(lks_ids: list[int] | None, now: datetime) -> dict[int, Facts]:
    """Everything the score needs, for all LKS (or some), in a few queries."""
    query = Lks.select(
        Lks.id, Lks.registration_status, Lks.accreditation_status, Lks.accreditation_grade, Lks.capacity, Lks.residents_total,
        RISK_LEVEL,
    ).where(Lks.registration_status != "closed")
    if lks_ids is not None:
        query = query.where(Lks.id.is_in(lks_ids))
    lks_rows = await query
    if not lks_rows:
        return {}
    wanted = None if lks_ids is None else set(lks_ids)

    def scoped(q, column):
        return q.where(column.is_in(lks_ids)) if lks_ids is not None else q

    visits: dict[int, tuple[datetime, str | None]] = {}
    for row in await scoped(
        Task.select(Task.lks, Task.done_at, Task.outcome).where((Task.status == TaskStatus.done.value) & Task.done_at.is_not_null()),
        Task.lks,
    ):
        current = visits.get(row["lks"])
        if current is None or row["done_at"] > current[0]:
            visits[row["lks"]] = (row["done_at"], row["outcome"])
    findings = await _finding_counts(scoped, today_wib(now))
    reports = await _latest_reports(scoped)
    incidents: dict[int, int] = defaultdict(int)
    complaints: dict[int, int] = defaultdict(int)
    year_ago = now - timedelta(days=365)
    for row in await scoped(Incident.select(Incident.lks, Incident.status, Incident.source, Incident.recorded_at), Incident.lks):
        if row["status"] == "open":
            incidents[row["lks"]] += 1
        if row["source"] == IncidentSource.public_complaint.value and row["recorded_at"] >= year_ago:
            complaints[row["lks"]] += 1
    facts = {}
    for row in lks_rows:
        if wanted is not None and row["id"] not in wanted:
            continue
        visit = visits.get(row["id"])
        facts[row["id"]] = Facts(
            registration_status=row["registration_status"],
            accreditation_status=row["accreditation_status"],
            accreditation_grade=row["accreditation_grade"],
            capacity=row["capacity"] or 0,
            residents_total=row["residents_total"] or 0,
            last_visit_on=today_wib(visit[0]) if visit else None,
            last_outcome=visit[1] if visit else None,
            critical_findings=findings[FindingSeverity.critical.value].get(row["id"], 0),
            open_incidents=incidents.get(row["id"], 0),
            complaints=complaints.get(row["id"], 0),
            major_findings=findings[FindingSeverity.major.value].get(row["id"], 0),
            overdue_findings=findings["overdue"].get(row["id"], 0),
            report_outcome=reports[row["id"]][1] if row["id"] in reports else None,
            report_on=today_wib(reports[row["id"]][0]) if row["id"] in reports else None,
            stored_level=row["risk_level"],
        )
    return facts


async def contributed(extra: RiskContributions, lks_ids: list[int] | None, today: date) -> dict[int, list]:
    """lks id → the reasons other domains' risk factors add (set-based: each
    factor answers for all the LKS at once)."""
    out: dict[int, list] = defaultdict(list)
    for factor in extra.factors:
        for lks_id, reasons in (await factor(lks_ids, today)).items():
            out[lks_id] += [[code, int(points), dict(params or {})] for code, points, params in reasons]
    return out


def _kept(previous: dict | None) -> list:
    """The reasons of another domain's factors in a stored assessment (codes
    joint monitoring does not know): kept when the caller has no factors."""
    if previous is None:
        return []
    reasons = json.loads(previous["reasons"]) if isinstance(previous["reasons"], str) else previous["reasons"]
    return [r for r in reasons or [] if r[0] not in REASONS]


async def assess(
    lks_ids: list[int] | None = None, *, now: datetime, factors: RiskContributions | None = None
) -> dict[int, str]:
    """Recompute the risk of all LKS (or the given ones); write what changed.
    Returns lks id → level for everything assessed. ``factors``: other
    domains' contributions (``inspections.hooks``); None (a caller without
    the wiring, e.g. an incident recorded) keeps the contributed reasons
    last stored."""
    today = today_wib(now)
    facts = await gather(lks_ids, now)
    extra = await contributed(factors, lks_ids, today) if factors is not None else None
    previous_query = RiskAssessment.select(RiskAssessment.lks, RiskAssessment.level, RiskAssessment.score, RiskAssessment.reasons)
    if lks_ids is not None:
        previous_query = previous_query.where(RiskAssessment.lks.is_in(lks_ids))
    previous = {r["lks"]: r for r in await previous_query}
    levels: dict[int, str] = {}
    changed: list[dict] = []
    for lks_id, f in facts.items():
        old = previous.get(lks_id)
        level, total, reasons = score(f, today, extra.get(lks_id, ()) if extra is not None else _kept(old))
        levels[lks_id] = level
        encoded = json.dumps(reasons, sort_keys=True)
        if old is None or old["level"] != level or old["score"] != total or _norm(old["reasons"]) != encoded:
            changed.append(
                {"lks": lks_id, "level": level, "score": total, "reasons": encoded, "last_visit_on": f.last_visit_on, "computed_at": now}
            )
    columns = [RiskAssessment.lks, RiskAssessment.level, RiskAssessment.score, RiskAssessment.reasons,
               RiskAssessment.last_visit_on, RiskAssessment.computed_at]
    await insert_many(
        RiskAssessment, columns,
        [(r["lks"], r["level"], r["score"], r["reasons"], r["last_visit_on"], r["computed_at"]) for r in changed],
        conflict=RiskAssessment.lks, update=columns[1:],
    )
    # The registry's copy (its narrow risk table), where the level differs.
    await set_levels({lks_id: level for lks_id, level in levels.items() if facts[lks_id].stored_level != level})
    return levels


def _norm_list(reasons) -> list:
    return json.loads(reasons) if isinstance(reasons, str) else list(reasons or [])


def _norm(reasons) -> str:
    value = json.loads(reasons) if isinstance(reasons, str) else reasons
    return json.dumps(value, sort_keys=True)


async def assessment(lks_id: int) -> dict | None:
    # On every view of the LKS page (its risk panel): the statement is built once.
    rows = await fetch(select_all(RiskAssessment) + ' WHERE "inspections_risk"."lks" = {} LIMIT 1', lks_id)
    row = rows[0] if rows else None
    if row is not None and isinstance(row["reasons"], str):
        row["reasons"] = json.loads(row["reasons"])
    return row


async def current_risk(lks_id: int, *, now: datetime, factors: RiskContributions = NONE) -> dict | None:
    """The risk of an LKS as pages show it: the stored assessment, or for an
    LKS the daily plan has not assessed yet its level computed now (nothing
    is written); None for a closed LKS. Reasons as translated sentences."""
    row = await assessment(lks_id)
    if row is not None:
        return {"level": row["level"], "score": row["score"], "reasons": describe(row["reasons"], factors),
                "computed_at": row["computed_at"]}
    facts = (await gather([lks_id], now)).get(lks_id)
    if facts is None:
        return None
    today = today_wib(now)
    extra = (await contributed(factors, [lks_id], today)).get(lks_id, ())
    level, total, reasons = score(facts, today, extra)
    return {"level": level, "score": total, "reasons": describe(reasons, factors), "computed_at": None}


async def risk_panel_at(actor: Actor, lks: dict, *, now: datetime, factors: RiskContributions = NONE) -> dict | None:
    """The risk level and its reasons, for Dinas Sosial staff only: the reasons
    name open incidents, which an LKS's own manager must never see."""
    if not is_staff(actor):
        return None
    risk = await current_risk(lks["id"], now=now, factors=factors)
    return {
        "template": "inspections/_risk_panel.html",
        "level": risk["level"] if risk else None,
        "score": risk["score"] if risk else 0,
        "reasons": risk["reasons"] if risk else [],
    }


def risk_panel(factors: Callable[[], RiskContributions] = lambda: NONE) -> Callable[[Actor, dict], Awaitable[dict | None]]:
    """The registry's LKS_DETAIL_PANELS provider: the panel as of now, with
    the reasons of the risk factors ``factors()`` gives at that time."""

    async def panel(actor: Actor, lks: dict) -> dict | None:
        return await risk_panel_at(actor, lks, now=datetime.now(timezone.utc), factors=factors())

    return panel
