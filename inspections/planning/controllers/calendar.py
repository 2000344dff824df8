"""The task calendar (``/tasks/calendar``, a month per page), the private
calendar address (``POST /tasks/feed``: issue or revoke) and the iCal feed
itself (``/tasks/feed/{token}.ics``: the token authenticates, no session)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.dates import get_day_names
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ASGIApp, Receive, Scope, Send

from inspections.planning import feeds, services
from inspections.planning.tables import TaskStatus
from inspections.teams.services import team_choices
from inspections.web import FIELD_OR_STAFF, NO_STORE, int_field
from sigap.errors import DomainError, NotFound
from sigap.i18n import _, format_date, get_locale
from sigap.openapi import download
from sigap.web import actor_of, content_disposition, page, settings_of, utcnow

CALENDAR_LIMIT = 3000
CALENDAR_CELL_MAX = 4  # tasks shown in a day cell before "+n more"


def _month(value: str | None, today: date) -> date:
    if value and re.fullmatch(r"\d{4}-\d{2}", value):
        year, month = int(value[:4]), int(value[5:])
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return date(year, month, 1)
    return today.replace(day=1)


def _shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def calendar_href(team: int | None, mine: bool, month: str = "") -> str:
    query = {k: v for k, v in (("month", month), ("team", str(team or "")), ("mine", "1" if mine else "")) if v}
    return "/tasks/calendar" + ("?" + urlencode(query) if query else "")


def _feed_url(request: Request, raw: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/tasks/feed/{raw}.ics"


async def _calendar_page(request: Request, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    now = utcnow()
    today = services.today_wib(now)
    params = dict(request.query_params)
    first = _month(params.get("month"), today)
    following = _shift_month(first, 1)
    start = first - timedelta(days=first.weekday())  # Monday
    last = following - timedelta(days=1)
    end = last + timedelta(days=6 - last.weekday())  # Sunday
    team = int_field(params.get("team"))
    mine = params.get("mine") == "1"
    rows = await services.search_tasks(
        actor, statuses=[*services.ACTIVE_STATUSES, TaskStatus.done.value], team_id=team, mine=mine, due_from=start, due_to=end,
        limit=CALENDAR_LIMIT,
    )
    by_day: dict[date, list[dict]] = {}
    for row in services.with_overdue(rows, now):
        by_day.setdefault(row["due_on"], []).append(row)
    weeks = []
    day = start
    while day <= end:
        weeks.append([(day + timedelta(days=i)) for i in range(7)])
        day += timedelta(days=7)
    names = get_day_names("wide", locale=get_locale())
    short = get_day_names("abbreviated", locale=get_locale())
    keep = urlencode({k: v for k, v in (("team", str(team or "")), ("mine", "1" if mine else "")) if v})
    context.setdefault("feed_url", None)
    return page(
        "inspections/calendar.html",
        status_code=status_code,
        first=first,
        title=format_date(first, "MMMM yyyy"),
        prev_month=_shift_month(first, -1).strftime("%Y-%m"),
        prev_title=format_date(_shift_month(first, -1), "MMMM yyyy"),
        next_month=following.strftime("%Y-%m"),
        next_title=format_date(following, "MMMM yyyy"),
        this_month=today.strftime("%Y-%m"),
        weeks=weeks,
        by_day=by_day,
        day_names=[(names[i], short[i]) for i in range(7)],
        today=today,
        team=team,
        mine=mine,
        keep=keep,
        teams=await team_choices(actor),
        truncated=len(rows) >= CALENDAR_LIMIT,
        cell_max=CALENDAR_CELL_MAX,
        feed=await feeds.feed_of(actor.user_id),
        **context,
    )


class CalendarPages(Controller):
    path = "/tasks"
    include_in_schema = False
    guards = [FIELD_OR_STAFF]

    @get("/calendar")
    async def calendar(self, request: Request) -> Template:
        return await _calendar_page(request)

    @post("/feed")
    async def feed(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        """Create (or replace) the private calendar address, shown once; or
        revoke it (``action=revoke``)."""
        actor = actor_of(request)
        if data.get("action") == "revoke":
            await feeds.revoke(actor, now=utcnow())
            return Redirect("/tasks/calendar?feed=revoked#feed", status_code=303)
        raw = await feeds.issue(actor, now=utcnow())
        response = await _calendar_page(request, status_code=HTTP_201_CREATED, feed_url=_feed_url(request, raw))
        response.headers.update(NO_STORE)
        return response


def _redact_feed_path(app: ASGIApp) -> ASGIApp:
    """The feed token is a credential: keep it out of the request log."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        finally:
            scope["path"] = "/tasks/feed/[token].ics"
            scope["raw_path"] = b"/tasks/feed/[token].ics"

    return middleware


class CalendarFeedRoute(Controller):
    """The private iCal feed: the token in the URL authenticates, no session."""

    path = "/tasks/feed"
    include_in_schema = False
    opt = {"public": True}

    @get("/{feed_token:str}", middleware=[_redact_feed_path], include_in_schema=True, tags=["downloads"],
         operation_class=download("The owner's tasks as an iCalendar feed (the token in the path authenticates).", "text/calendar"))
    async def ics(self, request: Request, feed_token: FromPath[str]) -> Response[bytes]:
        raw = feed_token[:-4] if feed_token.endswith(".ics") else feed_token
        found = await feeds.owner(raw)
        if found is None:
            raise NotFound(_("The page or item you asked for does not exist."))
        actor, locale = found
        now = utcnow()
        try:
            tasks = await feeds.tasks_for(actor, now=now)
        except DomainError:
            raise NotFound(_("The page or item you asked for does not exist.")) from None
        body = feeds.render(
            tasks, now=now, base_url=str(request.base_url), uid_domain=f"sigap.{settings_of(request).region}", locale=locale
        )
        return Response(
            body.encode(),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": content_disposition("sigap.ics", inline=True), "Cache-Control": "private, no-store",
                     "X-Content-Type-Options": "nosniff"},
        )
