"""Team pages (``/teams``) and the JSON API (``/api/v1/teams``): Dinas
Sosial staff only. Pages and API call the same services."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED
from msgspec import Struct

from inspections.planning import services as planning
from inspections.teams import services
from inspections.web import STAFF, failed, form_page, int_field
from registry import regions
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import _, choices
from sigap.web import actor_of, page, settings_of, utcnow


def _member_form(form: dict[str, str]) -> dict[str, Any]:
    """The add-member form → add_member's arguments: an account (``mode``
    "account") or a named contact without one."""
    mode = form.get("mode", "account")
    user_id = int_field(form.get("user_id")) if mode == "account" else None
    if mode == "account" and user_id is None:
        raise ValidationError(_("Please correct the marked fields."), fields={"user_id": _("Choose an inspector, partner or staff account.")})
    return {
        "user_id": user_id, "name": form.get("name", "") if mode != "account" else "", "phone": (form.get("phone") or "").strip(),
        "agency": form.get("agency", ""), "is_lead": form.get("is_lead") == "1",
    }


async def _team_page(request: Request, team_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    team = await services.get_team(actor, team_id)
    places = await regions.region_names({team["area_code"]})
    open_tasks = await planning.search_tasks(actor, team_id=team_id, statuses=list(planning.ACTIVE_STATUSES), limit=1000)
    now = utcnow()
    context.setdefault("mode", "")
    return form_page(
        "inspections/team.html",
        status_code=status_code,
        team=team,
        area_name=places.get(team["area_code"], team["area_code"]),
        candidates=await services.member_candidates(team_id),
        agency_choices=choices(services.AGENCY_LABELS),
        open_task_count=len(open_tasks),
        overdue_count=sum(1 for t in open_tasks if planning.is_overdue(t, now)),
        **context,
    )


async def _new_team_page(request: Request, status_code: int = 200, **context: Any) -> Template:
    areas = await services.areas(settings_of(request).region)
    return form_page("inspections/team_new.html", status_code=status_code, areas=areas, **context)


class TeamPages(Controller):
    path = "/teams"
    include_in_schema = False
    guards = [STAFF]

    @get("/")
    async def index(self, request: Request) -> Template:
        teams = await services.list_teams(actor_of(request))
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
            return await _new_team_page(request, **failed(exc, data))
        return Redirect(f"/teams/{row['id']}?created=1", status_code=303)

    @get("/{team_id:int}")
    async def detail(self, request: Request, team_id: FromPath[int]) -> Template:
        return await _team_page(request, team_id)

    @post("/{team_id:int}/members")
    async def add_member(self, request: Request, team_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            await services.add_member(actor_of(request), team_id, now=utcnow(), **_member_form(data))
        except NotFound:
            raise
        except DomainError as exc:
            return await _team_page(request, team_id, **failed(exc, data, mode=data.get("mode", "account")))
        return Redirect(f"/teams/{team_id}?added=1#members", status_code=303)

    @post("/{team_id:int}/members/{member_id:int}/remove")
    async def remove_member(self, request: Request, team_id: FromPath[int], member_id: FromPath[int]) -> Redirect:
        await services.remove_member(actor_of(request), team_id, member_id, now=utcnow())
        return Redirect(f"/teams/{team_id}?removed=1#members", status_code=303)


class TeamBody(Struct, kw_only=True):
    name: str
    area_code: str


class TeamsAPI(Controller):
    path = "/api/v1/teams"
    tags = ["teams"]
    guards = [STAFF]

    @get("/")
    async def list_teams(self, request: Request) -> dict:
        return {"items": await services.list_teams(actor_of(request))}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_team(self, request: Request, data: JSONBody[TeamBody]) -> dict:
        """``area_code``: the Kemendagri code of a kecamatan, or of the city."""
        return await services.create_team(actor_of(request), name=data.name, area_code=data.area_code, now=utcnow())

    @get("/{team_id:int}")
    async def get_team(self, request: Request, team_id: FromPath[int]) -> dict:
        return await services.get_team(actor_of(request), team_id)


route_handlers = [TeamPages, TeamsAPI]
