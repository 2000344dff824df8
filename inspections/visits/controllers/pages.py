"""Visit report pages: the staff list (``/visits``), a report with its
review form (``/visits/{id}``; the team reads its own reports there), a
report's photos, the berita acara PDF, and the admins' checklist editor
(``/admin/checklists``)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Stream, Template

from inspections.visits import checklists, photos, report, services
from inspections.visits.report_pdf import report_pdf
from inspections.visits.tables import VisitStatus
from inspections.web import (
    FIELD_OR_STAFF,
    NO_STORE,
    STAFF,
    failed,
    form_page,
    int_field,
)
from registry import regions
from registry.access import is_staff
from sigap.errors import DomainError, NotFound
from sigap.i18n import WIB, choices
from sigap.openapi import download
from sigap.storage import iter_reader
from sigap.web import actor_of, admin_only, page, settings_of, utcnow

LIST_LIMIT = 200
REGION_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")


async def _report_page(request: Request, visit_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    view = await report.report_view(actor, visit_id)
    response = form_page(
        "inspections/visits/report.html", status_code=status_code, **view, is_staff=is_staff(actor),
        can_review=is_staff(actor) and view["visit"]["status"] == VisitStatus.submitted.value, **context,
    )
    response.headers.update(NO_STORE)
    return response


class VisitPages(Controller):
    path = "/visits"
    include_in_schema = False
    guards = [FIELD_OR_STAFF]

    @get("/")
    async def index(self, request: Request) -> Template:
        """Reports, waiting for review first; filters by status and kecamatan."""
        status = request.query_params.get("status", "")
        status = status if status in VisitStatus.__members__ else ""
        kecamatan = request.query_params.get("kecamatan", "")
        kecamatan = kecamatan if REGION_CODE.match(kecamatan) else ""
        month = request.query_params.get("month", "")
        month_start = date(int(month[:4]), int(month[5:]), 1) if re.fullmatch(r"(19|20)\d\d-(0[1-9]|1[0-2])", month) else None
        month = month if month_start else ""
        submitted = None
        if month_start:  # submitted in that month, in WIB
            next_month = date(month_start.year + month_start.month // 12, month_start.month % 12 + 1, 1)
            submitted = (datetime.combine(month_start, time(0), WIB), datetime.combine(next_month, time(0), WIB))
        listing = await report.visit_list(
            actor_of(request), status=status or None, kecamatan=kecamatan or None, submitted=submitted, limit=LIST_LIMIT,
        )
        return page(
            "inspections/visits/list.html", **listing, status=status, kecamatan=kecamatan, month=month, month_start=month_start,
            status_choices=choices(services.STATUS_LABELS), kecamatan_choices=await regions.districts(settings_of(request).region),
        )

    @get("/{visit_id:int}")
    async def detail(self, request: Request, visit_id: FromPath[int]) -> Template:
        return await _report_page(request, visit_id)

    @post("/{visit_id:int}/review", guards=[STAFF])
    async def review(self, request: Request, visit_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        decision = data.get("decision", "")
        try:
            await services.review(
                actor_of(request), visit_id, decision=decision, comment=data.get("comment", ""),
                version=int_field(data.get("version")), now=utcnow(),
            )
        except NotFound:
            raise
        except DomainError as exc:
            return await _report_page(request, visit_id, **failed(exc, data))
        return Redirect(f"/visits/{visit_id}?done={decision}", status_code=303)

    @get("/{visit_id:int}/photos/{photo_id:int}", include_in_schema=True, tags=["downloads"],
         operation_class=download("A photo of the report (JPEG, PNG or WebP, as stored).", "image/jpeg", "image/png", "image/webp"))
    async def photo(self, request: Request, visit_id: FromPath[int], photo_id: FromPath[int]) -> Stream:
        row, reader = await photos.open_photo(actor_of(request), visit_id, photo_id, storage=request.app.state.storage)
        return Stream(
            iter_reader(reader), media_type=row["content_type"],
            headers={"Content-Length": str(row["size"]), "X-Content-Type-Options": "nosniff", **NO_STORE},
        )

    @get("/{visit_id:int}/report.pdf", include_in_schema=True, tags=["downloads"],
         operation_class=download("The berita acara of an approved visit report, as a PDF.", "application/pdf"))
    async def pdf(self, request: Request, visit_id: FromPath[int]) -> Response[bytes]:
        """The berita acara of an approved report."""
        content = await report_pdf(actor_of(request), visit_id, storage=request.app.state.storage, region=settings_of(request).region)
        return Response(
            content, media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="berita-acara-kunjungan-{visit_id}.pdf"', **NO_STORE},
        )


class ChecklistAdminPages(Controller):
    path = "/admin/checklists"
    include_in_schema = False
    guards = [admin_only]

    @get("/")
    async def index(self, request: Request) -> Template:
        """Every version of every checklist, the current one marked."""
        return page("inspections/visits/checklists.html", versions=await checklists.list_versions(actor_of(request)))

    @get("/{code:str}/new")
    async def new_version(self, request: Request, code: FromPath[str]) -> Template:
        current = await checklists.current_of_code(actor_of(request), code)
        return form_page("inspections/visits/checklist_edit.html", current=current, form={"definition": checklists.editable_text(current)})

    @post("/{code:str}/new")
    async def save(self, request: Request, code: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        actor = actor_of(request)
        try:
            await checklists.save_new_version(actor, code, data.get("definition", ""), now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            current = await checklists.current_of_code(actor, code)
            return form_page("inspections/visits/checklist_edit.html", current=current, **failed(exc, data))
        return Redirect("/admin/checklists?saved=" + code, status_code=303)


route_handlers: list = [VisitPages, ChecklistAdminPages]
