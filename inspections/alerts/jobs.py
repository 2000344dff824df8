"""Scheduled work of alerts: the hourly ``alerts`` job raises, escalates,
resolves and reopens alerts to match the data; the ``notify`` job (every
minute) builds each user's daily digest and sends the e-mail outbox.

The alerts job is idempotent: each alert has a stable unique key and is
inserted with ON CONFLICT DO NOTHING, severities only ever rise
(compare-and-set), and resolving or reopening is a conditional UPDATE.
Running it twice, late or in two processes at once leaves the table exactly
as one run would.

Digests: from 07:00 WIB, one per active user with an e-mail address and at
least one open, unacknowledged alert they may see, keyed
``digest:{user}:{YYYY-MM-DD}`` (queued once a day however often or
concurrently the job runs). A user without alerts at 07:00 who gets one
later that day receives the digest then. Subject and body are in the user's
language; they list alert titles, LKS names and links only, never an
incident's description or anything about residents. Sending (SMTP, retries,
at most once) is :class:`sigap.mail.Outbox`'s."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from inspections.alerts.conditions import INSERT_COLUMNS, Wanted, wanted_alerts
from inspections.alerts.services import (
    SEVERITY_RANK,
    chunks,
    inbox,
    severity_label,
    unacknowledged_count,
)
from inspections.alerts.tables import Alert, Notification
from inspections.incidents.tables import Severity
from inspections.planning.services import today_wib
from sigap.audit import Actor
from sigap.db import insert_many, write_transaction
from sigap.i18n import WIB, _, format_date, format_datetime, ngettext, use_locale
from sigap.mail import Outbox
from sigap.settings import Settings, get_settings
from sigap.tables import Role, User

log = logging.getLogger("sigap.mail")

DIGEST_HOUR = 7  # WIB
DIGEST_MAX_ITEMS = 50
SEVERITY_ORDER = (Severity.critical.value, Severity.high.value, Severity.medium.value, Severity.low.value)
OUTBOX = Outbox(Notification)


# --- raising ------------------------------------------------------------------------


async def _insert_or_ignore(batch: list[Wanted], now: datetime) -> set[str]:
    """Insert the wanted alerts that are new; returns their unique keys."""
    rows = await insert_many(
        Alert, list(INSERT_COLUMNS), [w.values(now) for w in batch], conflict=Alert.unique_key, returning=Alert.unique_key
    )
    return {r["unique_key"] for r in rows}


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


async def raise_alerts(*, now: datetime, sources: Callable[[], Iterable] | Iterable = ()) -> AlertResult:
    """Raise, escalate, resolve and reopen alerts to match the data at ``now``.
    ``sources``: the ``ALERT_SOURCES`` contributions (or a function giving
    them at run time, as the plugin binds them)."""
    wanted = await wanted_alerts(now=now, sources=sources() if callable(sources) else sources)
    result = AlertResult(open=len(wanted))
    open_rows = await Alert.select(Alert.id, Alert.unique_key, Alert.severity, Alert.team, Alert.task).where(
        Alert.resolved_at.is_null()
    )
    open_by_key = {r["unique_key"]: r for r in open_rows}

    # 1. New ones: insert-or-ignore (a concurrent run may have inserted them),
    #    all in one call: insert_many batches them itself (SQLite: statements
    #    as large as its parameter limit allows, each in a short transaction;
    #    PostgreSQL: one COPY), where batches of 500 cost 270 round trips
    #    (and temporary tables) for the 135,000 alerts of 100,000 LKS.
    new = [w for key, w in wanted.items() if key not in open_by_key]
    inserted = await _insert_or_ignore(new, now) if new else set()
    result.raised = len(inserted)

    # 2. Keys that already existed but were not open: the condition is back.
    #    Reopen under the same key (raised anew, acknowledgements lapse).
    back = [w for w in new if w.unique_key not in inserted]
    for batch in chunks(back):
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
        for batch in chunks(ids):
            async with write_transaction():
                done = await Alert.update({Alert.severity: severity, Alert.escalated_at: now}).where(
                    Alert.id.is_in(batch) & Alert.severity.is_in(lower)
                ).returning(Alert.id)
            result.escalated += len(done)
    # The task was reassigned to another team: the alert follows it.
    for batch in chunks(moved):
        async with write_transaction():
            for alert_id, w in batch:
                await Alert.update({Alert.team: w.team, Alert.task: w.task}).where(Alert.id == alert_id)

    # 4. Resolve open ones the data no longer calls for.
    gone = [row["id"] for key, row in open_by_key.items() if key not in wanted]
    for batch in chunks(gone):
        async with write_transaction():
            done = await Alert.update({Alert.resolved_at: now}).where(
                Alert.id.is_in(batch) & Alert.resolved_at.is_null()
            ).returning(Alert.id)
        result.resolved += len(done)
    return result


# --- the daily digest -----------------------------------------------------------------


@dataclass
class NotifyResult:
    digests: int = 0
    sent: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.digests} digests built, {self.sent} messages sent, {self.failed} failed"


async def notify(*, now: datetime, settings: Settings | None = None) -> NotifyResult:
    settings = settings or get_settings()
    result = NotifyResult()
    result.digests = await build_digests(now=now, base_url=settings.base_url)
    result.sent, result.failed = await OUTBOX.send_pending(now=now, settings=settings)
    return result


def digest_key(user_id: int, now: datetime) -> str:
    return f"digest:{user_id}:{today_wib(now).isoformat()}"


def render_digest(items: list[dict], *, total: int, now: datetime, base_url: str) -> tuple[str, str]:
    """Subject and plain-text body in the current language: the first
    ``DIGEST_MAX_ITEMS`` of ``items`` (most urgent first) out of ``total``."""
    base = base_url
    total = max(total, len(items))
    subject = ngettext(
        "SIGAP: %(num)s alert needs your attention", "SIGAP: %(num)s alerts need your attention", total
    )
    lines = [
        _("SIGAP daily digest, %(date)s", date=format_date(now)),
        "",
        _("These alerts are open and you have not acknowledged them yet (as of %(time)s):", time=format_datetime(now)),
    ]
    shown = items[:DIGEST_MAX_ITEMS]
    for severity in SEVERITY_ORDER:
        group = [a for a in shown if a["severity"] == severity]
        if not group:
            continue
        lines += ["", f"{severity_label(severity).upper()} ({len(group)})"]
        for a in group:
            lines.append(f"- {a['title']}" + (f" — {a['lks_name']}" if a["lks_name"] else ""))
            if a["link"]:
                lines.append(f"  {base}{a['link']}")
    if total > len(shown):
        lines += ["", ngettext("…and %(num)s more alert.", "…and %(num)s more alerts.", total - len(shown))]
    lines += [
        "",
        _("All your alerts: %(url)s", url=f"{base}/alerts"),
        "",
        "-- ",
        _("You receive this e-mail because your SIGAP account has this address. "
          "Acknowledge an alert in SIGAP to leave it out of the next digest."),
    ]
    return subject, "\n".join(lines) + "\n"


async def build_digests(*, now: datetime, base_url: str | None = None) -> int:
    """Today's digest for every user who has none yet and has alerts to read."""
    if now.astimezone(WIB).hour < DIGEST_HOUR:
        return 0
    base_url = base_url if base_url is not None else get_settings().base_url
    users = await User.select(User.id, User.username, User.role, User.lks_id, User.locale).where(
        (User.is_active == True) & User.email.is_not_null() & (User.email != "")  # noqa: E712
    ).order_by(User.id)
    keys = {digest_key(u["id"], now): u for u in users}
    done = await OUTBOX.queued_keys(list(keys))
    built = 0
    for key, user in keys.items():
        if key in done:
            continue
        try:
            role = Role(user["role"])
        except ValueError:
            continue
        actor = Actor(user_id=user["id"], username=user["username"], role=role, lks_id=user["lks_id"])
        try:
            with use_locale(user["locale"] or "id"):
                items = await inbox(actor, now=now, limit=DIGEST_MAX_ITEMS)
                if not items:
                    continue
                total = await unacknowledged_count(actor)
                subject, body = render_digest(items, total=total, now=now, base_url=base_url)
            built += await OUTBOX.enqueue(user_id=user["id"], kind="digest", key=key, subject=subject, body=body, now=now)
        except Exception:  # one user's digest must not stop the others'
            log.exception("digest not built", extra={"user_id": user["id"]})
    return built


async def purge_outbox(now: datetime, settings: Settings, storage: Any) -> dict[str, int]:
    """The daily retention job's share (``sigap.retention.RETENTION``):
    digests sent or given up on more than SIGAP_RETENTION_OUTBOX_DAYS ago."""
    return {"outbox": await OUTBOX.purge(before=now - timedelta(days=settings.retention_outbox_days))}
