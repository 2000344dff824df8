"""Joint monitoring pages and JSON API: teams, tasks (list, detail and
actions, calendar, private iCal feed), incidents, and the monitoring page
of an LKS. Pages and API call the same services; the services decide who
sees what (an inspector or partner sees only their teams' tasks, only
Dinas Sosial staff see incidents)."""

from __future__ import annotations

import functools

import re
from urllib.parse import urlencode
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import get_day_names
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ASGIApp, Receive, Scope, Send

from inspections import feeds, labels, queries, risk, services
from inspections.tables import FindingSeverity, Task, TaskKind, TaskStatus
from registry import regions
from registry import services as registry_services
from registry.tables import Lks
from sigap import audit
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import N_, WIB, _, choice_label, format_date, get_locale
from sigap.tables import Role
from sigap.web import actor_of, page, requires, settings_of, utcnow

STAFF = requires(Role.admin, Role.staff)
FIELD_OR_STAFF = requires(Role.admin, Role.staff, Role.inspector, Role.partner)
LIST_LIMIT = 200
CALENDAR_LIMIT = 3000
CALENDAR_CELL_MAX = 4  # tasks shown in a day cell before "+n more"
NO_STORE = {"Cache-Control": "private, no-store"}
REGION_CODE = re.compile(r"^\d{2}(\.\d{2}){0,2}(\.\d{4})?$")

TASK_STATUS_FILTERS = {
    "active": N_("Open or in progress"),
    "open": N_("Open"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
    "all": N_("All"),
}
ACTIVE = [TaskStatus.open.value, TaskStatus.in_progress.value]


def _choices(mapping: dict) -> list[tuple[str, str]]:
    return [(getattr(k, "value", k), _(v)) for k, v in mapping.items()]


def _int(value: Any) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _date(value: Any, name: str, errors: dict[str, str] | None = None) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        if errors is not None:
            errors[name] = _("Dates must be written as YYYY-MM-DD.")
        return None


def _today(now: datetime) -> date:
    return now.astimezone(WIB).date()


def _overdue(task: dict, now: datetime) -> bool:
    if task["status"] not in ACTIVE:
        return False
    if task.get("due_at"):
        return task["due_at"] < now
    return task["due_on"] < _today(now)


def _decorate(rows: list[dict], now: datetime) -> list[dict]:
    for row in rows:
        row["overdue"] = _overdue(row, now)
    return rows


def _lks_href(actor, lks_id: int) -> str:
    """Staff open the register record; inspectors and partners the
    monitoring page (the register is not theirs)."""
    return f"/lks/{lks_id}" if services.is_staff(actor) else f"/lks/{lks_id}/monitoring"


# --- tasks: pages -------------------------------------------------------------------


@dataclass
class TaskFilter:
    status: str = "active"
    team: int | None = None
    kind: str = ""
    kecamatan: str = ""
    mine: bool = False
    due_from: date | None = None
    due_to: date | None = None

    @classmethod
    def parse(cls, params: dict[str, str]) -> "TaskFilter":
        status = params.get("status", "active")
        kecamatan = params.get("kecamatan", "")
        return cls(
            status=status if status in TASK_STATUS_FILTERS else "active",
            team=_int(params.get("team")),
            kind=params.get("kind", "") if params.get("kind") in TaskKind.__members__ else "",
            kecamatan=kecamatan if REGION_CODE.match(kecamatan) else "",
            mine=params.get("mine") == "1",
            due_from=_date(params.get("from"), "from"),
            due_to=_date(params.get("to"), "to"),
        )

    def statuses(self) -> list[str] | None:
        if self.status == "all":
            return None
        return ACTIVE if self.status == "active" else [self.status]

    def search_kwargs(self) -> dict[str, Any]:
        return {
            "statuses": self.statuses(), "team_id": self.team, "kind": self.kind or None, "kecamatan": self.kecamatan or None,
            "mine": self.mine, "due_from": self.due_from, "due_to": self.due_to,
        }

    def as_query(self) -> dict[str, str]:
        out = {"status": self.status}
        if self.team:
            out["team"] = str(self.team)
        if self.kind:
            out["kind"] = self.kind
        if self.kecamatan:
            out["kecamatan"] = self.kecamatan
        if self.mine:
            out["mine"] = "1"
        if self.due_from:
            out["from"] = self.due_from.isoformat()
        if self.due_to:
            out["to"] = self.due_to.isoformat()
        return out


async def _filter_choices(request: Request) -> dict[str, Any]:
    return {
        "teams": await queries.team_choices(actor_of(request)),
        "status_choices": _choices(TASK_STATUS_FILTERS),
        "kind_choices": _choices(services.TASK_KIND_LABELS),
        "kecamatan_choices": await regions.districts(settings_of(request).region),
    }


def _action_kwargs(form: dict[str, str]) -> dict[str, Any]:
    """The task action form → act_on_task's arguments."""
    errors: dict[str, str] = {}
    version = form.get("version", "")
    kwargs: dict[str, Any] = {
        "version": int(version) if version.isdigit() else -1,
        "reason": form.get("reason", ""),
        "outcome": form.get("outcome") or None,
        "notes": (form.get("notes") or "").strip(),
        "due_on": _date(form.get("due_on"), "due_on", errors),
    }
    if form.get("action") == "complete" and (form.get("finding_severity") or (form.get("finding_description") or "").strip()):
        kwargs["finding"] = {
            "severity": form.get("finding_severity", ""),
            "description": form.get("finding_description", ""),
            "due_on": _date(form.get("finding_due_on"), "finding_due_on", errors),
        }
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    return kwargs


HISTORY_LABELS = {
    "task.start": N_("Started"),
    "task.complete": N_("Completed"),
    "task.reschedule": N_("Rescheduled"),
    "task.cancel": N_("Cancelled"),
}


def _history(events: list[dict]) -> list[dict]:
    out = []
    for event in events:
        if event["action"] not in HISTORY_LABELS:
            continue
        after = event.get("after") or {}
        label = HISTORY_LABELS[event["action"]]
        new_date = after.get("due_on") if event["action"] == "task.reschedule" else None
        out.append({
            "at": event["at"], "actor": event["actor_username"], "label": _(label),
            "reason": after.get("reason") if event["action"] in ("task.reschedule", "task.cancel") else "",
            "due_on": date.fromisoformat(new_date) if isinstance(new_date, str) else None,
        })
    return out


async def _task_page(request: Request, task_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    now = utcnow()
    task = await services.get_task(actor, task_id)
    task["overdue"] = _overdue(task, now)
    names = await queries.user_names({task["lead"]})
    lks = await Lks.select(Lks.address, Lks.kelurahan_code, Lks.kecamatan_code).where(Lks.id == task["lks"]).first()
    places = await regions.region_names({lks["kelurahan_code"], lks["kecamatan_code"]}) if lks else {}
    events = await audit.search(audit.AuditFilter(entity_type="task", entity_id=str(task_id)), limit=50)
    context.setdefault("message", None)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("open_action", "")
    return page(
        "inspections/task.html",
        status_code=status_code,
        task=task,
        lks=lks,
        places=places,
        lead_name=names.get(task["lead"], ""),
        lks_href=_lks_href(actor, task["lks"]),
        is_staff=services.is_staff(actor),
        can_plan=actor.role != Role.partner,
        findings=await queries.task_findings(task_id),
        history=_history(events),
        outcome_choices=_choices(services.OUTCOME_LABELS),
        finding_severity_choices=_choices(labels.FINDING_SEVERITY_LABELS),
        today=_today(now),
        now=now,
        **context,
    )


def _month(value: str | None, today: date) -> date:
    if value and re.fullmatch(r"\d{4}-\d{2}", value):
        year, month = int(value[:4]), int(value[5:])
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return date(year, month, 1)
    return today.replace(day=1)


def _shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


async def _calendar_page(request: Request, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    now = utcnow()
    today = _today(now)
    params = dict(request.query_params)
    first = _month(params.get("month"), today)
    following = _shift_month(first, 1)
    start = first - timedelta(days=first.weekday())  # Monday
    last = following - timedelta(days=1)
    end = last + timedelta(days=6 - last.weekday())  # Sunday
    team = _int(params.get("team"))
    mine = params.get("mine") == "1"
    rows = await queries.search_tasks(
        actor, statuses=[*ACTIVE, TaskStatus.done.value], team_id=team, mine=mine, due_from=start, due_to=end, limit=CALENDAR_LIMIT
    )
    by_day: dict[date, list[dict]] = {}
    for row in _decorate(rows, now):
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
        teams=await queries.team_choices(actor),
        truncated=len(rows) >= CALENDAR_LIMIT,
        cell_max=CALENDAR_CELL_MAX,
        feed=await feeds.feed_of(actor.user_id),
        **context,
    )


def _calendar_href(team: int | None, mine: bool, month: str = "") -> str:
    query = {k: v for k, v in (("month", month), ("team", str(team or "")), ("mine", "1" if mine else "")) if v}
    return "/tasks/calendar" + ("?" + urlencode(query) if query else "")


def _feed_url(request: Request, raw: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/tasks/feed/{raw}.ics"


class TaskPages(Controller):
    path = "/tasks"
    include_in_schema = False
    guards = [FIELD_OR_STAFF]

    @get("/")
    async def index(self, request: Request) -> Template:
        actor = actor_of(request)
        now = utcnow()
        flt = TaskFilter.parse(dict(request.query_params))
        rows = _decorate(await queries.search_tasks(actor, **flt.search_kwargs(), limit=LIST_LIMIT + 1), now)
        places = await regions.region_names({r["kecamatan_code"] for r in rows} | {r["kelurahan_code"] for r in rows})
        return page(
            "inspections/tasks.html",
            tasks=rows[:LIST_LIMIT],
            truncated=len(rows) > LIST_LIMIT,
            flt=flt,
            query=flt.as_query(),
            places=places,
            is_staff=services.is_staff(actor),
            calendar_href=_calendar_href(flt.team, flt.mine),
            today=_today(now),
            **await _filter_choices(request),
        )

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

    @get("/{task_id:int}")
    async def detail(self, request: Request, task_id: FromPath[int]) -> Template:
        return await _task_page(request, task_id)

    @post("/{task_id:int}/action")
    async def act(self, request: Request, task_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        action = data.get("action", "")
        try:
            await services.act_on_task(actor_of(request), task_id, action, now=utcnow(), **_action_kwargs(data))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await _task_page(
                request, task_id, status_code=exc.status_code, message=exc.message, errors=exc.fields, form=data, open_action=action
            )
        return Redirect(f"/tasks/{task_id}?done={action if action in services.TASK_ACTIONS else ''}", status_code=303)


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

    @get("/{feed_token:str}", middleware=[_redact_feed_path])
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
            headers={"Content-Disposition": 'inline; filename="sigap.ics"', "Cache-Control": "private, no-store",
                     "X-Content-Type-Options": "nosniff"},
        )


# --- teams: pages ------------------------------------------------------------------


def _member_form(form: dict[str, str]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    mode = form.get("mode", "account")
    user_id = _int(form.get("user_id")) if mode == "account" else None
    if mode == "account" and user_id is None:
        errors["user_id"] = _("Choose an inspector, partner or staff account.")
    phone = (form.get("phone") or "").strip()
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    return {
        "user_id": user_id, "name": form.get("name", "") if mode != "account" else "", "phone": phone,
        "agency": form.get("agency", ""), "is_lead": form.get("is_lead") == "1",
    }


async def _team_page(request: Request, team_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    team = await queries.get_team(actor, team_id)
    places = await regions.region_names({team["area_code"]})
    context.setdefault("message", None)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("mode", "")
    open_tasks = await queries.search_tasks(actor, team_id=team_id, statuses=ACTIVE, limit=1000)
    return page(
        "inspections/team.html",
        status_code=status_code,
        team=team,
        area_name=places.get(team["area_code"], team["area_code"]),
        candidates=await queries.member_candidates(team_id),
        agency_choices=_choices(services.AGENCY_LABELS),
        open_task_count=len(open_tasks),
        overdue_count=sum(1 for t in open_tasks if _overdue(t, utcnow())),
        **context,
    )


async def _new_team_page(request: Request, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("message", None)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return page("inspections/team_new.html", status_code=status_code, areas=await queries.areas(settings_of(request).region), **context)


class TeamPages(Controller):
    path = "/teams"
    include_in_schema = False
    guards = [STAFF]

    @get("/")
    async def index(self, request: Request) -> Template:
        teams = await queries.list_teams(actor_of(request))
        places = await regions.region_names({t["area_code"] for t in teams})
        return page("inspections/teams.html", teams=teams, places=places)

    @get("/new")
    async def new(self, request: Request) -> Template:
        return await _new_team_page(request)

    @post("/")
    async def create(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            row = await services.create_team(actor_of(request), name=data.get("name", ""), area_code=data.get("area_code", ""), now=utcnow())
        except DomainError as exc:
            return await _new_team_page(request, status_code=exc.status_code, message=exc.message, errors=exc.fields, form=data)
        return Redirect(f"/teams/{row['id']}?created=1", status_code=303)

    @get("/{team_id:int}")
    async def detail(self, request: Request, team_id: FromPath[int]) -> Template:
        return await _team_page(request, team_id)

    @post("/{team_id:int}/members")
    async def add_member(self, request: Request, team_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            await services.add_member(actor_of(request), team_id, now=utcnow(), **_member_form(data))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await _team_page(
                request, team_id, status_code=exc.status_code, message=exc.message, errors=exc.fields, form=data,
                mode=data.get("mode", "account"),
            )
        return Redirect(f"/teams/{team_id}?added=1#members", status_code=303)

    @post("/{team_id:int}/members/{member_id:int}/remove")
    async def remove_member(self, request: Request, team_id: FromPath[int], member_id: FromPath[int]) -> Redirect:
        await services.remove_member(actor_of(request), team_id, member_id, now=utcnow())
        return Redirect(f"/teams/{team_id}?removed=1#members", status_code=303)


# --- incidents: pages ---------------------------------------------------------------


async def _incident_form_page(request: Request, lks_id: int | None, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    lks = None
    if lks_id is not None:
        lks = await Lks.select(Lks.id, Lks.name, Lks.address, Lks.open_incident).where(Lks.id == lks_id).first()
        if lks is None:
            raise NotFound(_("LKS not found."))
    q = (request.query_params.get("q") or "").strip()[:200]
    found = None
    if lks is None and q:
        found = (await registry_services.list_lks(actor, registry_services.LksFilter(q=q), per_page=25))["items"]
    context.setdefault("message", None)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return page(
        "inspections/incident_new.html",
        status_code=status_code,
        lks=lks,
        q=q,
        found=found,
        today=_today(utcnow()),
        source_choices=_choices(services.SOURCE_LABELS),
        category_choices=_choices(services.CATEGORY_LABELS),
        severity_choices=_choices(services.SEVERITY_LABELS),
        **context,
    )


async def _incident_page(request: Request, incident_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    incident = await services.get_incident(actor, incident_id, now=utcnow())  # audited: incident.view
    context.setdefault("message", None)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("failed", "")
    response = page(
        "inspections/incident.html",
        status_code=status_code,
        incident=incident,
        actions=await services.incident_actions(actor, incident_id),
        tasks=await queries.incident_tasks(actor, incident_id),
        referral_choices=_choices(services.REFERRAL_LABELS),
        **context,
    )
    response.headers.update(NO_STORE)
    return response


class IncidentPages(Controller):
    path = "/incidents"
    include_in_schema = False
    guards = [STAFF]

    @get("/")
    async def index(self, request: Request, status: FromQuery[str] = "open") -> Template:
        status = status if status in ("open", "closed", "all") else "open"
        rows = await services.list_incidents(actor_of(request), status=None if status == "all" else status)
        return page("inspections/incidents.html", incidents=rows, status=status)

    @get("/new")
    async def new(self, request: Request) -> Template:
        return await _incident_form_page(request, _int(request.query_params.get("lks_id")))

    @post("/")
    async def create(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        lks_id = _int(data.get("lks_id"))
        try:
            if lks_id is None:
                raise ValidationError(_("Please correct the marked fields."), fields={"lks_id": _("Required.")})
            row = await services.record_incident(
                actor_of(request), lks_id=lks_id, source=data.get("source", ""), category=data.get("category", ""),
                severity=data.get("severity", ""), occurred_on=data.get("occurred_on", ""),
                description=data.get("description", ""), now=utcnow(),
            )
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            response = await _incident_form_page(
                request, lks_id, status_code=exc.status_code, message=exc.message, errors=exc.fields, form=data
            )
            response.headers.update(NO_STORE)
            return response
        return Redirect(f"/incidents/{row['id']}?created=1", status_code=303)

    @get("/{incident_id:int}")
    async def detail(self, request: Request, incident_id: FromPath[int]) -> Template:
        return await _incident_page(request, incident_id)

    @post("/{incident_id:int}/actions")
    async def add_action(self, request: Request, incident_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        kind = data.get("kind", "")
        count_text = (data.get("count") or "").strip()
        try:
            if kind == "note" and len(" ".join((data.get("note") or "").split())) < 3:
                raise ValidationError(_("Please correct the marked fields."), fields={"note": _("Required.")})
            count = int(count_text) if re.fullmatch(r"-?\d{1,6}", count_text) else None
            await services.add_incident_action(
                actor_of(request), incident_id, kind=kind, now=utcnow(), count=count, referral=data.get("referral") or None,
                note=data.get("note", ""),
            )
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await _incident_page(
                request, incident_id, status_code=exc.status_code, message=exc.message, errors=exc.fields, form=data, failed=kind
            )
        return Redirect(f"/incidents/{incident_id}?logged=1#actions", status_code=303)

    @post("/{incident_id:int}/close")
    async def close(self, request: Request, incident_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            await services.close_incident(actor_of(request), incident_id, outcome=data.get("outcome", ""), now=utcnow())
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await _incident_page(
                request, incident_id, status_code=exc.status_code, message=exc.message, errors=exc.fields, form=data, failed="close"
            )
        return Redirect(f"/incidents/{incident_id}?closed=1", status_code=303)


# --- the monitoring page of an LKS --------------------------------------------------


async def _risk_of(lks_id: int, now: datetime) -> dict | None:
    """The stored assessment; an LKS the daily plan has not assessed yet
    gets its level computed now (nothing is written)."""
    row = await risk.assessment(lks_id)
    if row is not None:
        return {"level": row["level"], "score": row["score"], "reasons": risk.describe(row["reasons"]), "computed_at": row["computed_at"]}
    facts = (await risk.gather([lks_id], now)).get(lks_id)
    if facts is None:
        return None
    level, score, reasons = risk.score(facts, _today(now))
    return {"level": level, "score": score, "reasons": risk.describe(reasons), "computed_at": None}


class MonitoringPages(Controller):
    path = "/lks"
    include_in_schema = False
    guards = [FIELD_OR_STAFF]

    @get("/{lks_id:int}/monitoring")
    async def monitoring(self, request: Request, lks_id: FromPath[int]) -> Template:
        actor = actor_of(request)
        now = utcnow()
        lks = await queries.monitoring_lks(actor, lks_id)
        staff = services.is_staff(actor)
        places = await regions.region_names({lks["kelurahan_code"], lks["kecamatan_code"]})
        tasks = _decorate(await queries.search_tasks(actor, lks_id=lks_id, limit=100), now)
        return page(
            "inspections/monitoring.html",
            lks=lks,
            places=places,
            assessment=await _risk_of(lks_id, now),
            tasks=tasks,
            findings=await services.findings_of(lks_id),
            incidents=await services.list_incidents(actor, lks_id=lks_id) if staff else None,
            is_staff=staff,
            today=_today(now),
            high_at=risk.HIGH_AT,
            medium_at=risk.MEDIUM_AT,
        )


# --- JSON API ---------------------------------------------------------------------


@dataclass
class FindingBody:
    severity: str = ""
    description: str = ""
    due_on: date | None = None


@dataclass
class TaskActionBody:
    action: str
    version: int | None = None
    reason: str = ""
    due_on: date | None = None
    outcome: str | None = None
    notes: str = ""
    finding: FindingBody | None = None


@dataclass
class TeamBody:
    name: str
    area_code: str


@dataclass
class IncidentBody:
    lks_id: int
    source: str
    category: str
    severity: str
    occurred_on: str
    description: str


def _api_task(row: dict, now: datetime) -> dict:
    out = services.public_task(row)
    out["overdue"] = _overdue(row, now)
    return out


def _api_incident(row: dict) -> dict:
    """An incident as lists show it: never the description."""
    return {k: v for k, v in row.items() if k != "description"}


class TasksAPI(Controller):
    path = "/api/v1/tasks"
    tags = ["tasks"]
    guards = [FIELD_OR_STAFF]

    @get("/")
    async def list_tasks(
        self, request: Request, lks_id: FromQuery[int | None] = None, status: FromQuery[str] = "", team_id: FromQuery[int | None] = None,
        kind: FromQuery[str] = "", mine: FromQuery[bool] = False,
    ) -> dict:
        """Tasks the caller may see (staff: all; inspectors and partners:
        their teams'). ``status`` may list several, comma-separated."""
        statuses = [s for s in status.split(",") if s in TaskStatus.__members__] if status else None
        rows = await queries.search_tasks(
            actor_of(request), lks_id=lks_id, statuses=statuses, team_id=team_id, kind=kind if kind in TaskKind.__members__ else None,
            mine=mine, limit=1000,
        )
        now = utcnow()
        return {"items": [_api_task(r, now) for r in rows]}

    @get("/{task_id:int}")
    async def get_task(self, request: Request, task_id: FromPath[int]) -> dict:
        return _api_task(await services.get_task(actor_of(request), task_id), utcnow())

    @post("/{task_id:int}/actions", status_code=HTTP_200_OK)
    async def act(self, request: Request, task_id: FromPath[int], data: JSONBody[TaskActionBody]) -> dict:
        """``start``, ``complete`` (``outcome``, ``notes``, optional ``finding``),
        ``reschedule`` (``due_on`` and ``reason``) or ``cancel`` (``reason``).
        ``version`` is required: a stale one gets 409."""
        if data.version is None:
            raise ValidationError(_("The current version is required."), fields={"version": _("Required.")})
        finding = None
        if data.finding is not None:
            finding = {"severity": data.finding.severity, "description": data.finding.description, "due_on": data.finding.due_on}
        now = utcnow()
        row = await services.act_on_task(
            actor_of(request), task_id, data.action, now=now, version=data.version, reason=data.reason, due_on=data.due_on,
            outcome=data.outcome, notes=data.notes, finding=finding,
        )
        return _api_task(row, now)


class TeamsAPI(Controller):
    path = "/api/v1/teams"
    tags = ["teams"]
    guards = [STAFF]

    @get("/")
    async def list_teams(self, request: Request) -> dict:
        return {"items": await queries.list_teams(actor_of(request))}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_team(self, request: Request, data: JSONBody[TeamBody]) -> dict:
        """``area_code``: the Kemendagri code of a kecamatan, or of the city."""
        return await services.create_team(actor_of(request), name=data.name, area_code=data.area_code, now=utcnow())

    @get("/{team_id:int}")
    async def get_team(self, request: Request, team_id: FromPath[int]) -> dict:
        return await queries.get_team(actor_of(request), team_id)


class IncidentsAPI(Controller):
    path = "/api/v1/incidents"
    tags = ["incidents"]
    guards = [STAFF]

    @get("/")
    async def list_incidents(self, request: Request, lks_id: FromQuery[int | None] = None, status: FromQuery[str] = "") -> dict:
        """Incidents without their descriptions (``GET /{id}`` shows it, audited)."""
        rows = await services.list_incidents(actor_of(request), lks_id=lks_id, status=status if status in ("open", "closed") else None)
        return {"items": rows}

    @post("/", status_code=HTTP_201_CREATED)
    async def record(self, request: Request, data: JSONBody[IncidentBody]) -> dict:
        """Record an incident: the LKS is flagged and the urgent joint visit
        (due within 48 hours) created at once; returns the incident (without
        its description) and ``task_id``."""
        row = await services.record_incident(
            actor_of(request), lks_id=data.lks_id, source=data.source, category=data.category, severity=data.severity,
            occurred_on=data.occurred_on, description=data.description, now=utcnow(),
        )
        task = await Task.select(Task.id).where(
            (Task.incident == row["id"]) & (Task.kind == TaskKind.incident_response.value)
        ).first()
        return {**_api_incident(row), "task_id": task["id"] if task else None}

    @get("/{incident_id:int}")
    async def get_incident(self, request: Request, incident_id: FromPath[int]) -> Response[dict]:
        """The incident with its restricted description (audited), its actions and visits."""
        actor = actor_of(request)
        row = await services.get_incident(actor, incident_id, now=utcnow())
        row["actions"] = await services.incident_actions(actor, incident_id)
        row["tasks"] = await queries.incident_tasks(actor, incident_id)
        return Response(row, headers=NO_STORE)


route_handlers = [
    TaskPages, CalendarFeedRoute, TeamPages, IncidentPages, MonitoringPages, TasksAPI, TeamsAPI, IncidentsAPI,
]
