"""The JSON API of checklists and visit reports (``/api/v1/checklists``,
``/api/v1/visits``): what the tablet reads and sends. The services decide
who sees and files what; a report or photo sent again with its client id
answers 200 with the stored one instead of 201."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from inspections.visits import checklists, photos, services
from inspections.web import FIELD_OR_STAFF, STAFF
from sigap.errors import ValidationError
from sigap.i18n import _
from sigap.web import actor_of, settings_of, utcnow

INT32 = 2**31 - 1


class ChecklistsAPI(Controller):
    path = "/api/v1/checklists"
    tags = ["visits"]
    guards = [FIELD_OR_STAFF]

    @get("/")
    async def list_checklists(self) -> dict:
        """The current checklists, one item per LKS kind, in the caller's language."""
        return {"items": await checklists.current_checklists()}


@dataclass
class ReviewBody:
    decision: str
    comment: str = ""
    version: int | None = None


def _bounded(value: int | None) -> int | None:
    if value is not None and not 0 < value <= INT32:
        raise ValidationError(_("Unknown id."))
    return value


def _stored(body: dict, created: bool) -> Response[dict]:
    return Response(body, status_code=HTTP_201_CREATED if created else HTTP_200_OK)


def _photo_json(row: dict) -> dict:
    return {
        "id": row["id"], "client_id": row["client_id"], "visit_id": row["visit"], "question_code": row["question_code"],
        "finding_ref": row["finding_ref"], "url": f"/visits/{row['visit']}/photos/{row['id']}",
    }


class VisitsAPI(Controller):
    path = "/api/v1/visits"
    tags = ["visits"]
    guards = [FIELD_OR_STAFF]

    @get("/")
    async def list_visits(self, request: Request, lks_id: FromQuery[int | None] = None, task_id: FromQuery[int | None] = None) -> dict:
        """Reports the caller may read (staff: all; inspectors and partners: their teams')."""
        rows = await services.search_visits(actor_of(request), lks_id=_bounded(lks_id), task_id=_bounded(task_id), limit=1000)
        return {"items": [
            {"id": r["id"], "client_id": r["client_id"], "task_id": r["task"], "lks_id": r["lks"], "lks_name": r["lks_name"],
             "status": r["status"], "outcome": r["outcome"], "submitted_at": r["submitted_at"], "far_start": r["far_start"],
             "version": r["version"]}
            for r in rows
        ]}

    @post("/")
    async def submit(self, request: Request, data: JSONBody[dict[str, Any]]) -> Response[dict]:
        """One report (see the API notes); the same ``client_id`` again: 200 with the stored report."""
        actor = actor_of(request)
        row, created = await services.submit(actor, data, now=utcnow())
        return _stored(await services.visit_json(actor, row), created)

    @get("/{visit_id:int}")
    async def get_visit(self, request: Request, visit_id: FromPath[int]) -> dict:
        actor = actor_of(request)
        return await services.visit_json(actor, await services.get_visit(actor, visit_id))

    @post("/{visit_id:int}/resubmit", status_code=HTTP_200_OK)
    async def resubmit(self, request: Request, visit_id: FromPath[int], data: JSONBody[dict[str, Any]]) -> dict:
        """A returned report corrected: the report's body plus ``version``; stale: 409."""
        actor = actor_of(request)
        return await services.visit_json(actor, await services.resubmit(actor, visit_id, data, now=utcnow()))

    @post("/{visit_id:int}/review", guards=[STAFF], status_code=HTTP_200_OK)
    async def review(self, request: Request, visit_id: FromPath[int], data: JSONBody[ReviewBody]) -> dict:
        """``approve`` or ``return`` (with a comment); ``version`` required."""
        if data.version is None:
            raise ValidationError(_("The current version is required."), fields={"version": _("Required.")})
        actor = actor_of(request)
        row = await services.review(actor, visit_id, decision=data.decision, comment=data.comment, version=data.version, now=utcnow())
        return await services.visit_json(actor, row)

    @post("/{visit_id:int}/photos")
    async def add_photo(self, request: Request, visit_id: FromPath[int], data: MultipartBody[dict[str, Any]]) -> Response[dict]:
        """Multipart: ``client_id``, ``question_code``, ``finding_ref``, ``taken_at``,
        ``latitude``, ``longitude``, ``file`` (JPEG, PNG or WebP)."""
        file = data.get("file")
        if not isinstance(file, UploadFile):
            raise ValidationError(_("Choose a photo."), fields={"file": _("Choose a photo.")})
        text = {name: str(data.get(name) or "") for name in ("client_id", "question_code", "finding_ref", "taken_at", "latitude", "longitude")}
        row, created = await photos.add_photo(
            actor_of(request), visit_id, **text, fileobj=file.file, storage=request.app.state.storage,
            max_mb=settings_of(request).max_photo_mb, now=utcnow(),
        )
        return _stored(_photo_json(row), created)


route_handlers: list = [ChecklistsAPI, VisitsAPI]
