"""Pages to import the office's spreadsheet (upload, confirm the mapping of
its columns, a dry run, then the commit), the same as a JSON API, and the
export of the filtered register as CSV or XLSX."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, URLEncodedBody
from litestar.response import Stream, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from registry import services as lks_services
from registry.hooks import ACCREDITATION_REPORTED
from registry.services import LksFilter
from registry.transfer import columns, export, office, reading, services
from registry.transfer.planning import (
    CREATE,
    DUPLICATE,
    REJECT,
    SKIP,
    UNCHANGED,
    UPDATE,
    ImportReport,
)
from registry.transfer.services import Proposal
from sigap.errors import DomainError, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, _, choices
from sigap.openapi import download
from sigap.tables import Role
from sigap.web import actor_of, content_disposition, page, requires, settings_of, utcnow
from sigap.wiring import wiring_of

STAFF = requires(Role.admin, Role.staff)

# What the report pages call each outcome, before and after the commit.
PLANNED_LABELS = {
    CREATE: N_("Will be created"),
    UPDATE: N_("Will be updated"),
    UNCHANGED: N_("No change"),
    SKIP: N_("Skipped"),
    REJECT: N_("Rejected"),
    DUPLICATE: N_("Duplicate"),
}
DONE_LABELS = {
    CREATE: N_("Created"),
    UPDATE: N_("Updated"),
    UNCHANGED: N_("No change"),
    SKIP: N_("Skipped"),
    REJECT: N_("Rejected (skipped)"),
    DUPLICATE: N_("Duplicate (skipped)"),
}
MAX_SHOWN_ERRORS = 5  # messages per row on a page; the API gives them all (each cut short)


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


def target_choices() -> list[tuple[str, str]]:
    return [("", _("— not imported —"))] + [
        (t, f"{_(office.TARGET_LABELS[t])} ({t})" if t in office.TARGET_LABELS else t) for t in office.TARGETS
    ]


def _import_page(request: Request, mode: str, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("message", None)
    context.setdefault("report", None)
    context.setdefault("token", None)
    context.setdefault("filename", "")
    context.setdefault("proposal", None)
    context.setdefault("field_errors", {})
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
        targets=target_choices(),
        max_shown_errors=MAX_SHOWN_ERRORS,
        **context,
    )


def _download_headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": content_disposition(filename),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


async def _read_upload(request: Request, file: Any) -> bytes:
    if not isinstance(file, UploadFile):
        raise ValidationError(_("Choose a file to upload."), fields={"file": _("Choose a file.")})
    max_bytes = settings_of(request).max_upload_bytes
    content = await file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise reading.file_error(_("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    return content


def _mapping_page(request: Request, proposal: Proposal, token: str, filename: str, **context: Any) -> Template:
    return _import_page(request, "mapping", proposal=proposal, token=token, filename=filename, **context)


class LksTransferPages(Controller):
    """Import and export of the register. Dinas Sosial staff only."""

    path = "/lks"
    include_in_schema = False
    guards = [STAFF]

    @get("/import")
    async def import_form(self, request: Request) -> Template:
        return _import_page(request, "form")

    @get("/import/template.xlsx")
    async def import_template(self) -> Response[bytes]:
        content = await services.template_xlsx()
        return Response(content, media_type=export.XLSX_MEDIA_TYPE, headers=_download_headers("templat-impor-lks.xlsx"))

    @post("/import")
    async def import_upload(self, request: Request) -> Template:
        """Keep the file (a browser cannot send it twice), then the mapping
        of its columns to confirm, or straight the dry run for the template's own columns."""
        form = await request.form()
        file = form.get("file")
        filename = file.filename if isinstance(file, UploadFile) else ""
        actor, now, storage = actor_of(request), utcnow(), request.app.state.storage
        try:
            sheet, token = await services.stage_upload(actor, await _read_upload(request, file), storage=storage, now=now)
            _row, headers = sheet.headers()
            if not services.is_template(headers):
                return _mapping_page(request, await services.propose(sheet), token, filename)
            report = await services.confirm_mapping(actor, token, None, storage=storage, now=now, remember=False)
            if not report.applicable:
                await services.drop_upload(storage, token)
        except (Forbidden, NotFound):
            raise
        except DomainError as exc:
            return _import_page(request, "form", status_code=exc.status_code, message=exc.message, filename=filename)
        return _import_page(request, "report", report=report, token=token if report.applicable else None, filename=filename)

    @post("/import/mapping")
    async def import_mapping(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template:
        """The staff's mapping (``col-<n>`` → field) → the dry run."""
        actor, now, storage = actor_of(request), utcnow(), request.app.state.storage
        token, filename = data.get("token", ""), data.get("filename", "")
        try:
            proposal = await services.staged_proposal(actor, token, storage=storage, now=now)
        except (services.ImportGone, services.ImportApplied) as exc:
            return _import_page(request, "form", status_code=exc.status_code, message=exc.message)
        mapping = {h: data.get(f"col-{i}", "") for i, h in enumerate(proposal.headers) if h}
        try:
            report = await services.confirm_mapping(actor, token, mapping, storage=storage, now=now)
            if not report.applicable:
                await services.drop_upload(storage, token)
        except (Forbidden, NotFound):
            raise
        except ValidationError as exc:
            proposal.mapping = mapping
            return _mapping_page(
                request, proposal, token, filename, status_code=exc.status_code, message=exc.message, field_errors=exc.fields
            )
        except DomainError as exc:
            return _import_page(request, "form", status_code=exc.status_code, message=exc.message)
        return _import_page(request, "report", report=report, token=token if report.applicable else None, filename=filename)

    @post("/import/commit")
    async def import_commit(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template:
        try:
            report = await services.commit_staged(
                actor_of(request), data.get("token", ""), storage=request.app.state.storage, now=utcnow(),
                accreditation_recorders=wiring_of(request).hook(ACCREDITATION_REPORTED),
            )
        except (services.ImportGone, services.ImportApplied) as exc:
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


# --- JSON API ------------------------------------------------------------------


@dataclass
class ImportUpload:
    """``file``: the spreadsheet (XLSX or CSV); ``mapping``: optional JSON
    object, sheet column name → field (``""`` leaves a column out)."""

    file: UploadFile
    mapping: str = ""


def report_json(report: ImportReport, token: str) -> dict[str, Any]:
    rows = []
    for r in report.rows:
        messages = [{"cell": r.cell(column), "message": text} for column, text in r.errors]
        messages += [{"cell": "", "message": text} for text in r.warnings]
        rows.append({"row": r.row, "action": r.outcome, "lks_id": r.lks_id, "messages": messages, "values": r.values})
    return {
        "id": token,
        "committed": report.committed,
        "header_row": report.header_row,
        "mapping": report.mapping,
        "notes": report.notes,
        "rows": rows,
        "summary": report.counts,
    }


class LksImportAPI(Controller):
    path = "/api/v1/lks/imports"
    tags = ["lks"]
    guards = [STAFF]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_import(
        self, request: Request, data: Annotated[ImportUpload, Body(media_type=RequestEncodingType.MULTI_PART)]
    ) -> dict[str, Any]:
        """The dry run of a spreadsheet: the header row found, the mapping
        used (the given one, else the one confirmed last for this header,
        else the proposed one) and each row's action with its messages.
        Nothing changes until `POST /api/v1/lks/imports/{id}/commit`."""
        actor, now, storage = actor_of(request), utcnow(), request.app.state.storage
        mapping = services.parse_mapping(data.mapping)
        _sheet, token = await services.stage_upload(actor, await _read_upload(request, data.file), storage=storage, now=now)
        report = await services.confirm_mapping(actor, token, mapping, storage=storage, now=now)
        return report_json(report, token)

    @post("/{import_id:str}/commit", status_code=HTTP_200_OK)
    async def commit_import(self, request: Request, import_id: FromPath[str]) -> dict[str, Any]:
        """Apply a dry run once (its mapping, against the register as it is
        now); a second commit answers 409."""
        report = await services.commit_staged(actor_of(request), import_id, storage=request.app.state.storage, now=utcnow(),
                                              accreditation_recorders=wiring_of(request).hook(ACCREDITATION_REPORTED))
        return report_json(report, import_id)


async def _export(request: Request, extension: str, write: Callable[..., Awaitable[AsyncIterator[bytes]]], media_type: str) -> Stream:
    params = dict(request.query_params)
    now = utcnow()
    chunks = await write(actor_of(request), LksFilter.from_query(params), params.get("sort", "name"), now=now)
    return Stream(chunks, media_type=media_type, headers=_download_headers(export.export_filename(extension, now=now)))


route_handlers = [LksTransferPages, LksImportAPI]
