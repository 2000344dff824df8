"""The private iCal feed of a user's tasks.

The feed URL carries a random token instead of a session (calendar apps
cannot sign in); only its SHA-256 is stored, so the table never holds a
usable URL. Issuing a new token replaces the old one; revoking deletes it.
The feed shows what the owner may see *now* (their role and teams at the
time of each fetch), one all-day event per task, with the task kind and the
LKS name: never notes, findings or anything of an incident."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta, timezone

from inspections.planning.services import (
    TASK_KIND_LABELS,
    TASK_STATUS_LABELS,
    search_tasks,
    today_wib,
)
from inspections.planning.tables import CalendarFeed, TaskStatus
from registry.access import FIELD_ROLES, STAFF_ROLES
from sigap import audit
from sigap.audit import Actor
from sigap.db import fetch, write_transaction
from sigap.errors import Forbidden
from sigap.i18n import N_, _, choice_label, use_locale
from sigap.tables import Role

FEED_ROLES = STAFF_ROLES | FIELD_ROLES
PAST_DAYS = 180  # how far back the feed reaches
MAX_EVENTS = 2000
FEED_STATUSES = (TaskStatus.open.value, TaskStatus.in_progress.value, TaskStatus.done.value)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def issue(actor: Actor, *, now: datetime) -> str:
    """A new feed token for the actor (the previous one stops working);
    returned once, stored hashed."""
    if actor.role not in FEED_ROLES or actor.user_id is None:
        raise Forbidden(_("Your role does not allow this action."))
    raw = secrets.token_urlsafe(32)
    async with write_transaction():
        replaced = await CalendarFeed.exists().where(CalendarFeed.user == actor.user_id)
        await CalendarFeed.insert(CalendarFeed(user=actor.user_id, token_hash=hash_token(raw), created_at=now)).on_conflict(
            target=CalendarFeed.user, action="DO UPDATE", values=[CalendarFeed.token_hash, CalendarFeed.created_at]
        )
        await audit.record(actor, "calendar_feed.reissue" if replaced else "calendar_feed.issue", "user", actor.user_id, now=now)
    return raw


async def revoke(actor: Actor, *, now: datetime) -> bool:
    if actor.user_id is None:
        return False
    async with write_transaction():
        existing = await CalendarFeed.exists().where(CalendarFeed.user == actor.user_id)
        if existing:
            await CalendarFeed.delete().where(CalendarFeed.user == actor.user_id)
            await audit.record(actor, "calendar_feed.revoke", "user", actor.user_id, now=now)
    return existing


_FEED_OF = (
    'SELECT "inspections_calendar_feed"."created_at" AS "created_at" FROM "inspections_calendar_feed"'
    ' WHERE "inspections_calendar_feed"."user" = {} LIMIT 1'
)


async def feed_of(user_id: int | None) -> dict | None:
    if user_id is None:
        return None
    # On every view of the calendar: a prebuilt statement.
    rows = await fetch(_FEED_OF, user_id)
    return rows[0] if rows else None


async def owner(raw: str) -> tuple[Actor, str] | None:
    """The actor a feed token stands for, and their language; None for an
    unknown or revoked token or an account that may no longer see tasks."""
    if not raw or len(raw) > 128:
        return None
    row = await CalendarFeed.select(
        CalendarFeed.user.id.as_alias("user_id"),
        CalendarFeed.user.username.as_alias("username"),
        CalendarFeed.user.role.as_alias("role"),
        CalendarFeed.user.is_active.as_alias("is_active"),
        CalendarFeed.user.locale.as_alias("locale"),
    ).where(CalendarFeed.token_hash == hash_token(raw)).first()
    if row is None or not row["is_active"] or row["role"] not in {r.value for r in FEED_ROLES}:
        return None
    actor = Actor(user_id=row["user_id"], username=row["username"], role=Role(row["role"]))
    return actor, row["locale"] or "id"


async def tasks_for(actor: Actor, *, now: datetime) -> list[dict]:
    today = today_wib(now)
    return await search_tasks(
        actor, statuses=list(FEED_STATUSES), due_from=today - timedelta(days=PAST_DAYS), limit=MAX_EVENTS
    )


# --- iCalendar (RFC 5545) ---------------------------------------------------------

UNANNOUNCED_NOTE = N_("Unannounced visit: do not tell the LKS in advance.")


def _escape(text: str) -> str:
    return (
        str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    """Lines of at most 75 octets, continuation lines starting with a space,
    never splitting a UTF-8 character."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        width = len(ch.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += width
    out.append(current)
    return out


def _stamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def render(tasks: list[dict], *, now: datetime, base_url: str, uid_domain: str, locale: str) -> str:
    """A VCALENDAR with one all-day VEVENT per task (UID stable per task)."""
    with use_locale(locale):
        name = _("SIGAP tasks")
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//SIGAP//Dinas Sosial//ID",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            f"X-WR-CALNAME:{_escape(name)}",
            "X-WR-TIMEZONE:Asia/Jakarta",
            "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
            "X-PUBLISHED-TTL:PT1H",
        ]
        for task in tasks:
            kind = choice_label(TASK_KIND_LABELS, task["kind"])
            summary = f"{kind}: {task['lks_name']}"
            details = [choice_label(TASK_STATUS_LABELS, task["status"])]
            if task.get("team_name"):
                details.append(_("Team: %(name)s", name=task["team_name"]))
            if task.get("unannounced"):
                details.append(_(UNANNOUNCED_NOTE))
            url = f"{base_url.rstrip('/')}/tasks/{task['id']}"
            details.append(url)
            lines += [
                "BEGIN:VEVENT",
                f"UID:task-{task['id']}@{uid_domain}",
                f"DTSTAMP:{_stamp(task.get('updated_at') or now)}",
                f"DTSTART;VALUE=DATE:{_day(task['due_on'])}",
                f"DTEND;VALUE=DATE:{_day(task['due_on'] + timedelta(days=1))}",
                f"SEQUENCE:{max(0, int(task.get('version') or 1) - 1)}",
                f"SUMMARY:{_escape(summary)}",
                f"DESCRIPTION:{_escape(chr(10).join(details))}",
                f"URL:{url}",
                "TRANSP:TRANSPARENT",
                f"STATUS:{'CONFIRMED' if task['status'] != TaskStatus.cancelled.value else 'CANCELLED'}",
                "END:VEVENT",
            ]
        lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))
