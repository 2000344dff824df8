"""Staff's pages for public reports (``/public-reports``): the list, one
report (its contact behind a button, each read audited), its photo, and the
three triage decisions; the same under ``/api/v1/public-reports``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Stream, Template

from inspections.incidents import services as incidents
from inspections.planning.services import today_wib
from inspections.public_reports import triage as services
from inspections.public_reports.services import STATUS_LABELS
from inspections.public_reports.tables import Triage
from inspections.web import NO_STORE, STAFF, failed, form_page, int_field
from registry import lookup, regions
from registry.hooks import UNREGISTERED_REPORTED
from registry.labels import KIND_LABELS
from registry.sightings.services import PossibleDuplicates
from sigap.bodies import Id, Int32
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import _, choices
from sigap.storage import iter_reader
from sigap.web import actor_of, page, settings_of, utcnow
from sigap.wiring import wiring_of

FILTERS = ("new", "incident", "sighting", "closed", "all")


def _triage_filter(value: str) -> str | None:
    return {"new": "", "all": None}.get(value, value)


async def _kelurahan_choices(region: str) -> list[tuple[str, str]]:
    villages = await regions.villages(region)
    districts = await regions.region_names({v["parent_code"] for v in villages})
    return [(v["code"], f"{v['name']} ({districts.get(v['parent_code'], '')})") for v in villages]


async def _report_page(request: Request, report_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    with_contact = request.query_params.get("contact") == "1"
    report = await services.get_report(actor, report_id, now=utcnow(), with_contact=with_contact)
    q = str(request.query_params.get("q") or "")[:100].strip()
    if not q and not report["lks"]:
        q = report["place_name"][:100]
    found = await lookup.search_names(q, limit=10) if q and not report["lks"] and not report["triage"] else []
    context.setdefault("failed", "")
    context.setdefault("duplicates", [])
    response = form_page(
        "inspections/public_reports/report.html", status_code=status_code, r=report, q=q, found=found,
        with_contact=with_contact, today=today_wib(report["received_at"]),
        category_choices=choices(incidents.CATEGORY_LABELS), severity_choices=choices(incidents.SEVERITY_LABELS),
        kinds=choices(KIND_LABELS), kelurahan=await _kelurahan_choices(settings_of(request).region) if not report["triage"] else [],
        status_labels=STATUS_LABELS, triage_labels=services.TRIAGE_LABELS, **context,
    )
    response.headers.update(NO_STORE)
    return response


def _version(data: dict[str, str]) -> int:
    value = str(data.get("version") or "")
    return int(value) if value.isdigit() and len(value) < 10 else -1


class PublicReportPages(Controller):
    path = "/public-reports"
    include_in_schema = False
    guards = [STAFF]

    @get("/")
    async def index(self, request: Request, show: FromQuery[str] = "new") -> Template:
        show = show if show in FILTERS else "new"
        rows = await services.list_reports(actor_of(request), triage=_triage_filter(show))
        untriaged = len(rows) if show == "new" and len(rows) < services.LIST_LIMIT else await services.count_untriaged()
        return page("inspections/public_reports/list.html", rows=rows, show=show, status_labels=STATUS_LABELS,
                    triage_labels=services.TRIAGE_LABELS, untriaged=untriaged)

    @get("/{report_id:int}")
    async def detail(self, request: Request, report_id: FromPath[int]) -> Template:
        return await _report_page(request, report_id)

    @get("/{report_id:int}/photo")
    async def photo(self, request: Request, report_id: FromPath[int]) -> Stream:
        row, reader = await services.open_photo(actor_of(request), report_id, storage=request.app.state.storage, now=utcnow())
        return Stream(iter_reader(reader), media_type=row["photo_type"], headers={
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
        })

    @post("/{report_id:int}/incident")
    async def to_incident(self, request: Request, report_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            await services.to_incident(
                actor_of(request), report_id, version=_version(data), lks_id=int_field(data.get("lks_id")),
                category=data.get("category", ""), severity=data.get("severity", ""), occurred_on=data.get("occurred_on", ""),
                now=utcnow(),
            )
        except NotFound:
            raise
        except DomainError as exc:
            return await _report_page(request, report_id, **failed(exc, data, failed="incident"))
        return Redirect(f"/public-reports/{report_id}?done=incident", status_code=303)

    @post("/{report_id:int}/sighting")
    async def to_sighting(self, request: Request, report_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            await services.to_sighting(
                actor_of(request), report_id, version=_version(data), data=data, now=utcnow(),
                storage=request.app.state.storage, reported_hooks=wiring_of(request).hook(UNREGISTERED_REPORTED),
            )
        except NotFound:
            raise
        except PossibleDuplicates as exc:
            return await _report_page(request, report_id, duplicates=exc.duplicates, **failed(exc, data, failed="sighting"))
        except DomainError as exc:
            return await _report_page(request, report_id, **failed(exc, data, failed="sighting"))
        return Redirect(f"/public-reports/{report_id}?done=sighting", status_code=303)

    @post("/{report_id:int}/close")
    async def close(self, request: Request, report_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            await services.close(actor_of(request), report_id, version=_version(data), reason=data.get("reason", ""), now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            return await _report_page(request, report_id, **failed(exc, data, failed="close"))
        return Redirect(f"/public-reports/{report_id}?done=closed", status_code=303)


# --- JSON ---------------------------------------------------------------------------


@dataclass
class TriageBody:
    """``decision``: incident (``category``, ``severity``, optional
    ``occurred_on`` and ``lks_id`` for a described place), sighting
    (``kelurahan_code``, ``kind``, ``confirm_new``, or ``lks_id``) or closed
    (``reason``). ``version``: the report's version you decided on."""

    decision: str
    version: Int32
    lks_id: Id | None = None
    category: str = ""
    severity: str = ""
    occurred_on: str = ""
    kelurahan_code: str = ""
    kind: str = "other"
    confirm_new: bool = False
    reason: str = ""


def _api_row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("client_key", "sender_key", "photo_key")}


class PublicReportsStaffAPI(Controller):
    path = "/api/v1/public-reports"
    tags = ["public reports"]
    guards = [STAFF]

    @get("/")
    async def list_reports(self, request: Request, show: FromQuery[str] = "new") -> dict:
        """Reports newest first, without their text or contact; ``show``: new, incident, sighting, closed, all."""
        rows = await services.list_reports(actor_of(request), triage=_triage_filter(show if show in FILTERS else "new"))
        return {"items": rows}

    @get("/{report_id:int}")
    async def get_report(self, request: Request, report_id: FromPath[int], contact: FromQuery[bool] = False) -> Response[dict]:
        """One report with its text (audited); ``contact=true`` adds the reporter's contact (audited)."""
        row = await services.get_report(actor_of(request), report_id, now=utcnow(), with_contact=contact)
        return Response(_api_row(row), headers=NO_STORE)

    @post("/{report_id:int}/triage")
    async def triage(self, request: Request, report_id: FromPath[int], data: JSONBody[TriageBody]) -> dict:
        """Triage the report once; a second decision is a 409 conflict."""
        actor, now = actor_of(request), utcnow()
        if data.decision == Triage.incident.value:
            row = await services.to_incident(actor, report_id, version=data.version, lks_id=data.lks_id, category=data.category,
                                             severity=data.severity, occurred_on=data.occurred_on, now=now)
        elif data.decision == Triage.sighting.value:
            row = await services.to_sighting(
                actor, report_id, version=data.version, now=now, storage=request.app.state.storage,
                reported_hooks=wiring_of(request).hook(UNREGISTERED_REPORTED),
                data={"lks_id": str(data.lks_id or ""), "kelurahan_code": data.kelurahan_code, "kind": data.kind,
                      "confirm_new": "1" if data.confirm_new else ""},
            )
        elif data.decision == Triage.closed.value:
            row = await services.close(actor, report_id, version=data.version, reason=data.reason, now=now)
        else:
            raise ValidationError(_("Please correct the marked fields."), fields={"decision": _("Choose incident, sighting or closed.")})
        return {k: row[k] for k in ("id", "code", "triage", "incident", "sighting", "triaged_at", "version")}


route_handlers = [PublicReportPages, PublicReportsStaffAPI]
