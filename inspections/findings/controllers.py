"""Findings pages (``/findings``: staff's list with filters and a finding's
decision page; the LKS manager's phone page with a respond form on each
finding) and the JSON API (``/api/v1/findings``). Pages and API call the
same services."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import Struct

from inspections.findings import follow_up, services
from inspections.findings.tables import FindingStatus
from inspections.web import STAFF, date_field, failed, form_page, int_field
from registry import regions
from registry.access import STAFF_ROLES, is_staff
from sigap.bodies import UNSET, Int32, UnsetType, sent
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import N_, _, choices
from sigap.tables import Role
from sigap.web import actor_of, requires, settings_of, utcnow

STAFF_OR_MANAGER = requires(*STAFF_ROLES, Role.manager)
MANAGER = requires(Role.manager)
REGION_CODE = re.compile(r"^\d{2}(\.\d{2}){0,2}$")
STATUS_FILTERS = {
    "unresolved": N_("Not closed"),
    FindingStatus.open.value: N_("Open: waiting for the LKS"),
    FindingStatus.answered.value: N_("Answered: waiting for Dinas Sosial"),
    FindingStatus.closed.value: N_("Closed"),
    "all": N_("All"),
}


def parse_filter(params: dict[str, str], lks_id: int | None = None) -> services.FindingFilter:
    status = params.get("status", "unresolved")
    severity = params.get("severity", "")
    kecamatan = params.get("kecamatan", "")
    return services.FindingFilter(
        lks_id=lks_id if lks_id is not None else int_field(params.get("lks_id")),
        status="" if status == "all" or status not in STATUS_FILTERS else status,
        severity=severity if severity in services.FINDING_SEVERITY_LABELS else "",
        overdue=params.get("overdue") == "1",
        kecamatan=kecamatan if REGION_CODE.match(kecamatan) else "",
    )


def _evidence(form: Any) -> services.Evidence | None:
    file = form.get("file")
    if isinstance(file, UploadFile) and file.filename:
        return services.Evidence(filename=file.filename, fileobj=file.file)
    return None


async def _respond(request: Request, finding_id: int, form: Any) -> tuple[dict, bool]:
    """The respond fields of a multipart form (page or API) → the service."""
    return await services.respond(
        actor_of(request), finding_id, text=str(form.get("text") or ""), client_id=str(form.get("client_id") or ""),
        now=utcnow(), storage=request.app.state.storage, max_bytes=settings_of(request).max_upload_bytes,
        evidence=_evidence(form),
    )


async def _decide(request: Request, finding_id: int, form: dict[str, Any]) -> dict:
    """Close (a note) or schedule a re-inspection (``follow_up_on``)."""
    version = form.get("version")
    version = version if isinstance(version, int) else int_field(version)
    if version is None:
        raise ValidationError(_("The current version is required."), fields={"version": _("Required.")})
    kwargs = {"now": utcnow(), "note": str(form.get("note") or ""), "version": version}
    if "follow_up_on" not in form:
        return await services.close_finding(actor_of(request), finding_id, **kwargs)
    errors: dict[str, str] = {}
    day = date_field(form.get("follow_up_on"), "follow_up_on", errors)
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    return await follow_up.schedule_follow_up(actor_of(request), finding_id, follow_up_on=day, **kwargs)


# --- pages ---------------------------------------------------------------------------


async def _list_page(request: Request, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    now = utcnow()
    if not is_staff(actor):
        rows = await services.search_findings(actor, services.FindingFilter(), now=now)
        rows.sort(key=lambda r: r["status"] == FindingStatus.closed.value)  # still to answer first
        return form_page("inspections/findings/mine.html", status_code=status_code, findings=rows,
                         new_client_id=lambda: uuid.uuid4().hex, **context)
    flt = parse_filter(dict(request.query_params))
    rows = await services.search_findings(actor, flt, now=now)
    return form_page(
        "inspections/findings/list.html", status_code=status_code, findings=rows, flt=flt,
        places=await regions.region_names({r["kecamatan_code"] for r in rows}),
        status=request.query_params.get("status", "unresolved"),
        status_choices=choices(STATUS_FILTERS), severity_choices=choices(services.FINDING_SEVERITY_LABELS),
        kecamatan_choices=await regions.districts(settings_of(request).region), **context,
    )


async def _detail_page(request: Request, finding_id: int, status_code: int = 200, **context: Any) -> Template:
    now = utcnow()
    finding = await services.finding_detail(actor_of(request), finding_id, now=now)
    return form_page("inspections/findings/detail.html", status_code=status_code, finding=finding,
                     today=services.today_wib(now), **context)


class FindingPages(Controller):
    path = "/findings"
    include_in_schema = False

    @get("/", guards=[STAFF_OR_MANAGER])
    async def index(self, request: Request) -> Template:
        answered = int_field(request.query_params.get("answered"))
        return await _list_page(request, answered=answered)

    @get("/{finding_id:int}", guards=[STAFF])
    async def detail(self, request: Request, finding_id: FromPath[int]) -> Template:
        return await _detail_page(request, finding_id, done=request.query_params.get("done", ""))

    @post("/{finding_id:int}/responses", guards=[MANAGER])
    async def respond(self, request: Request, finding_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await _respond(request, finding_id, form)
        except NotFound:
            raise
        except DomainError as exc:
            typed = {"text": str(form.get("text") or "")}
            return await _list_page(request, **failed(exc, typed, failed_finding=finding_id))
        return Redirect(f"/findings?answered={finding_id}#finding-{finding_id}", status_code=303)

    @post("/{finding_id:int}/decision", guards=[STAFF])
    async def decide(self, request: Request, finding_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        form = {k: v for k, v in data.items() if k in ("note", "version", "follow_up_on") and (k != "follow_up_on" or data.get("decision") == "follow_up")}
        try:
            after = await _decide(request, finding_id, form)
        except NotFound:
            raise
        except DomainError as exc:
            return await _detail_page(request, finding_id, **failed(exc, dict(data), decision=data.get("decision", "")))
        done = "follow_up" if after["status"] != FindingStatus.closed.value else "closed"
        return Redirect(f"/findings/{finding_id}?done={done}", status_code=303)


# --- JSON API ------------------------------------------------------------------------


@dataclass
class RespondForm:
    text: str = ""
    client_id: str = ""
    file: UploadFile | None = None


class CloseBody(Struct, kw_only=True):
    version: Int32
    note: str | None | UnsetType = UNSET  # the manager sees it
    follow_up_on: str | None | UnsetType = UNSET  # YYYY-MM-DD: a re-inspection instead of closing


class FindingsAPI(Controller):
    path = "/api/v1/findings"
    tags = ["findings"]
    guards = [STAFF_OR_MANAGER]

    @get("/")
    async def list_findings(self, request: Request) -> dict:
        """Query: `lks_id`, `status` (open, answered, closed, unresolved, all;
        default unresolved), `severity`, `overdue=1`, `kecamatan`."""
        rows = await services.search_findings(actor_of(request), parse_filter(dict(request.query_params)), now=utcnow())
        return {"items": rows}

    @post("/{finding_id:int}/responses", guards=[MANAGER], status_code=HTTP_201_CREATED)
    async def respond(self, request: Request, finding_id: FromPath[int], data: MultipartBody[RespondForm]) -> Response[dict]:
        """Multipart: `text`, `client_id` (a retry is stored once: 200), optional `file` (evidence)."""
        row, created = await _respond(request, finding_id, {"text": data.text, "client_id": data.client_id, "file": data.file})
        return Response(row, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @post("/{finding_id:int}/close", guards=[STAFF], status_code=HTTP_200_OK)
    async def close(self, request: Request, finding_id: FromPath[int], data: JSONBody[CloseBody]) -> dict:
        """`{"note", "version"}` closes; `{"follow_up_on": "YYYY-MM-DD", "note", "version"}` schedules a re-inspection."""
        return await _decide(request, finding_id, sent(data))


route_handlers = [FindingPages, FindingsAPI]
