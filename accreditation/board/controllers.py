"""The pipeline board (``/accreditation``: staff), its XLSX export, and
``GET /api/v1/accreditation/pipeline``."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.response import Template

from accreditation.board import services
from accreditation.cycles.services import IN_PROCESS, today_wib
from accreditation.web import STAFF, form_page
from registry import regions
from registry.labels import KIND_LABELS
from sigap.i18n import choices
from sigap.web import actor_of, content_disposition, settings_of, utcnow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BoardPages(Controller):
    path = "/accreditation"
    include_in_schema = False
    guards = [STAFF]

    @get("/")
    async def board(self, request: Request) -> Template:
        flt = services.BoardFilter.from_query(request.query_params)
        board = await services.pipeline(actor_of(request), flt, today=today_wib(utcnow()))
        return form_page(
            "accreditation/board.html", board=board, flt=flt, in_process_stages=[s for s in board["stages"] if s in IN_PROCESS],
            kecamatan_choices=await regions.districts(settings_of(request).region), kind_choices=choices(KIND_LABELS),
            query="&".join(f"{k}={v}" for k, v in (("kecamatan", flt.kecamatan), ("kind", flt.kind)) if v),
        )

    @get("/export.xlsx")
    async def export(self, request: Request) -> Response[bytes]:
        actor = actor_of(request)
        flt = services.BoardFilter.from_query(request.query_params)
        now = utcnow()
        board = await services.pipeline(actor, flt, today=today_wib(now))
        rows = await services.lks_at_stage(actor, flt)
        places = await regions.region_names({r["kecamatan_code"] for r in rows})
        content = services.workbook(board, rows, places, {"kind": KIND_LABELS})
        return Response(content, media_type=XLSX, headers={
            "Content-Disposition": content_disposition(f"akreditasi-{today_wib(now).isoformat()}.xlsx"),
            "Cache-Control": "private, no-store",
        })


class PipelineAPI(Controller):
    path = "/api/v1/accreditation/pipeline"
    tags = ["accreditation"]
    guards = [STAFF]

    @get("/")
    async def pipeline(self, request: Request) -> dict:
        """Count of LKS per stage (the stage of each LKS's latest cycle;
        `not_started` when it has none) and the total. Query: `kecamatan`, `kind`."""
        flt = services.BoardFilter.from_query(request.query_params)
        board = await services.pipeline(actor_of(request), flt, today=today_wib(utcnow()))
        return {
            "stages": board["stages"], "total": board["total"], "in_process": board["in_process"],
            "registered": board["registered"], "accredited_registered": board["accredited_registered"],
            "expiring": [
                {"lks_id": r["lks"], "lks_name": r["lks_name"], "grade": r["grade"], "valid_until": r["valid_until"].isoformat(),
                 "days_left": r["days_left"]}
                for r in board["expiring"]
            ],
        }


route_handlers = [BoardPages, PipelineAPI]
