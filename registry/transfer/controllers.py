"""Pages to import the office's spreadsheet (a dry run first, then the
commit) and to export the filtered register as CSV or XLSX."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import URLEncodedBody
from litestar.response import Stream, Template

from registry import services as lks_services
from registry.services import LksFilter
from registry.transfer import columns, export, reading, services
from registry.transfer.planning import CREATE, REJECTED, UNCHANGED, UPDATE
from sigap.errors import DomainError, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, _, choices
from sigap.openapi import download
from sigap.tables import Role
from sigap.web import actor_of, content_disposition, page, requires, settings_of, utcnow

# What the report pages call each outcome, before and after the commit.
PLANNED_LABELS = {
    CREATE: N_("Will be created"),
    UPDATE: N_("Will be updated"),
    UNCHANGED: N_("No change"),
    REJECTED: N_("Rejected"),
}
DONE_LABELS = {
    CREATE: N_("Created"),
    UPDATE: N_("Updated"),
    UNCHANGED: N_("No change"),
    REJECTED: N_("Rejected (skipped)"),
}


def _column_groups() -> list[tuple[list[str], str]]:
    """The import columns for the explanation table: neighbours with the
    same explanation (rt/rw, the eight resident counts...) share a row."""
    groups: list[tuple[list[str], str]] = []
    for column in columns.COLUMNS:
        if groups and groups[-1][1] == column.help:
            groups[-1][0].append(column.header)
        else:
            groups.append(([column.header], column.help))
    return [(headers, _(text)) for headers, text in groups]


def _import_page(request: Request, mode: str, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("message", None)
    context.setdefault("report", None)
    context.setdefault("token", None)
    context.setdefault("filename", "")
    return page(
        "registry/import.html",
        status_code=status_code,
        mode=mode,
        columns=_column_groups(),
        kind_words=list(columns.KIND_WORDS.values()),
        service_choices=choices(lks_services.SERVICES),
        max_upload_mb=settings_of(request).max_upload_mb,
        max_rows=f"{reading.MAX_ROWS:,}".replace(",", "."),
        planned_labels={k: _(v) for k, v in PLANNED_LABELS.items()},
        done_labels={k: _(v) for k, v in DONE_LABELS.items()},
        **context,
    )


def _download_headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": content_disposition(filename),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


class LksTransferPages(Controller):
    """Import and export of the register. Dinas Sosial staff only."""

    path = "/lks"
    include_in_schema = False
    guards = [requires(Role.admin, Role.staff)]

    @get("/import")
    async def import_form(self, request: Request) -> Template:
        return _import_page(request, "form")

    @get("/import/template.xlsx")
    async def import_template(self) -> Response[bytes]:
        content = await services.template_xlsx()
        return Response(content, media_type=export.XLSX_MEDIA_TYPE, headers=_download_headers("templat-impor-lks.xlsx"))

    @post("/import")
    async def import_upload(self, request: Request) -> Template:
        """Check the file and keep it for the commit (a browser cannot send it twice)."""
        settings = settings_of(request)
        form = await request.form()
        file = form.get("file")
        filename = file.filename if isinstance(file, UploadFile) else ""
        try:
            if not isinstance(file, UploadFile):
                raise ValidationError(_("Choose a file to upload."), fields={"file": _("Choose a file.")})
            content = await file.read(settings.max_upload_bytes + 1)
            report, token = await services.check_upload(
                actor_of(request), content, storage=request.app.state.storage, now=utcnow()
            )
        except (Forbidden, NotFound):
            raise
        except DomainError as exc:
            return _import_page(request, "form", status_code=exc.status_code, message=exc.message, filename=filename)
        return _import_page(request, "report", report=report, token=token, filename=filename)

    @post("/import/commit")
    async def import_commit(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template:
        try:
            report = await services.commit_staged(
                actor_of(request), data.get("token", ""), storage=request.app.state.storage, now=utcnow()
            )
        except services.ImportGone as exc:
            return _import_page(request, "form", status_code=exc.status_code, message=exc.message)
        except (Forbidden, NotFound):
            raise
        except DomainError as exc:
            return _import_page(request, "form", status_code=exc.status_code, message=exc.message)
        return _import_page(request, "result", report=report)

    @get("/export.csv", include_in_schema=True, tags=["downloads"],
         operation_class=download("The register as CSV, with the list's filters and sort.", export.CSV_MEDIA_TYPE))
    async def export_csv(self, request: Request) -> Stream:
        return await _export(request, "csv", services.export_csv, export.CSV_MEDIA_TYPE)

    @get("/export.xlsx", include_in_schema=True, tags=["downloads"],
         operation_class=download("The register as an XLSX workbook, with the list's filters and sort.", export.XLSX_MEDIA_TYPE))
    async def export_xlsx(self, request: Request) -> Stream:
        return await _export(request, "xlsx", services.export_xlsx, export.XLSX_MEDIA_TYPE)


async def _export(request: Request, extension: str, write: Callable[..., Awaitable[AsyncIterator[bytes]]], media_type: str) -> Stream:
    params = dict(request.query_params)
    now = utcnow()
    chunks = await write(actor_of(request), LksFilter.from_query(params), params.get("sort", "name"), now=now)
    return Stream(chunks, media_type=media_type, headers=_download_headers(export.export_filename(extension, now=now)))


route_handlers = [LksTransferPages]
