"""Registry pages and JSON API: LKS list, record, edit, workflow, documents,
certificate, import and export. Pages and API call the same services."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Stream, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from registry import documents, regions, services
from registry import io as lks_io
from registry.hooks import LKS_DETAIL_PANELS
from registry.services import LksFilter
from registry.tables import AccreditationStatus, LksKind, RegistrationStatus, RiskLevel
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import N_, WIB, _, choice_label
from sigap.storage import ObjectNotFound, StorageError, iter_reader
from sigap.tables import Role
from sigap.web import actor_of, page, requires, settings_of, utcnow
from sigap.wiring import wiring_of

STAFF = requires(Role.admin, Role.staff)
STAFF_OR_MANAGER = requires(Role.admin, Role.staff, Role.manager)


def _bool(value: str | None) -> bool | None:
    return {"1": True, "true": True, "0": False, "false": False}.get((value or "").lower())


def _filter(params: dict[str, str]) -> LksFilter:
    return LksFilter(
        q=params.get("q", "")[:200],
        kecamatan=params.get("kecamatan", ""),
        kelurahan=params.get("kelurahan", ""),
        kind=params.get("kind", "") if params.get("kind") in LksKind.__members__ else "",
        registration_status=params.get("registration_status", "") if params.get("registration_status") in RegistrationStatus.__members__ else "",
        accreditation_status=params.get("accreditation_status", "") if params.get("accreditation_status") in AccreditationStatus.__members__ else "",
        risk_level=params.get("risk_level", "") if params.get("risk_level") in RiskLevel.__members__ else "",
        open_incident=_bool(params.get("open_incident")),
        documents_missing=_bool(params.get("documents_missing")),
    )


def _int_param(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


async def _choices(region: str) -> dict[str, Any]:
    return {
        "kinds": [(k.value, services.label(services.KIND_LABELS, k)) for k in LksKind],
        "statuses": [(s.value, services.label(services.STATUS_LABELS, s)) for s in RegistrationStatus],
        "accreditations": [(a.value, services.label(services.ACCREDITATION_LABELS, a)) for a in AccreditationStatus],
        "risks": [(r.value, services.label(services.RISK_LABELS, r)) for r in RiskLevel],
        "kecamatan": await regions.districts(region),
        "kelurahan": await regions.villages(region),
        "services": [(code, _(text)) for code, text in services.SERVICES.items()],
        "resident_keys": services.RESIDENT_KEYS,
        "doc_types": [(code, _(text)) for code, text in documents.DOCUMENT_TYPES.items()],
    }


def _form_to_data(form: dict[str, Any]) -> dict[str, Any]:
    """HTML form fields → the service's field names."""
    data: dict[str, Any] = {}
    for key in services.EDITABLE_FIELDS - {"residents", "services", "legal_entity"}:
        if key in form:
            data[key] = form[key]
    if "legal_entity_present" in form:
        data["legal_entity"] = form.get("legal_entity") == "1"
    if any(f"residents_{k}" in form for k in services.RESIDENT_KEYS):
        data["residents"] = {k: form.get(f"residents_{k}", "") for k in services.RESIDENT_KEYS}
    if "services_present" in form:
        chosen = form.get("services", [])
        data["services"] = chosen if isinstance(chosen, list) else [chosen]
    return data


async def _form_dict(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {}
    for key in form.keys():
        values = form.getall(key)
        out[key] = values if key == "services" else values[-1]
    return out


class LksPages(Controller):
    path = "/lks"
    include_in_schema = False

    @get("/", guards=[STAFF_OR_MANAGER])
    async def index(self, request: Request) -> Template | Redirect:
        actor = actor_of(request)
        if actor.role == Role.manager:
            return Redirect(f"/lks/{actor.lks_id}", status_code=303)
        params = dict(request.query_params)
        flt = _filter(params)
        sort = params.get("sort", "name")
        result = await services.list_lks(
            actor, flt, sort=sort, page=_int_param(params.get("page"), 1), per_page=_int_param(params.get("per_page"), 25)
        )
        names = await regions.region_names({r["kecamatan_code"] for r in result["items"]} | {r["kelurahan_code"] for r in result["items"]})
        return page(
            "registry/list.html",
            result=result,
            flt=flt,
            sort=sort,
            query=flt.as_query(),
            names=names,
            **await _choices(settings_of(request).region),
        )

    @get("/new", guards=[STAFF])
    async def new(self, request: Request) -> Template:
        return page("registry/form.html", lks=None, form={"kind": "lksa", "legal_entity": True}, errors={}, message=None, warnings=[], **await _choices(settings_of(request).region))

    @post("/", guards=[STAFF])
    async def create(self, request: Request) -> Template | Redirect:
        form = await _form_dict(request)
        try:
            row, warnings = await services.create_lks(actor_of(request), _form_to_data(form), now=utcnow())
        except DomainError as exc:
            return page(
                "registry/form.html", status_code=exc.status_code, lks=None, form=form, errors=exc.fields,
                message=exc.message, warnings=[], **await _choices(settings_of(request).region),
            )
        suffix = "?created=1" + ("&warn=residents" if warnings else "")
        return Redirect(f"/lks/{row['id']}{suffix}", status_code=303)

    @get("/{lks_id:int}", guards=[STAFF_OR_MANAGER])
    async def detail(self, request: Request, lks_id: FromPath[int]) -> Template:
        return await _detail(request, lks_id)

    @get("/{lks_id:int}/edit", guards=[STAFF_OR_MANAGER])
    async def edit(self, request: Request, lks_id: FromPath[int]) -> Template:
        lks = services.decode(await services.get_lks(actor_of(request), lks_id))
        return page("registry/form.html", lks=lks, form=_row_to_form(lks), errors={}, message=None, warnings=[], **await _choices(settings_of(request).region))

    @post("/{lks_id:int}/edit", guards=[STAFF_OR_MANAGER])
    async def update(self, request: Request, lks_id: FromPath[int]) -> Template | Redirect:
        actor = actor_of(request)
        lks = services.decode(await services.get_lks(actor, lks_id))
        form = await _form_dict(request)
        data = _form_to_data(form)
        if not services.is_staff(actor):
            data = {k: v for k, v in data.items() if k in services.MANAGER_FIELDS}
        try:
            version = int(form.get("version", ""))
        except ValueError:
            version = -1
        try:
            _row, warnings = await services.update_lks(actor, lks_id, data, version=version, now=utcnow())
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return page(
                "registry/form.html", status_code=exc.status_code, lks=lks, form={**_row_to_form(lks), **form},
                errors=exc.fields, message=exc.message, warnings=[], **await _choices(settings_of(request).region),
            )
        return Redirect(f"/lks/{lks_id}?saved=1" + ("&warn=residents" if warnings else ""), status_code=303)

    @post("/{lks_id:int}/workflow", guards=[STAFF_OR_MANAGER])
    async def workflow(self, request: Request, lks_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            await services.transition(actor_of(request), lks_id, data.get("action", ""), reason=data.get("reason", ""), now=utcnow())
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await _detail(request, lks_id, status_code=exc.status_code, message=exc.message, errors=exc.fields)
        return Redirect(f"/lks/{lks_id}?done={data.get('action', '')}", status_code=303)

    @post("/{lks_id:int}/documents", guards=[STAFF_OR_MANAGER])
    async def upload(self, request: Request, lks_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await _upload_from_form(request, lks_id, form)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await _detail(request, lks_id, status_code=exc.status_code, upload_message=exc.message, errors=exc.fields)
        return Redirect(f"/lks/{lks_id}?uploaded=1#documents", status_code=303)

    @get("/{lks_id:int}/certificate.pdf", guards=[STAFF_OR_MANAGER])
    async def certificate(self, request: Request, lks_id: FromPath[int]) -> Response[bytes]:
        from registry.certificate import certificate_pdf

        lks = await services.get_lks(actor_of(request), lks_id)
        pdf = await certificate_pdf(lks, settings_of(request).region)
        filename = f"tanda-daftar-lks-{lks_id}.pdf"
        return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'})


async def _upload_from_form(request: Request, lks_id: int, form: Any) -> tuple[dict, bool]:
    """The upload fields of a multipart form (page or API) → the service."""
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise ValidationError(_("Choose a file to upload."), fields={"file": _("Choose a file.")})
    expires = form.get("expires_on") or None
    try:
        expires_on = date.fromisoformat(expires) if expires else None
    except (TypeError, ValueError):
        raise ValidationError(_("Dates must be written as YYYY-MM-DD."), fields={"expires_on": _("YYYY-MM-DD")}) from None
    return await documents.upload(
        actor_of(request),
        lks_id,
        doc_type=str(form.get("doc_type") or ""),
        filename=file.filename,
        fileobj=file.file,
        now=utcnow(),
        storage=request.app.state.storage,
        max_bytes=settings_of(request).max_upload_bytes,
        expires_on=expires_on,
        client_id=str(form.get("client_id") or "") or None,
    )


def _row_to_form(lks: dict) -> dict[str, Any]:
    form = {k: lks.get(k) for k in services.EDITABLE_FIELDS - {"residents"}}
    for key in services.RESIDENT_KEYS:
        form[f"residents_{key}"] = (lks.get("residents") or {}).get(key, 0)
    form["version"] = lks["version"]
    return form


async def _detail(request: Request, lks_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    lks = services.decode(await services.get_lks(actor, lks_id))
    today = utcnow().astimezone(WIB).date()
    application = await services.open_application(lks_id)
    names = await regions.region_names({lks["kecamatan_code"], lks["kelurahan_code"]})
    context.setdefault("message", None)
    context.setdefault("upload_message", None)
    context.setdefault("errors", {})
    return page(
        "registry/detail.html",
        status_code=status_code,
        lks=lks,
        names=names,
        application=application,
        actions=services.available_actions(actor, lks, application, today),
        checklist=await documents.checklist(lks, today=today),
        docs=await documents.list_documents(actor, lks_id, include_superseded=True),
        history=await services.history(actor, lks_id),
        today=today,
        can_edit_all=services.is_staff(actor),
        max_upload_mb=settings_of(request).max_upload_mb,
        panels=[p for p in [await provider(actor, lks) for provider in wiring_of(request).hook(LKS_DETAIL_PANELS)] if p],
        **await _choices(settings_of(request).region),
        **context,
    )


class DocumentPages(Controller):
    path = "/documents"
    include_in_schema = False

    @get("/{document_id:int}/content", guards=[STAFF_OR_MANAGER])
    async def content(self, request: Request, document_id: FromPath[int]) -> Stream:
        return await _download(request, document_id)

    @post("/{document_id:int}/review", guards=[STAFF])
    async def review(self, request: Request, document_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        actor = actor_of(request)
        row = await documents.get_document(actor, document_id)
        try:
            await documents.review(actor, document_id, verdict=data.get("verdict", ""), reason=data.get("reason", ""), now=utcnow())
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await _detail(request, row["lks"], status_code=exc.status_code, upload_message=exc.message, errors=exc.fields)
        return Redirect(f"/lks/{row['lks']}#documents", status_code=303)


async def _download(request: Request, document_id: int) -> Stream:
    row = await documents.for_download(actor_of(request), document_id, now=utcnow())
    try:
        # Open before answering: a missing object or unreachable storage is
        # a clear error, not a response broken after its headers.
        reader = await request.app.state.storage.open(row["storage_key"])
    except ObjectNotFound as exc:
        raise NotFound(_("The file of this document is missing from storage.")) from exc
    except StorageError as exc:
        raise documents.StorageUnavailable(_("Document storage is unavailable right now. Please try again later.")) from exc
    return Stream(
        iter_reader(reader),
        media_type=row["content_type"],
        headers={
            "Content-Disposition": f'attachment; filename="{row["filename"]}"',
            "Content-Length": str(row["size"]),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# --- JSON API ------------------------------------------------------------------


@dataclass
class TransitionBody:
    action: str
    reason: str = ""


@dataclass
class ReviewBody:
    verdict: str
    reason: str = ""


class LksAPI(Controller):
    path = "/api/v1/lks"
    tags = ["lks"]

    @get("/", guards=[STAFF])
    async def list_lks(
        self,
        request: Request,
        sort: FromQuery[str] = "name",
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=100)] = 25,
    ) -> dict:
        """Search (`q`), filter (kecamatan, kelurahan, kind, registration_status,
        accreditation_status, risk_level, open_incident, documents_missing), sort, page."""
        return await services.list_lks(actor_of(request), _filter(dict(request.query_params)), sort=sort, page=page, per_page=per_page)

    @post("/", guards=[STAFF], status_code=HTTP_201_CREATED)
    async def create_lks(self, request: Request, data: JSONBody[dict[str, Any]]) -> dict:
        row, warnings = await services.create_lks(actor_of(request), data, now=utcnow())
        return {**_api_row(row), "warnings": warnings}

    @get("/{lks_id:int}", guards=[STAFF_OR_MANAGER])
    async def get_lks(self, request: Request, lks_id: FromPath[int]) -> dict:
        actor = actor_of(request)
        return _api_row(services.decode(await services.get_lks(actor, lks_id)), actor)

    @patch("/{lks_id:int}", guards=[STAFF_OR_MANAGER])
    async def patch_lks(self, request: Request, lks_id: FromPath[int], data: JSONBody[dict[str, Any]]) -> dict:
        """Change fields; `version` is required and a stale one gets 409."""
        version = data.pop("version", None)
        if not isinstance(version, int):
            raise ValidationError(_("The current version is required."), fields={"version": _("Required.")})
        actor = actor_of(request)
        row, warnings = await services.update_lks(actor, lks_id, data, version=version, now=utcnow())
        return {**_api_row(row, actor), "warnings": warnings}

    @post("/{lks_id:int}/transitions", guards=[STAFF_OR_MANAGER], status_code=HTTP_200_OK)
    async def transition(self, request: Request, lks_id: FromPath[int], data: JSONBody[TransitionBody]) -> dict:
        actor = actor_of(request)
        return _api_row(await services.transition(actor, lks_id, data.action, reason=data.reason, now=utcnow()), actor)

    @get("/{lks_id:int}/documents", guards=[STAFF_OR_MANAGER])
    async def documents_list(self, request: Request, lks_id: FromPath[int], history: FromQuery[bool] = False) -> dict:
        rows = await documents.list_documents(actor_of(request), lks_id, include_superseded=history)
        return {"items": [documents.public_document(r) for r in rows]}

    @post("/{lks_id:int}/documents", guards=[STAFF_OR_MANAGER], status_code=HTTP_201_CREATED)
    async def documents_upload(
        self, request: Request, lks_id: FromPath[int], data: MultipartBody[dict[str, Any]]
    ) -> Response[dict]:
        """Multipart: `file`, `doc_type`, optional `expires_on` (YYYY-MM-DD) and
        `client_id` (a retry with the same id is stored once: 200, not 201)."""
        row, created = await _upload_from_form(request, lks_id, data)
        return Response(documents.public_document(row), status_code=HTTP_201_CREATED if created else HTTP_200_OK)


class DocumentsAPI(Controller):
    path = "/api/v1/documents"
    tags = ["documents"]

    @get("/{document_id:int}/content", guards=[STAFF_OR_MANAGER])
    async def content(self, request: Request, document_id: FromPath[int]) -> Stream:
        return await _download(request, document_id)

    @post("/{document_id:int}/review", guards=[STAFF], status_code=HTTP_200_OK)
    async def review(self, request: Request, document_id: FromPath[int], data: JSONBody[ReviewBody]) -> dict:
        row = await documents.review(actor_of(request), document_id, verdict=data.verdict, reason=data.reason, now=utcnow())
        return documents.public_document(row)


class RegionsAPI(Controller):
    path = "/api/v1/regions"
    tags = ["regions"]

    @get("/", guards=[STAFF_OR_MANAGER])
    async def list_regions(self, request: Request, parent: FromQuery[str] = "") -> dict:
        """Kecamatan of the office's region, or the kelurahan of `parent`."""
        region = settings_of(request).region
        rows = await (regions.villages(region, parent) if parent else regions.districts(region))
        return {"items": rows}


# Monitoring fields an LKS's own manager must not see: a risk level or an
# incident flag would tell them an investigation (and unannounced visits)
# is under way.
STAFF_ONLY_FIELDS = frozenset({"risk_level", "open_incident"})


def _api_row(row: dict, actor=None) -> dict:
    hidden = {"search_text"} | (STAFF_ONLY_FIELDS if actor is not None and not services.is_staff(actor) else set())
    return {k: v for k, v in row.items() if k not in hidden}




# --- import and export ---------------------------------------------------------


def _column_groups() -> list[tuple[list[str], str]]:
    """The import columns for the explanation table: neighbours with the
    same explanation (rt/rw, the eight resident counts...) share a row."""
    groups: list[tuple[list[str], str]] = []
    for column in lks_io.COLUMNS:
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
        kind_words=list(lks_io.KIND_WORDS.values()),
        service_choices=[(code, _(text)) for code, text in services.SERVICES.items()],
        max_upload_mb=settings_of(request).max_upload_mb,
        max_rows=f"{lks_io.MAX_ROWS:,}".replace(",", "."),
        planned_labels={k: _(v) for k, v in lks_io.PLANNED_LABELS.items()},
        done_labels={k: _(v) for k, v in lks_io.DONE_LABELS.items()},
        **context,
    )


def _download_headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


class LksTransferPages(Controller):
    """Import the office's spreadsheet (a dry run first, then the commit) and
    export the filtered register as CSV or XLSX. Dinas Sosial staff only."""

    path = "/lks"
    include_in_schema = False
    guards = [STAFF]

    @get("/import")
    async def import_form(self, request: Request) -> Template:
        return _import_page(request, "form")

    @get("/import/template.xlsx")
    async def import_template(self) -> Response[bytes]:
        content = await lks_io.template_xlsx()
        return Response(content, media_type=lks_io.XLSX_MEDIA_TYPE, headers=_download_headers("templat-impor-lks.xlsx"))

    @post("/import")
    async def import_upload(self, request: Request) -> Template:
        """Keep the file (a browser cannot send it twice) and show the dry run."""
        settings = settings_of(request)
        folder = settings.var_dir / "imports"
        now = utcnow()
        form = await request.form()
        file = form.get("file")
        token: str | None = None
        filename = file.filename if isinstance(file, UploadFile) else ""
        try:
            if not isinstance(file, UploadFile):
                raise ValidationError(_("Choose a file to upload."), fields={"file": _("Choose a file.")})
            content = await file.read(settings.max_upload_bytes + 1)
            token = await anyio.to_thread.run_sync(
                functools.partial(lks_io.store_upload, content, folder, now=now, max_bytes=settings.max_upload_bytes)
            )
            path = lks_io.find_upload(folder, token, now=now)
            assert path is not None
            with path.open("rb") as fh:
                report = await lks_io.dry_run(actor_of(request), fh, now=now)
        except DomainError as exc:
            if token:
                _discard_upload(folder, token, now)
            if exc.status_code in (403, 404):
                raise
            return _import_page(request, "form", status_code=exc.status_code, message=exc.message, filename=filename)
        if not report.applicable:
            _discard_upload(folder, token, now)
            token = None
        return _import_page(request, "report", report=report, token=token, filename=filename)

    @post("/import/commit")
    async def import_commit(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template:
        folder = settings_of(request).var_dir / "imports"
        now = utcnow()
        claimed = lks_io.claim_upload(folder, data.get("token", ""), now=now)
        if claimed is None:
            message = _("This import is no longer available: it was already applied, or it was checked more than a day ago. Upload the file again.")
            return _import_page(request, "form", status_code=404, message=message)
        try:
            with claimed.open("rb") as fh:
                report = await lks_io.commit(actor_of(request), fh, now=now)
        except DomainError as exc:
            lks_io.release_upload(claimed)
            if exc.status_code in (403, 404):
                raise
            return _import_page(request, "form", status_code=exc.status_code, message=exc.message)
        except BaseException:
            lks_io.release_upload(claimed)
            raise
        claimed.unlink(missing_ok=True)
        return _import_page(request, "result", report=report)

    @get("/export.csv")
    async def export_csv(self, request: Request) -> Stream:
        params = dict(request.query_params)
        now = utcnow()
        chunks = await lks_io.export_csv(actor_of(request), _filter(params), params.get("sort", "name"), now=now)
        return Stream(chunks, media_type=lks_io.CSV_MEDIA_TYPE, headers=_download_headers(lks_io.export_filename("csv", now=now)))

    @get("/export.xlsx")
    async def export_xlsx(self, request: Request) -> Stream:
        params = dict(request.query_params)
        now = utcnow()
        chunks = await lks_io.export_xlsx(actor_of(request), _filter(params), params.get("sort", "name"), now=now)
        return Stream(chunks, media_type=lks_io.XLSX_MEDIA_TYPE, headers=_download_headers(lks_io.export_filename("xlsx", now=now)))


def _discard_upload(folder, token: str | None, now) -> None:
    path = lks_io.find_upload(folder, token or "", now=now)
    if path is not None:
        path.unlink(missing_ok=True)


route_handlers = [LksPages, LksTransferPages, DocumentPages, LksAPI, DocumentsAPI, RegionsAPI]
