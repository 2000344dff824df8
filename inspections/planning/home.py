"""The home page of inspectors and partners (``sigap.wiring.HOME_PANELS``):
their tasks still to do that are overdue, due today and due later this week
(Monday to Sunday, WIB), overdue on top, then how many alerts wait for
them. What they may see is the task list's rule (``tasks_due_in`` through
``visible_task_filter``): their teams' tasks and those they lead."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from inspections.alerts.services import unacknowledged_count
from inspections.planning.services import ACTIVE_STATUSES, tasks_due_in, today_wib, with_overdue
from registry import regions
from registry.access import FIELD_ROLES
from sigap.audit import Actor

SHOWN = 15  # tasks per group; the group links to the whole list past this


def actor_for(user) -> Actor:
    """The signed-in user (``sigap.web.CurrentUser``) as the services' actor."""
    return Actor(user_id=user.id, username=user.username, role=user.role, lks_id=user.lks_id)


def week_end(today: date) -> date:
    """The Sunday that ends ``today``'s week (Indonesian weeks run Monday to Sunday)."""
    return today + timedelta(days=6 - today.weekday())


def _list_href(start: date | None, end: date) -> str:
    query = "status=active" + (f"&from={start.isoformat()}" if start else "") + f"&to={end.isoformat()}"
    return f"/tasks?{query}"


async def field_home(user, now: datetime) -> dict | None:
    """The panel: ``groups`` (overdue, today, this week: each with its
    ``tasks``, whether there are more than shown and the list they come
    from), the kelurahan/kecamatan names, and the open alert count."""
    if user is None or user.role not in FIELD_ROLES:
        return None
    actor = actor_for(user)
    today = today_wib(now)
    end = week_end(today)
    statuses = list(ACTIVE_STATUSES)
    # One read, three ranges: so that many overdue tasks cannot push today's
    # off the page; and, for a quiet week, the next visit after it.
    earlier, coming, following = await tasks_due_in(
        actor, [(None, today - timedelta(days=1), SHOWN + 1), (today, end, 200), (end + timedelta(days=1), None, 1)],
        statuses=statuses,
    )
    coming = with_overdue(coming, now)
    overdue = [dict(t, overdue=True) for t in earlier[:SHOWN]]
    late_today = [t for t in coming if t["overdue"]]  # an urgent visit whose hour has passed
    overdue = late_today + overdue
    due_today = [t for t in coming if not t["overdue"] and t["due_on"] == today]
    this_week = [t for t in coming if not t["overdue"] and t["due_on"] > today]
    groups = [
        {"key": "overdue", "tasks": overdue[:SHOWN], "more": len(earlier) > SHOWN or len(overdue) > SHOWN,
         "href": _list_href(None, today - timedelta(days=1))},
        {"key": "today", "tasks": due_today[:SHOWN], "more": len(due_today) > SHOWN, "href": _list_href(today, today)},
        {"key": "week", "tasks": this_week[:SHOWN], "more": len(this_week) > SHOWN,
         "href": _list_href(today + timedelta(days=1), end)},
    ]
    shown = [t for g in groups for t in g["tasks"]]
    # A quiet week: say when the next visit is, so the page is never a dead end.
    if shown:
        following = []
    shown += following
    places = await regions.region_names({t["kelurahan_code"] for t in shown} | {t["kecamatan_code"] for t in shown})
    return {
        "template": "inspections/_home_tasks.html",
        "order": 10,
        "groups": groups,
        "places": places,
        "today": today,
        "week_end": end,
        "empty": not groups[0]["tasks"] + groups[1]["tasks"] + groups[2]["tasks"],
        "next": following[0] if following else None,
        "alerts": await unacknowledged_count(actor),
        "can_report": user.role == "inspector",
    }
