"""Incident pages (``/incidents``) and the JSON API (``/api/v1/incidents``):
Dinas Sosial staff only. A page showing an incident's description is never
cached; lists never show it."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED
from msgspec import Struct

from inspections.incidents import services
from inspections.incidents.tables import IncidentCategory, IncidentSource, Severity
from inspections.planning.services import today_wib
from inspections.public_reports.triage import report_for_incident
from inspections.web import NO_STORE, STAFF, failed, form_page, int_field
from registry import services as registry_services
from registry.regions import region_names
from registry.access import get_lks
from sigap.bodies import Id, one_of
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import _, choices
from sigap.web import actor_of, page, utcnow

REGION_CODE = re.compile(r"\d{2}(\.\d{2}){0,2}")


async def _incident_form_page(request: Request, lks_id: int | None, status_code: int = 200, **context: Any) -> Template:
    """Choose the LKS (search by name), then describe what happened."""
    actor = actor_of(request)
    lks = await get_lks(actor, lks_id) if lks_id is not None else None
    q = (request.query_params.get("q") or "").strip()[:200]
    found = None
    if lks is None and q:
        found = (await registry_services.list_lks(actor, registry_services.LksFilter(q=q), per_page=25))["items"]
    return form_page(
        "inspections/incident_new.html",
        status_code=status_code,
        lks=lks,
        q=q,
        found=found,
        today=today_wib(utcnow()),
        source_choices=choices(services.SOURCE_LABELS),
        category_choices=choices(services.CATEGORY_LABELS),
        severity_choices=choices(services.SEVERITY_LABELS),
        **context,
    )


async def _incident_page(request: Request, incident_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    incident = await services.get_incident(actor, incident_id, now=utcnow())  # audited: incident.view
    context.setdefault("failed", "")
    response = form_page(
        "inspections/incident.html",
        status_code=status_code,
        incident=incident,
        actions=await services.incident_actions(actor, incident_id),
        tasks=await services.incident_tasks(actor, incident_id),
        referral_choices=choices(services.REFERRAL_LABELS),
        public_report=await report_for_incident(incident_id),
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
        """Filters: ``status``, and the dashboard's ``kecamatan``, ``category``, ``year``."""
        status = status if status in ("open", "closed", "all") else "open"
        params = request.query_params
        kecamatan = params.get("kecamatan", "") if REGION_CODE.fullmatch(params.get("kecamatan", "")) else ""
        category = params.get("category", "") if params.get("category") in IncidentCategory.__members__ else ""
        year = int(params["year"]) if re.fullmatch(r"(19|20)\d\d", params.get("year", "")) else None
        rows = await services.list_incidents(
            actor_of(request), status=None if status == "all" else status, kecamatan=kecamatan or None, category=category or None, year=year,
        )
        narrowed = {k: v for k, v in (("kecamatan", kecamatan), ("category", category), ("year", year)) if v}
        return page(
            "inspections/incidents.html", incidents=rows, status=status, narrowed=narrowed,
            kecamatan_name=(await region_names({kecamatan})).get(kecamatan, kecamatan) if kecamatan else "",
        )

    @get("/new")
    async def new(self, request: Request) -> Template:
        return await _incident_form_page(request, int_field(request.query_params.get("lks_id")))

    @post("/")
    async def create(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        lks_id = int_field(data.get("lks_id"))
        try:
            if lks_id is None:
                raise ValidationError(_("Please correct the marked fields."), fields={"lks_id": _("Required.")})
            row = await services.record_incident(
                actor_of(request), lks_id=lks_id, source=data.get("source", ""), category=data.get("category", ""),
                severity=data.get("severity", ""), occurred_on=data.get("occurred_on", ""),
                description=data.get("description", ""), now=utcnow(),
            )
        except NotFound:
            raise
        except DomainError as exc:
            response = await _incident_form_page(request, lks_id, **failed(exc, data))
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
            await services.add_incident_action(
                actor_of(request), incident_id, kind=kind, now=utcnow(),
                count=int(count_text) if re.fullmatch(r"-?\d{1,6}", count_text) else None,
                referral=data.get("referral") or None, note=data.get("note", ""),
            )
        except NotFound:
            raise
        except DomainError as exc:
            return await _incident_page(request, incident_id, **failed(exc, data, failed=kind))
        return Redirect(f"/incidents/{incident_id}?logged=1#actions", status_code=303)

    @post("/{incident_id:int}/close")
    async def close(self, request: Request, incident_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            await services.close_incident(actor_of(request), incident_id, outcome=data.get("outcome", ""), now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            return await _incident_page(request, incident_id, **failed(exc, data, failed="close"))
        return Redirect(f"/incidents/{incident_id}?closed=1", status_code=303)


class IncidentBody(Struct, kw_only=True):
    lks_id: Id
    source: Annotated[str, one_of(IncidentSource.__members__)]
    category: Annotated[str, one_of(IncidentCategory.__members__)]
    severity: Annotated[str, one_of(Severity.__members__)]
    occurred_on: date  # not in the future
    description: str


def _api_incident(row: dict) -> dict:
    """An incident as lists show it: never the description."""
    return {k: v for k, v in row.items() if k != "description"}


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
        return {**_api_incident(row), "task_id": await services.response_task_id(row["id"])}

    @get("/{incident_id:int}")
    async def get_incident(self, request: Request, incident_id: FromPath[int]) -> Response[dict]:
        """The incident with its restricted description (audited), its actions and visits."""
        actor = actor_of(request)
        row = await services.get_incident(actor, incident_id, now=utcnow())
        row["actions"] = await services.incident_actions(actor, incident_id)
        row["tasks"] = await services.incident_tasks(actor, incident_id)
        return Response(row, headers=NO_STORE)


route_handlers = [IncidentPages, IncidentsAPI]
