"""The JSON API of checklists and visit reports (``/api/v1/checklists``,
``/api/v1/visits``): what the tablet reads and sends. The services decide
who sees and files what; a report or photo sent again with its client id
answers 200 with the stored one instead of 201."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import Struct, defstruct

from inspections.findings.tables import FindingSeverity, Responsible
from inspections.visits import checklists, photos, services, validation
from inspections.visits.tables import VisitOutcome
from inspections.web import FIELD_OR_STAFF, STAFF
from sigap.bodies import UNSET, Count, Id, Int32, UnsetType, one_of, sent
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


class ReviewBody(Struct, kw_only=True):
    decision: Annotated[str, one_of(["approve", "return"])]
    comment: str = ""
    version: Int32 | None = None


# The JSON types of a report as the tablet sends it; inspections.visits.validation
# decides everything else and words a message for each field.
Text = str | None | UnsetType


class Position(Struct, kw_only=True):
    lat: float
    lng: float
    accuracy_m: float | None | UnsetType = UNSET


class Present(Struct, kw_only=True):
    kind: Annotated[str, one_of(validation.PRESENT_KINDS)] | UnsetType = UNSET
    name: Text = UNSET
    user_id: Id | None | UnsetType = UNSET
    agency: Text = UNSET


ResidentsPresent = defstruct(
    "ResidentsPresent", [(band, Count | UnsetType, UNSET) for band in validation.RESIDENT_BANDS],
    kw_only=True, forbid_unknown_fields=True,
)  # counts only, by sex and age band; an absent band is 0


class FindingIn(Struct, kw_only=True):
    ref: Text = UNSET
    question_code: Text = UNSET
    severity: Annotated[str, one_of(FindingSeverity.__members__)] | None | UnsetType = UNSET
    description: Text = UNSET
    corrective_action: Text = UNSET
    due_on: Text = UNSET  # YYYY-MM-DD, today or later
    responsible: Annotated[str, one_of(Responsible.__members__)] | None | UnsetType = UNSET


class PhotoRef(Struct, kw_only=True):
    client_id: Text = UNSET
    question_code: Text = UNSET
    finding_ref: Text = UNSET


class Signatures(Struct, kw_only=True):
    lead: Text = UNSET  # data:image/png;base64,...
    lks_head: Text = UNSET


Answer = str | int | float | bool | None


class _Report(Struct, kw_only=True):
    checklist_id: Id
    announced: bool | None | UnsetType = UNSET
    started_at: Text = UNSET  # ISO date and time with its zone
    position: Position | None | UnsetType = UNSET
    present: list[Present] | UnsetType = UNSET
    residents_present: ResidentsPresent | UnsetType = UNSET  # type: ignore[valid-type]
    answers: dict[str, Answer] | UnsetType = UNSET
    findings: list[FindingIn] | UnsetType = UNSET
    photos: list[PhotoRef] | UnsetType = UNSET
    signatures: Signatures | UnsetType = UNSET
    outcome: Annotated[str, one_of(VisitOutcome.__members__)] | None | UnsetType = UNSET
    summary: Text = UNSET
    internal_notes: Text = UNSET
    # The account signed in when the report was queued on the device; another
    # account sending it gets 409 (see services.ensure_author).
    author: Id | UnsetType = UNSET


class VisitBody(_Report, kw_only=True):
    """A new report; the same ``client_id`` again answers with the stored one."""

    client_id: str
    task_id: Id


class ResubmitBody(_Report, kw_only=True):
    """A returned report corrected: the report again plus its ``version``."""

    version: Int32
    client_id: Text = UNSET
    task_id: Id | UnsetType = UNSET  # the report's own task is used


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


@dataclass
class PhotoForm:
    client_id: str = ""
    question_code: str = ""
    finding_ref: str = ""
    taken_at: str = ""
    latitude: str = ""
    longitude: str = ""
    file: UploadFile | None = None


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
    async def submit(self, request: Request, data: JSONBody[VisitBody]) -> Response[dict]:
        """One report (see the API notes); the same ``client_id`` again: 200 with the stored report."""
        actor = actor_of(request)
        row, created = await services.submit(actor, sent(data), now=utcnow())
        return _stored(await services.visit_json(actor, row), created)

    @get("/{visit_id:int}")
    async def get_visit(self, request: Request, visit_id: FromPath[int]) -> dict:
        actor = actor_of(request)
        return await services.visit_json(actor, await services.get_visit(actor, visit_id))

    @post("/{visit_id:int}/resubmit", status_code=HTTP_200_OK)
    async def resubmit(self, request: Request, visit_id: FromPath[int], data: JSONBody[ResubmitBody]) -> dict:
        """A returned report corrected: the report's body plus ``version``; stale: 409."""
        actor = actor_of(request)
        return await services.visit_json(actor, await services.resubmit(actor, visit_id, sent(data), now=utcnow()))

    @post("/{visit_id:int}/review", guards=[STAFF], status_code=HTTP_200_OK)
    async def review(self, request: Request, visit_id: FromPath[int], data: JSONBody[ReviewBody]) -> dict:
        """``approve`` or ``return`` (with a comment); ``version`` required."""
        if data.version is None:
            raise ValidationError(_("The current version is required."), fields={"version": _("Required.")})
        actor = actor_of(request)
        row = await services.review(actor, visit_id, decision=data.decision, comment=data.comment, version=data.version, now=utcnow())
        return await services.visit_json(actor, row)

    @post("/{visit_id:int}/photos")
    async def add_photo(self, request: Request, visit_id: FromPath[int], data: MultipartBody[PhotoForm]) -> Response[dict]:
        """Multipart: ``client_id``, ``question_code``, ``finding_ref``, ``taken_at``,
        ``latitude``, ``longitude``, ``file`` (JPEG, PNG or WebP)."""
        file = data.file
        if not isinstance(file, UploadFile):
            raise ValidationError(_("Choose a photo."), fields={"file": _("Choose a photo.")})
        text = {name: getattr(data, name) for name in ("client_id", "question_code", "finding_ref", "taken_at", "latitude", "longitude")}
        row, created = await photos.add_photo(
            actor_of(request), visit_id, **text, fileobj=file.file, storage=request.app.state.storage,
            max_mb=settings_of(request).max_photo_mb, now=utcnow(),
        )
        return _stored(_photo_json(row), created)


route_handlers: list = [ChecklistsAPI, VisitsAPI]
