"""Documents of an LKS: upload (page and API), the list (API), download
after the access check, and review by Dinas Sosial staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Stream, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import Struct

from registry import documents
from registry.controllers.guards import STAFF, STAFF_OR_MANAGER
from registry.controllers.lks import detail_page
from sigap.bodies import one_of
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import _
from sigap.openapi import DOCUMENT_TYPES, download
from sigap.storage import iter_reader
from sigap.web import actor_of, content_disposition, settings_of, utcnow


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


async def _download(request: Request, document_id: int) -> Stream:
    row, reader = await documents.open_for_download(
        actor_of(request), document_id, storage=request.app.state.storage, now=utcnow()
    )
    return Stream(
        iter_reader(reader),
        media_type=row["content_type"],
        headers={
            "Content-Disposition": content_disposition(row["filename"]),
            "Content-Length": str(row["size"]),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


class LksDocumentPages(Controller):
    path = "/lks"
    include_in_schema = False

    @post("/{lks_id:int}/documents", guards=[STAFF_OR_MANAGER])
    async def upload(self, request: Request, lks_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await _upload_from_form(request, lks_id, form)
        except NotFound:
            raise
        except DomainError as exc:
            item = str(form.get("doc_type") or "") if form.get("item") else None
            return await detail_page(
                request, lks_id, status_code=exc.status_code, upload_message=exc.message, errors=exc.fields, upload_type=item
            )
        doc_type = str(form.get("doc_type"))
        if form.get("item") and doc_type in documents.DOCUMENT_TYPES:  # from the checklist: back to that item
            return Redirect(f"/lks/{lks_id}?uploaded={doc_type}#item-{doc_type}", status_code=303)
        return Redirect(f"/lks/{lks_id}?uploaded=1#documents", status_code=303)

    @post("/{lks_id:int}/documents/review", guards=[STAFF])
    async def review_many(self, request: Request, lks_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        """One form for every document on the page: ``verdict-<id>`` (verified,
        rejected or empty to leave it) and ``reason-<id>``."""
        verdicts = {
            int(key.removeprefix("verdict-")): (value, data.get(f"reason-{key.removeprefix('verdict-')}", ""))
            for key, value in data.items()
            if key.startswith("verdict-") and key.removeprefix("verdict-").isdigit() and len(key) <= 26 and value
        }
        try:
            rows = await documents.review_many(actor_of(request), lks_id, verdicts, now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            return await detail_page(
                request, lks_id, status_code=exc.status_code, review_message=exc.message, errors=exc.fields, review_form=data
            )
        verified = sum(1 for r in rows if r["status"] == "verified")
        return Redirect(f"/lks/{lks_id}?reviewed={verified}-{len(rows) - verified}#documents", status_code=303)


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
        except NotFound:
            raise
        except DomainError as exc:
            return await detail_page(request, row["lks"], status_code=exc.status_code, upload_message=exc.message, errors=exc.fields)
        return Redirect(f"/lks/{row['lks']}#documents", status_code=303)


# --- JSON API ------------------------------------------------------------------


class ReviewBody(Struct, kw_only=True):
    verdict: Annotated[str, one_of(["verified", "rejected"])]
    reason: str = ""


@dataclass
class UploadForm:
    doc_type: Annotated[str, one_of(documents.DOCUMENT_TYPES)] = ""
    expires_on: str = ""  # YYYY-MM-DD
    client_id: str = ""
    file: UploadFile | None = None


class LksDocumentsAPI(Controller):
    path = "/api/v1/lks"
    tags = ["lks"]

    @get("/{lks_id:int}/documents", guards=[STAFF_OR_MANAGER])
    async def documents_list(self, request: Request, lks_id: FromPath[int], history: FromQuery[bool] = False) -> dict:
        rows = await documents.list_documents(actor_of(request), lks_id, include_superseded=history)
        return {"items": [documents.public_document(r) for r in rows]}

    @post("/{lks_id:int}/documents", guards=[STAFF_OR_MANAGER], status_code=HTTP_201_CREATED)
    async def documents_upload(
        self, request: Request, lks_id: FromPath[int], data: MultipartBody[UploadForm]
    ) -> Response[dict]:
        """Multipart: `file`, `doc_type`, optional `expires_on` (YYYY-MM-DD) and
        `client_id` (a retry with the same id is stored once: 200, not 201)."""
        row, created = await _upload_from_form(request, lks_id, vars(data))
        return Response(documents.public_document(row), status_code=HTTP_201_CREATED if created else HTTP_200_OK)


class DocumentsAPI(Controller):
    path = "/api/v1/documents"
    tags = ["documents"]

    @get("/{document_id:int}/content", guards=[STAFF_OR_MANAGER],
         operation_class=download("The stored file, as uploaded (its original name in Content-Disposition).", *DOCUMENT_TYPES))
    async def content(self, request: Request, document_id: FromPath[int]) -> Stream:
        return await _download(request, document_id)

    @post("/{document_id:int}/review", guards=[STAFF], status_code=HTTP_200_OK)
    async def review(self, request: Request, document_id: FromPath[int], data: JSONBody[ReviewBody]) -> dict:
        row = await documents.review(actor_of(request), document_id, verdict=data.verdict, reason=data.reason, now=utcnow())
        return documents.public_document(row)
