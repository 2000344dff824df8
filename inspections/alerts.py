"""Alerts: what needs someone's attention, raised by an hourly job, shown in
an inbox per user (with acknowledge) and sent in a daily e-mail digest.

The job is set-based (a handful of queries over all rows, never one query per
LKS) and idempotent: each alert has a stable unique key and is inserted with
ON CONFLICT DO NOTHING, severities only ever rise (compare-and-set), and
resolving or reopening is a conditional UPDATE. Running it twice, late or in
two processes at once leaves the table exactly as one run would.

Keys name the occurrence, so one condition coming back is a new alert where
it is a new occurrence (a renewed registration has a new ``valid_until``, a
rescheduled task a new due date) and the same alert, reopened, otherwise.

Who sees an alert is decided here (:func:`visible_alert_filter`): staff and
admins see all; inspectors and partners those of their teams and of the tasks
they lead; an LKS manager only the ``manager_visible`` alerts of their own
LKS (registration, accreditation and document expiry; never incidents).

An acknowledgement hides an alert from that user's inbox and digest until it
escalates or is reopened: an alert counts as acknowledged when the user's
acknowledgement is at least as recent as the alert's last escalation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from piccolo.querystring import QueryString

from inspections.services import (
    FIELD_ROLES,
    SEVERITY_LABELS,
    TASK_KIND_LABELS,
    is_staff,
    label,
    pick_team,
    team_ids_of,
    teams_covering,
    today_wib,
)
from inspections.tables import (
    Alert,
    AlertAck,
    AlertKind,
    Finding,
    FindingSeverity,
    Incident,
    Severity,
    Task,
    TaskKind,
    TaskStatus,
)
from registry.tables import (
    AccreditationStatus,
    Document,
    DocumentStatus,
    Lks,
    RegistrationStatus,
    StatusChange,
)
from sigap.audit import Actor
from sigap.db import insert_many, write_transaction
from sigap.errors import Forbidden, NotFound
from sigap.i18n import N_, _, format_date, ngettext
from sigap.tables import Role

# --- thresholds ----------------------------------------------------------------

EXPIRY_WARNING_DAYS = 90  # registration and accreditation
DOCUMENT_WARNING_DAYS = 30
TASK_CRITICAL_AFTER_DAYS = 14
INCIDENT_VISIT_HOURS = 48
UNREGISTERED_CHECK_DAYS = 14

SEVERITY_RANK = {Severity.low.value: 0, Severity.medium.value: 1, Severity.high.value: 2, Severity.critical.value: 3}
OPEN_TASK = (TaskStatus.open.value, TaskStatus.in_progress.value)
# The LKS's own manager may see these (and only these) about their LKS.
MANAGER_KINDS = frozenset(
    {
        AlertKind.registration_expiring.value,
        AlertKind.registration_expired.value,
        AlertKind.accreditation_expiring.value,
        AlertKind.document_expiring.value,
    }
)
INCIDENT_KINDS = frozenset({AlertKind.incident_unvisited.value})
assert not MANAGER_KINDS & INCIDENT_KINDS

KIND_LABELS = {
    AlertKind.task_overdue: N_("Overdue task"),
    AlertKind.registration_expiring: N_("Registration expiring"),
    AlertKind.registration_expired: N_("Registration expired"),
    AlertKind.accreditation_expiring: N_("Accreditation expiring"),
    AlertKind.document_expiring: N_("Document expiring"),
    AlertKind.finding_overdue: N_("Critical finding overdue"),
    AlertKind.incident_unvisited: N_("Incident without a visit"),
    AlertKind.unregistered_unchecked: N_("Unregistered LKS not checked"),
}

BATCH = 500


def _chunks(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ladder(days_left: int, *, medium_at: int, high_at: int) -> str:
    if days_left <= high_at:
        return Severity.high.value
    if days_left <= medium_at:
        return Severity.medium.value
    return Severity.low.value


# --- what should be raised -------------------------------------------------------


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


async def _insert_or_ignore(batch: list[Wanted], now: datetime) -> set[str]:
    """Insert the wanted alerts that are new; returns their unique keys."""
    rows = await insert_many(
        Alert, list(INSERT_COLUMNS), [w.values(now) for w in batch], conflict=Alert.unique_key, returning=Alert.unique_key
    )
    return {r["unique_key"] for r in rows}


async def _overdue_tasks(now: datetime, today: date) -> list[Wanted]:
    rows = await Task.select(
        Task.id, Task.lks, Task.kind, Task.team, Task.due_on, Task.due_at
    ).where(Task.status.is_in(list(OPEN_TASK)) & (Task.due_on <= today))
    out = []
    for r in rows:
        # Urgent tasks carry a deadline to the hour; the others a day.
        overdue = r["due_at"] < now if r["due_at"] is not None else r["due_on"] < today
        if not overdue:
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
            (Lks.registration_status == RegistrationStatus.registered.value)
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


async def _accreditations(today: date) -> list[Wanted]:
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    rows = await Lks.select(Lks.id, Lks.accreditation_valid_until).where(
        (Lks.accreditation_status == AccreditationStatus.accredited.value)
        & Lks.accreditation_valid_until.is_not_null()
        & (Lks.accreditation_valid_until <= horizon)
    )
    out = []
    for r in rows:
        until: date = r["accreditation_valid_until"]
        days = (until - today).days
        severity = Severity.high.value if days < 0 else _ladder(days, medium_at=30, high_at=7)
        out.append(Wanted(AlertKind.accreditation_expiring.value, severity, f"accreditation:{r['id']}:{until.isoformat()}",
                          r["id"], f"/lks/{r['id']}", {"date": until.isoformat()}))
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
        (Finding.status == "open") & (Finding.severity == FindingSeverity.critical.value) & (Finding.due_on < today)
    )
    out = []
    for r in rows:
        team = r["task_team"]
        if team is None:
            covering = pick_team(teams, r["kelurahan_code"] or "", r["kecamatan_code"] or "")
            team = covering["id"] if covering else None
        out.append(Wanted(AlertKind.finding_overdue.value, Severity.critical.value, f"finding_overdue:{r['id']}", r["lks"],
                          f"/lks/{r['lks']}", {"date": r["due_on"].isoformat()}, task=r["task"], team=team))
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
    for batch in _chunks([r["id"] for r in late]):
        for t in await Task.select(Task.id, Task.incident, Task.team, Task.status).where(
            (Task.kind == TaskKind.incident_response.value) & Task.incident.is_in(batch)
        ).order_by(Task.id):
            if t["status"] == TaskStatus.done.value:
                visited.add(t["incident"])
            elif t["status"] in OPEN_TASK:
                response.setdefault(t["incident"], t)
    out = []
    for r in late:
        if r["id"] in visited:
            continue
        task = response.get(r["id"])
        team = task["team"] if task else None
        if team is None:
            covering = pick_team(teams, r["kelurahan_code"] or "", r["kecamatan_code"] or "")
            team = covering["id"] if covering else None
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
    since: dict[int, datetime] = {}
    for r in await StatusChange.select(StatusChange.lks, StatusChange.at).where(
        StatusChange.to_status == RegistrationStatus.unregistered.value
    ):
        if r["lks"] not in since or r["at"] > since[r["lks"]]:
            since[r["lks"]] = r["at"]
    last_check: dict[int, datetime] = {}
    open_check: dict[int, dict] = {}
    for t in await Task.select(Task.id, Task.lks, Task.team, Task.status, Task.done_at).where(
        Task.kind == TaskKind.unregistered_check.value
    ).order_by(Task.id):
        if t["status"] == TaskStatus.done.value and t["done_at"] is not None:
            if t["lks"] not in last_check or t["done_at"] > last_check[t["lks"]]:
                last_check[t["lks"]] = t["done_at"]
        elif t["status"] in OPEN_TASK:
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
        team = task["team"] if task else None
        if team is None:
            covering = pick_team(teams, r["kelurahan_code"] or "", r["kecamatan_code"] or "")
            team = covering["id"] if covering else None
        day = today_wib(start).isoformat()
        out.append(Wanted(AlertKind.unregistered_unchecked.value, Severity.high.value, f"unregistered:{r['id']}:{day}",
                          r["id"], f"/lks/{r['id']}", {"date": day}, task=task["id"] if task else None, team=team))
    return out


async def wanted_alerts(*, now: datetime) -> dict[str, Wanted]:
    """Every alert the data calls for at ``now``, by unique key."""
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
    return {w.unique_key: w for w in found}


# --- the job ----------------------------------------------------------------------


@dataclass
class AlertResult:
    raised: int = 0
    escalated: int = 0
    reopened: int = 0
    resolved: int = 0
    open: int = 0

    def __str__(self) -> str:
        return (
            f"{self.raised} alerts raised, {self.escalated} escalated, {self.reopened} reopened, "
            f"{self.resolved} resolved, {self.open} open"
        )


async def raise_alerts(*, now: datetime) -> AlertResult:
    """Raise, escalate, resolve and reopen alerts to match the data at ``now``."""
    wanted = await wanted_alerts(now=now)
    result = AlertResult(open=len(wanted))
    open_rows = await Alert.select(Alert.id, Alert.unique_key, Alert.severity, Alert.team, Alert.task).where(
        Alert.resolved_at.is_null()
    )
    open_by_key = {r["unique_key"]: r for r in open_rows}

    # 1. New ones: insert-or-ignore (a concurrent run may have inserted them).
    new = [w for key, w in wanted.items() if key not in open_by_key]
    inserted: set[str] = set()
    for batch in _chunks(new):
        inserted |= await _insert_or_ignore(batch, now)
    result.raised = len(inserted)

    # 2. Keys that already existed but were not open: the condition is back.
    #    Reopen under the same key (raised anew, acknowledgements lapse).
    back = [w for w in new if w.unique_key not in inserted]
    for batch in _chunks(back):
        existing = await Alert.select(Alert.id, Alert.unique_key).where(
            Alert.unique_key.is_in([w.unique_key for w in batch]) & Alert.resolved_at.is_not_null()
        )
        by_key = {w.unique_key: w for w in batch}
        if not existing:
            continue
        async with write_transaction():
            for row in existing:
                w = by_key[row["unique_key"]]
                done = await Alert.update(
                    {
                        Alert.resolved_at: None, Alert.raised_at: now, Alert.escalated_at: None, Alert.severity: w.severity,
                        Alert.team: w.team, Alert.task: w.task, Alert.params: json.dumps(w.params), Alert.link: w.link,
                    }
                ).where((Alert.id == row["id"]) & Alert.resolved_at.is_not_null()).returning(Alert.id)
                result.reopened += len(done)

    # 3. Escalate open ones whose severity rose (never lowered: a late or
    #    concurrent run with older data cannot undo an escalation).
    rising: dict[str, list[int]] = {}
    moved: list[tuple[int, Wanted]] = []
    for key, row in open_by_key.items():
        w = wanted.get(key)
        if w is None:
            continue
        if SEVERITY_RANK[w.severity] > SEVERITY_RANK.get(row["severity"], 0):
            rising.setdefault(w.severity, []).append(row["id"])
        if (w.team, w.task) != (row["team"], row["task"]):
            moved.append((row["id"], w))
    for severity, ids in rising.items():
        lower = [s for s, rank in SEVERITY_RANK.items() if rank < SEVERITY_RANK[severity]]
        for batch in _chunks(ids):
            async with write_transaction():
                done = await Alert.update({Alert.severity: severity, Alert.escalated_at: now}).where(
                    Alert.id.is_in(batch) & Alert.severity.is_in(lower)
                ).returning(Alert.id)
            result.escalated += len(done)
    # The task was reassigned to another team: the alert follows it.
    for batch in _chunks(moved):
        async with write_transaction():
            for alert_id, w in batch:
                await Alert.update({Alert.team: w.team, Alert.task: w.task}).where(Alert.id == alert_id)

    # 4. Resolve open ones the data no longer calls for.
    gone = [row["id"] for key, row in open_by_key.items() if key not in wanted]
    for batch in _chunks(gone):
        async with write_transaction():
            done = await Alert.update({Alert.resolved_at: now}).where(
                Alert.id.is_in(batch) & Alert.resolved_at.is_null()
            ).returning(Alert.id)
        result.resolved += len(done)
    return result




# --- who sees what -----------------------------------------------------------------


async def visible_alert_filter(actor: Actor):
    """A Piccolo condition limiting alerts to what ``actor`` may see, or None
    for everything (staff and admins)."""
    if is_staff(actor):
        return None
    if actor.role in FIELD_ROLES:
        condition = Alert.task.lead == actor.user_id
        teams = await team_ids_of(actor.user_id)
        if teams:
            condition = condition | Alert.team.is_in(teams)
        return condition
    if actor.role == Role.manager:
        if actor.lks_id is None:
            return Alert.id < 0  # nothing
        return (
            (Alert.manager_visible == True)  # noqa: E712
            & (Alert.lks == actor.lks_id)
            & Alert.kind.is_in(sorted(MANAGER_KINDS))
        )
    raise Forbidden(_("Your role does not allow this action."))


def _severity_order() -> QueryString:
    whens = " ".join(f"WHEN '{s}' THEN {rank}" for s, rank in SEVERITY_RANK.items())
    return QueryString(f'CASE "inspections_alert"."severity" {whens} ELSE 0 END')


# --- display -------------------------------------------------------------------------

_TITLES = {
    "task_overdue": N_("Overdue task: %(task)s, due %(date)s"),
    "registration_expiring": N_("Registration expires: valid until %(date)s"),
    "registration_expired": N_("Registration expired: valid until %(date)s"),
    "registration_expired_undated": N_("Registration has expired"),
    "accreditation_expiring": N_("Accreditation expires: valid until %(date)s"),
    "accreditation_expired": N_("Accreditation expired: valid until %(date)s"),
    "document_expiring": N_("%(document)s expires: valid until %(date)s"),
    "document_expired": N_("%(document)s expired: valid until %(date)s"),
    "finding_overdue": N_("Critical finding not corrected by %(date)s"),
    "incident_unvisited": N_("Incident without a joint visit after %(hours)s hours"),
    "unregistered_unchecked": N_("Unregistered LKS not checked within 14 days (known since %(date)s)"),
}


def _params(row: dict) -> dict:
    params = row.get("params") or {}
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            params = {}
    return params if isinstance(params, dict) else {}


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def title(row: dict, *, today: date) -> str:
    """The alert's title in the current language, from its kind and params."""
    from registry.documents import type_label

    kind, p = row["kind"], _params(row)
    day = _day(p.get("date") or p.get("due"))
    when = format_date(day) if day else ""
    past = day is not None and day < today
    key = kind
    if kind == AlertKind.registration_expired.value and day is None:
        key = "registration_expired_undated"
    elif kind == AlertKind.accreditation_expiring.value and past:
        key = "accreditation_expired"
    elif kind == AlertKind.document_expiring.value and past:
        key = "document_expired"
    msgid = _TITLES.get(key)
    if msgid is None:
        return str(kind)
    if kind == AlertKind.task_overdue.value:
        return _(msgid, task=label(TASK_KIND_LABELS, p.get("task_kind")), date=when)
    if kind == AlertKind.document_expiring.value:
        return _(msgid, document=type_label(p.get("doc_type") or "other"), date=when)
    if kind == AlertKind.incident_unvisited.value:
        return _(msgid, hours=p.get("hours", INCIDENT_VISIT_HOURS))
    if key == "registration_expired_undated":
        return _(msgid)
    return _(msgid, date=when)


def age(since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        return ngettext("%(num)s minute ago", "%(num)s minutes ago", seconds // 60)
    if seconds < 86400:
        return ngettext("%(num)s hour ago", "%(num)s hours ago", seconds // 3600)
    return ngettext("%(num)s day ago", "%(num)s days ago", seconds // 86400)


def link_for(row: dict, actor: Actor) -> str:
    """Where ``actor`` acts on it: only staff open incident pages; the field
    team acts on the urgent visit task instead."""
    if row["kind"] in INCIDENT_KINDS and not is_staff(actor):
        return f"/tasks/{row['task']}" if row.get("task") else ""
    return row["link"]


def severity_label(value: str) -> str:
    return label(SEVERITY_LABELS, value)


def kind_label(value: str) -> str:
    return label(KIND_LABELS, value)


# --- inbox ------------------------------------------------------------------------------


def _last_raised(row: dict) -> datetime:
    return max(row["raised_at"], row["escalated_at"]) if row["escalated_at"] else row["raised_at"]


async def inbox(
    actor: Actor, *, include_acknowledged: bool = False, include_resolved: bool = False, now: datetime | None = None,
    limit: int | None = 200,
) -> list[dict]:
    """The alerts ``actor`` may see, unacknowledged first, then by severity
    (critical first) and newest; titles in the current language."""
    from sigap.web import utcnow

    now = now or utcnow()
    condition = await visible_alert_filter(actor)
    ack_query = AlertAck.select(AlertAck.alert, AlertAck.at).where(AlertAck.user == actor.user_id)
    if not include_resolved:
        ack_query = ack_query.where(AlertAck.alert.resolved_at.is_null())
    acks = {r["alert"]: r["at"] for r in await ack_query} if actor.user_id is not None else {}
    query = Alert.select(*Alert.all_columns(), Alert.lks.name.as_alias("lks_name")).order_by(
        _severity_order(), ascending=False
    ).order_by(Alert.raised_at, ascending=False).order_by(Alert.id, ascending=False)
    if condition is not None:
        query = query.where(condition)
    if not include_resolved:
        query = query.where(Alert.resolved_at.is_null())
    if limit is not None:
        # Enough rows that dropping the acknowledged ones still leaves `limit`.
        query = query.limit(limit + (0 if include_acknowledged else len(acks)))
    today = today_wib(now)
    items = []
    for row in await query:
        acked_at = acks.get(row["id"])
        last = _last_raised(row)
        acknowledged = acked_at is not None and acked_at >= last
        if acknowledged and not include_acknowledged:
            continue
        items.append(
            {
                "id": row["id"], "kind": row["kind"], "severity": row["severity"], "title": title(row, today=today),
                "kind_label": kind_label(row["kind"]), "severity_label": severity_label(row["severity"]),
                "link": link_for(row, actor), "lks_id": row["lks"], "lks_name": row["lks_name"] or "",
                "task_id": row["task"], "raised_at": row["raised_at"], "escalated_at": row["escalated_at"],
                "resolved_at": row["resolved_at"], "resolved": row["resolved_at"] is not None,
                "acknowledged": acknowledged, "acknowledged_at": acked_at if acknowledged else None,
                "age": age(last, now), "_last": last.timestamp(),
            }
        )
    items.sort(key=lambda a: (a["resolved"], a["acknowledged"], -SEVERITY_RANK.get(a["severity"], 0), -a["_last"]))
    for item in items:
        del item["_last"]
    return items if limit is None else items[:limit]


async def unacknowledged_count(actor: Actor) -> int:
    """How many open alerts ``actor`` may see and has not acknowledged (since
    their last escalation): the inbox's length without its limit."""
    condition = await visible_alert_filter(actor)
    query = Alert.count().where(Alert.resolved_at.is_null())
    if condition is not None:
        query = query.where(condition)
    total = await query
    if actor.user_id is None or not total:
        return total
    acks = {
        r["alert"]: r["at"]
        for r in await AlertAck.select(AlertAck.alert, AlertAck.at).where(
            (AlertAck.user == actor.user_id) & AlertAck.alert.resolved_at.is_null()
        )
    }
    acknowledged = 0
    for batch in _chunks(list(acks)):
        query = Alert.select(Alert.id, Alert.raised_at, Alert.escalated_at).where(Alert.id.is_in(batch))
        if condition is not None:
            query = query.where(condition)
        acknowledged += sum(1 for row in await query if acks[row["id"]] >= _last_raised(row))
    return total - acknowledged


async def acknowledge(actor: Actor, alert_id: int, *, now: datetime) -> dict:
    """Record that ``actor`` has seen the alert (once per user; acknowledging
    again after an escalation moves the time forward)."""
    if actor.user_id is None:
        raise Forbidden(_("Your role does not allow this action."))
    condition = await visible_alert_filter(actor)
    query = Alert.select(Alert.id).where(Alert.id == alert_id)
    if condition is not None:
        query = query.where(condition)
    if await query.first() is None:
        raise NotFound(_("Alert not found."))
    async with write_transaction():
        await AlertAck.insert(
            AlertAck(alert=alert_id, user=actor.user_id, at=now, unique_key=f"{alert_id}:{actor.user_id}")
        ).on_conflict(target=AlertAck.unique_key, action="DO UPDATE", values=[AlertAck.at])
    return {"id": alert_id, "acknowledged": True, "acknowledged_at": now}
