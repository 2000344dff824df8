"""Task pages (``/tasks``: the list with its filters, a task and its
actions) and the JSON API (``/api/v1/tasks``). Pages and API call the same
services; the services decide who sees what (an inspector or partner sees
only their teams' tasks)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK
from msgspec import Struct

from inspections.findings import services as findings
from inspections.planning import services
from inspections.planning.controllers.calendar import calendar_href
from inspections.planning.tables import TaskKind, TaskStatus
from inspections.teams import whatsapp
from inspections.teams.services import team_choices
from inspections.web import FIELD_OR_STAFF, date_field, failed, form_page, int_field
from registry import regions
from registry.access import is_staff
from sigap.bodies import Int32, one_of
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import N_, _, choices
from sigap.web import actor_of, page, settings_of, utcnow

LIST_LIMIT = 200
REGION_CODE = re.compile(r"^\d{2}(\.\d{2}){0,2}(\.\d{4})?$")

TASK_STATUS_FILTERS = {
    "active": N_("Open or in progress"),
    "open": N_("Open"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
    "all": N_("All"),
}


def lks_href(actor, lks_id: int) -> str:
    """Staff open the register record; inspectors and partners the
    monitoring page (the register is not theirs)."""
    return f"/lks/{lks_id}" if is_staff(actor) else f"/lks/{lks_id}/monitoring"


@dataclass
class TaskFilter:
    status: str = "active"
    team: int | None = None
    kind: str = ""
    kecamatan: str = ""
    mine: bool = False
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool = False

    @classmethod
    def parse(cls, params: dict[str, str]) -> "TaskFilter":
        status = params.get("status", "active")
        kecamatan = params.get("kecamatan", "")
        return cls(
            status=status if status in TASK_STATUS_FILTERS else "active",
            team=int_field(params.get("team")),
            kind=params.get("kind", "") if params.get("kind") in TaskKind.__members__ else "",
            kecamatan=kecamatan if REGION_CODE.match(kecamatan) else "",
            mine=params.get("mine") == "1",
            due_from=date_field(params.get("from"), "from"),
            due_to=date_field(params.get("to"), "to"),
            overdue=params.get("overdue") == "1",
        )

    def statuses(self) -> list[str] | None:
        if self.status == "all":
            return None
        return list(services.ACTIVE_STATUSES) if self.status == "active" else [self.status]

    def search_kwargs(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "statuses": self.statuses(), "team_id": self.team, "kind": self.kind or None, "kecamatan": self.kecamatan or None,
            "mine": self.mine, "due_from": self.due_from, "due_to": self.due_to,
            "overdue_at": now if self.overdue else None,
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
        if self.overdue:
            out["overdue"] = "1"
        return out


def _action_kwargs(form: dict[str, str]) -> dict[str, Any]:
    """The task action form → act_on_task's arguments."""
    errors: dict[str, str] = {}
    version = form.get("version", "")
    kwargs: dict[str, Any] = {
        "version": int(version) if version.isdigit() else -1,
        "reason": form.get("reason", ""),
        "outcome": form.get("outcome") or None,
        "notes": (form.get("notes") or "").strip(),
        "due_on": date_field(form.get("due_on"), "due_on", errors),
    }
    if form.get("action") == "complete" and (form.get("finding_severity") or (form.get("finding_description") or "").strip()):
        kwargs["finding"] = {
            "severity": form.get("finding_severity", ""),
            "description": form.get("finding_description", ""),
            "due_on": date_field(form.get("finding_due_on"), "finding_due_on", errors),
        }
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    return kwargs


async def _task_page(request: Request, task_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    now = utcnow()
    detail = await services.task_detail(actor, task_id, now=now)
    lks = detail["lks"]
    places = await regions.region_names({lks["kelurahan_code"], lks["kecamatan_code"]}) if lks else {}
    context.setdefault("open_action", "")
    return form_page(
        "inspections/task.html",
        status_code=status_code,
        **detail,
        places=places,
        lks_href=lks_href(actor, detail["task"]["lks"]),
        is_staff=is_staff(actor),
        can_plan=services.can_plan(actor),
        outcome_choices=choices(services.OUTCOME_LABELS),
        finding_severity_choices=choices(findings.FINDING_SEVERITY_LABELS),
        today=services.today_wib(now),
        now=now,
        handoff=await whatsapp.task_handoff(detail["task"], viewer_id=actor.user_id, base_url=settings_of(request).base_url),
        **context,
    )


class TaskPages(Controller):
    path = "/tasks"
    include_in_schema = False
    guards = [FIELD_OR_STAFF]

    @get("/")
    async def index(self, request: Request) -> Template:
        actor = actor_of(request)
        now = utcnow()
        flt = TaskFilter.parse(dict(request.query_params))
        rows = services.with_overdue(await services.search_tasks(actor, **flt.search_kwargs(now), limit=LIST_LIMIT + 1), now)
        places = await regions.region_names({r["kecamatan_code"] for r in rows} | {r["kelurahan_code"] for r in rows})
        return page(
            "inspections/tasks.html",
            tasks=rows[:LIST_LIMIT],
            truncated=len(rows) > LIST_LIMIT,
            flt=flt,
            query=flt.as_query(),
            places=places,
            is_staff=is_staff(actor),
            calendar_href=calendar_href(flt.team, flt.mine),
            today=services.today_wib(now),
            teams=await team_choices(actor),
            status_choices=choices(TASK_STATUS_FILTERS),
            kind_choices=choices(services.TASK_KIND_LABELS),
            kecamatan_choices=await regions.districts(settings_of(request).region),
        )

    @get("/{task_id:int}")
    async def detail(self, request: Request, task_id: FromPath[int]) -> Template:
        return await _task_page(request, task_id)

    @post("/{task_id:int}/action")
    async def act(self, request: Request, task_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        action = data.get("action", "")
        try:
            await services.act_on_task(actor_of(request), task_id, action, now=utcnow(), **_action_kwargs(data))
        except NotFound:
            raise
        except DomainError as exc:
            return await _task_page(request, task_id, **failed(exc, data, open_action=action))
        return Redirect(f"/tasks/{task_id}?done={action if action in services.TASK_ACTIONS else ''}", status_code=303)


# --- JSON API ---------------------------------------------------------------------


class FindingBody(Struct, kw_only=True):
    severity: Annotated[str, one_of(["minor", "major", "critical"])] = ""
    description: str = ""
    due_on: date | None = None


class TaskActionBody(Struct, kw_only=True):
    action: Annotated[str, one_of(["start", "complete", "reschedule", "cancel"])]
    version: Int32 | None = None
    reason: str = ""
    due_on: date | None = None
    outcome: str | None = None
    notes: str = ""
    finding: FindingBody | None = None


def _api_task(row: dict, now: datetime) -> dict:
    out = services.public_task(row)
    out["overdue"] = services.is_overdue(row, now)
    return out


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
        rows = await services.search_tasks(
            actor_of(request), lks_id=lks_id, statuses=statuses, team_id=team_id, kind=kind if kind in TaskKind.__members__ else None,
            mine=mine, limit=1000,
        )
        now = utcnow()
        return {"items": [_api_task(r, now) for r in rows]}

    @get("/{task_id:int}")
    async def get_task(self, request: Request, task_id: FromPath[int]) -> dict:
        """The task, and ``whatsapp``: a ``wa.me`` link with a prefilled
        message per member of its team with a usable number (the caller left out)."""
        actor = actor_of(request)
        row = await services.get_task(actor, task_id)
        handoff = await whatsapp.task_handoff(row, viewer_id=actor.user_id, base_url=settings_of(request).base_url)
        return {**_api_task(row, utcnow()), "whatsapp": [{"name": h["name"], "agency": h["agency"], "url": h["href"]} for h in handoff]}

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
