"""Alert rules: who sees which alert, its title in the reader's language,
the inbox and acknowledgements.

Who sees an alert is decided here (:func:`visible_alert_filter`): staff and
admins see all; inspectors and partners those of their teams and of the tasks
they lead; an LKS manager only the ``manager_visible`` alerts of their own
LKS (registration, accreditation and document expiry; never incidents).

An acknowledgement hides an alert from that user's inbox and digest until it
escalates or is reopened: an alert counts as acknowledged when the user's
acknowledgement is at least as recent as the alert's last escalation."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from inspections.alerts.tables import Alert, AlertAck, AlertKind
from inspections.incidents.services import SEVERITY_LABELS
from inspections.incidents.tables import Severity
from inspections.planning.services import (
    INCIDENT_VISIT_HOURS,
    TASK_KIND_LABELS,
    today_wib,
)
from inspections.teams.services import teams_of_query
from registry.access import FIELD_ROLES, is_staff
from registry.documents import type_label
from sigap import audit
from sigap.audit import Actor
from sigap.db import built_once, fetch_where, write_transaction
from sigap.errors import Forbidden, NotFound
from sigap.i18n import N_, _, choice_label, format_date, ngettext
from sigap.tables import Role

SEVERITY_RANK = {Severity.low.value: 0, Severity.medium.value: 1, Severity.high.value: 2, Severity.critical.value: 3}
# The LKS's own manager may see these (and only these) about their LKS.
MANAGER_KINDS = frozenset(
    {
        AlertKind.registration_expiring.value,
        AlertKind.registration_expired.value,
        AlertKind.accreditation_expiring.value,
        AlertKind.document_expiring.value,
        AlertKind.improvement_overdue.value,
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
    AlertKind.team_without_lead: N_("Visit for a team without a lead"),
    AlertKind.improvement_overdue: N_("Improvement action overdue"),
}

BATCH = 500


def chunks(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- who sees what -----------------------------------------------------------------


async def visible_alert_filter(actor: Actor):
    """A Piccolo condition limiting alerts to what ``actor`` may see, or None
    for everything (staff and admins)."""
    if is_staff(actor):
        return None
    if actor.role in FIELD_ROLES:
        if actor.user_id is None:  # as the join on the task's lead would have it
            return WhereRaw(
                '("inspections_alert"."task" IS NULL'
                ' OR "inspections_alert"."task" IN (SELECT "id" FROM "inspections_task" WHERE "lead" IS NULL))'
            )
        # Alerts of the tasks they lead or of their teams, as text (sub-selects,
        # no join needed): Piccolo conditions on foreign keys cost more to
        # build than the read takes.
        return WhereRaw(
            '("inspections_alert"."task" IN (SELECT "id" FROM "inspections_task" WHERE "lead" = {})'
            ' OR "inspections_alert"."team" IN ({}))', actor.user_id, teams_of_query(actor.user_id),
        )
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
    "team_without_lead": N_("%(task)s due %(date)s went to a team without a lead: name a lead"),
    "improvement_overdue": N_("Improvement action not done by %(date)s: %(title)s"),
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
    if kind in (AlertKind.task_overdue.value, AlertKind.team_without_lead.value):
        return _(msgid, task=choice_label(TASK_KIND_LABELS, p.get("task_kind")), date=when)
    if kind == AlertKind.document_expiring.value:
        return _(msgid, document=type_label(p.get("doc_type") or "other"), date=when)
    if kind == AlertKind.incident_unvisited.value:
        return _(msgid, hours=p.get("hours", INCIDENT_VISIT_HOURS))
    if kind == AlertKind.improvement_overdue.value:
        return _(msgid, date=when, title=str(p.get("title") or ""))
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
    return choice_label(SEVERITY_LABELS, value)


def kind_label(value: str) -> str:
    return choice_label(KIND_LABELS, value)


# --- inbox ------------------------------------------------------------------------------


def _last_raised(row: dict) -> datetime:
    return max(row["raised_at"], row["escalated_at"]) if row["escalated_at"] else row["raised_at"]


def _acks_query():
    # The alert joins in for the "still open" condition.
    return AlertAck.select(AlertAck.alert, AlertAck.at, AlertAck.alert.resolved_at.as_alias("alert_resolved_at"))


async def _acks(user_id: int, *, open_only: bool) -> dict[int, datetime]:
    """alert id -> when ``user_id`` acknowledged it (built once: read on every inbox view)."""
    condition = AlertAck.user == user_id
    if open_only:
        condition = condition & AlertAck.alert.resolved_at.is_null()
    rows = await fetch_where(built_once("inspections.alerts.acks", _acks_query), condition)
    return {r["alert"]: r["at"] for r in rows}


def _inbox_query():
    # The LKS's name is the only join: who may see an alert is a sub-select
    # (visible_alert_filter) and neither the page nor the API shows the task's lead.
    return Alert.select(*Alert.all_columns(), Alert.lks.name.as_alias("lks_name"))


async def inbox(
    actor: Actor, *, include_acknowledged: bool = False, include_resolved: bool = False, now: datetime | None = None,
    limit: int | None = 200, severity: str | None = None,
) -> list[dict]:
    """The alerts ``actor`` may see, unacknowledged first, then by severity
    (critical first) and newest; titles in the current language. ``severity``:
    only those of that severity."""
    items, _complete = await _inbox(
        actor, include_acknowledged=include_acknowledged, include_resolved=include_resolved, now=now, limit=limit,
        severity=severity,
    )
    return items if limit is None else items[:limit]


async def _inbox(
    actor: Actor, *, include_acknowledged: bool, include_resolved: bool, now: datetime | None, limit: int | None,
    severity: str | None,
) -> tuple[list[dict], bool]:
    """:func:`inbox`'s items (not yet cut to ``limit``), and whether they
    hold every alert the filters match (the read was not cut by its LIMIT)."""
    now = now or datetime.now(timezone.utc)
    condition = await visible_alert_filter(actor)
    acks = await _acks(actor.user_id, open_only=not include_resolved) if actor.user_id is not None else {}
    if not include_resolved:
        condition = Alert.resolved_at.is_null() if condition is None else condition & Alert.resolved_at.is_null()
    if severity:
        condition = Alert.severity == severity if condition is None else condition & (Alert.severity == severity)
    tail = f' ORDER BY {_severity_order().template} DESC, "inspections_alert"."raised_at" DESC, "inspections_alert"."id" DESC'
    args = []
    if limit is not None:
        # Enough rows that dropping the acknowledged ones still leaves `limit`.
        tail += " LIMIT {}"
        args.append(limit + (0 if include_acknowledged else len(acks)))
    today = today_wib(now)
    items = []
    # Every view of the inbox and the alerts API: the columns and the join
    # are built once (Piccolo took milliseconds each time).
    rows = await fetch_where(built_once("inspections.alerts.inbox", _inbox_query), condition, tail, *args)
    for row in rows:
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
                "task_id": row["task"], "team_id": row["team"], "raised_at": row["raised_at"], "escalated_at": row["escalated_at"],
                "resolved_at": row["resolved_at"], "resolved": row["resolved_at"] is not None,
                "acknowledged": acknowledged, "acknowledged_at": acked_at if acknowledged else None,
                "age": age(last, now), "_last": last.timestamp(),
            }
        )
    items.sort(key=lambda a: (a["resolved"], a["acknowledged"], -SEVERITY_RANK.get(a["severity"], 0), -a["_last"]))
    for item in items:
        del item["_last"]
    return items, limit is None or len(rows) < args[-1]


async def inbox_and_count(
    actor: Actor, *, include_acknowledged: bool = False, now: datetime | None = None, limit: int = 200,
    severity: str | None = None,
) -> tuple[list[dict], int]:
    """The inbox and :func:`unacknowledged_count`. When the inbox read every
    open alert the actor may see (no severity filter, not cut by the limit)
    the count comes from those rows, with the same rule, and costs no query."""
    items, complete = await _inbox(
        actor, include_acknowledged=include_acknowledged, include_resolved=False, now=now, limit=limit, severity=severity,
    )
    if complete and not severity:
        count = sum(1 for item in items if not item["acknowledged"])
    else:
        count = await unacknowledged_count(actor)
    return items[:limit], count


async def unacknowledged_count(actor: Actor) -> int:
    """How many open alerts ``actor`` may see and has not acknowledged (since
    their last escalation): the inbox's length without its limit. One
    statement: an acknowledgement counts when it is no older than the
    alert's last raising (:func:`_last_raised`: raised, or escalated later)."""
    condition = Alert.resolved_at.is_null()
    visible = await visible_alert_filter(actor)
    if visible is not None:
        condition = condition & visible
    if actor.user_id is not None:
        condition = condition & WhereRaw(_NOT_ACKNOWLEDGED, actor.user_id)
    [row] = await fetch_where(_COUNT, condition)
    return int(row["n"])


_COUNT = 'SELECT COUNT(*) AS "n" FROM "inspections_alert"'
_NOT_ACKNOWLEDGED = (
    'NOT EXISTS (SELECT 1 FROM "inspections_alert_ack" k WHERE k."alert" = "inspections_alert"."id"'
    ' AND k."user" = {} AND k."at" >= "inspections_alert"."raised_at"'
    ' AND ("inspections_alert"."escalated_at" IS NULL OR k."at" >= "inspections_alert"."escalated_at"))'
)


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
        await audit.record(actor, "alert.acknowledge", "alert", alert_id, now=now)
    return {"id": alert_id, "acknowledged": True, "acknowledged_at": now}
