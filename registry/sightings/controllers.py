"""Unregistered-LKS reports: the short form (phone and tablet), the list
(staff: every report; a partner: their own), one report with its photo and
staff's outcome; and the same under ``/api/v1/sightings``."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Stream, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from registry import lookup, regions
from registry.access import is_staff
from registry.hooks import PARTNER_AREA, UNREGISTERED_REPORTED
from registry.labels import KIND_LABELS
from registry.sightings import services
from registry.sightings.services import OUTCOME_LABELS, Photo, PossibleDuplicates
from sigap.bodies import Int32
from sigap.errors import DomainError, NotFound
from sigap.i18n import choices
from sigap.storage import iter_reader
from sigap.tables import Role
from sigap.web import actor_of, requires, settings_of, utcnow
from sigap.wiring import wiring_of

REPORTERS = requires(Role.admin, Role.staff, Role.partner)
STAFF = requires(Role.admin, Role.staff)
FIELDS = ("lks_id", "name", "address", "kelurahan_code", "kind", "seen", "confirm_new", "client_id")


async def _create(request: Request, data: dict[str, Any], upload: Any) -> tuple[dict, bool]:
    photo = None
    if isinstance(upload, UploadFile) and upload.filename:
        photo = Photo(filename=upload.filename, fileobj=upload.file)
    settings = settings_of(request)
    return await services.create(
        actor_of(request), data, now=utcnow(), storage=request.app.state.storage,
        max_photo_bytes=settings.max_photo_mb * 1024 * 1024, photo=photo,
        reported_hooks=wiring_of(request).hook(UNREGISTERED_REPORTED),
    )


async def _default_area(request: Request) -> str:
    """A partner's kelurahan when their team covers exactly one."""
    actor = actor_of(request)
    if actor.role != Role.partner:
        return ""
    for hook in wiring_of(request).hook(PARTNER_AREA):
        area = await hook(actor.user_id)
        if area and await regions.village(area):
            return area
    return ""


async def _kelurahan_choices(region: str) -> list[tuple[str, str]]:
    villages = await regions.villages(region)
    districts = await regions.region_names({v["parent_code"] for v in villages})
    return [(v["code"], f"{v['name']} ({districts.get(v['parent_code'], '')})") for v in villages]


async def _form_page(request: Request, form: dict[str, Any], status_code: int = 200, **context: Any) -> Template:
    settings = settings_of(request)
    lks = None
    lks_id = services.positive_int(form.get("lks_id"))
    if lks_id and lks_id > 0:
        lks = await lookup.by_id(lks_id)
    q = str(request.query_params.get("q") or "")[:100]
    context.setdefault("errors", {})
    context.setdefault("message", None)
    context.setdefault("duplicates", [])
    return Template(
        template_name="registry/sightings/form.html", status_code=status_code,
        context={
            "form": form, "lks": lks, "q": q, "found": await lookup.search_names(q) if q.strip() else None,
            "kelurahan": await _kelurahan_choices(settings.region), "kinds": choices(KIND_LABELS),
            "max_photo_mb": settings.max_photo_mb, **context,
        },
    )


class SightingPages(Controller):
    path = "/sightings"
    include_in_schema = False

    @get("/", guards=[REPORTERS])
    async def index(self, request: Request, outcome: FromQuery[str] = "open") -> Template:
        actor = actor_of(request)
        staff = is_staff(actor)
        outcome = outcome if outcome in services.SightingOutcome.__members__ or outcome == "all" else "open"
        rows = await services.list_sightings(actor, outcome=outcome if staff else "")
        return Template(template_name="registry/sightings/list.html", context={
            "rows": rows, "outcome": outcome, "staff": staff, "outcomes": choices(OUTCOME_LABELS),
            "created": request.query_params.get("created"),
        })

    @get("/new", guards=[REPORTERS])
    async def new(self, request: Request) -> Template:
        form = {"kind": "other", "kelurahan_code": await _default_area(request), "client_id": uuid.uuid4().hex,
                "lks_id": request.query_params.get("lks_id", "")}
        return await _form_page(request, form)

    @post("/", guards=[REPORTERS])
    async def create(self, request: Request) -> Template | Redirect:
        raw = await request.form()
        form = {k: str(raw.get(k) or "") for k in FIELDS}
        if raw.get("pick"):  # "this is the one" on a possible duplicate
            form["lks_id"] = str(raw.get("pick"))
        try:
            row, _created = await _create(request, form, raw.get("photo"))
        except PossibleDuplicates as exc:
            return await _form_page(request, form, 409, duplicates=exc.duplicates, message=exc.message,
                                    photo_dropped=bool(getattr(raw.get("photo"), "filename", "")))
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await _form_page(request, form, exc.status_code, errors=exc.fields, message=exc.message)
        return Redirect(f"/sightings/{row['id']}?created=1", status_code=303)

    @get("/{sighting_id:int}", guards=[REPORTERS])
    async def detail(self, request: Request, sighting_id: FromPath[int]) -> Template:
        return await _detail(request, sighting_id)

    @post("/{sighting_id:int}/outcome", guards=[STAFF])
    async def outcome(self, request: Request, sighting_id: FromPath[int]) -> Template | Redirect:
        raw = await request.form()
        try:
            version = int(str(raw.get("version") or ""))
        except ValueError:
            version = -1
        try:
            await services.set_outcome(actor_of(request), sighting_id, outcome=str(raw.get("outcome") or ""),
                                       reason=str(raw.get("reason") or ""), version=version, now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            form = {"outcome": str(raw.get("outcome") or ""), "reason": str(raw.get("reason") or "")}
            return await _detail(request, sighting_id, exc.status_code, errors=exc.fields, message=exc.message, form=form)
        return Redirect(f"/sightings/{sighting_id}?decided=1", status_code=303)

    @get("/{sighting_id:int}/photo", guards=[REPORTERS])
    async def photo(self, request: Request, sighting_id: FromPath[int]) -> Stream:
        row, reader = await services.open_photo(actor_of(request), sighting_id, storage=request.app.state.storage,
                                                now=utcnow())
        return Stream(iter_reader(reader), media_type=row["photo_type"], headers={
            "Content-Length": str(row["photo_size"]), "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        })


async def _detail(request: Request, sighting_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    row = await services.get_sighting(actor, sighting_id)
    context.setdefault("errors", {})
    context.setdefault("message", None)
    context.setdefault("form", {"outcome": row["outcome"], "reason": ""})
    return Template(template_name="registry/sightings/detail.html", status_code=status_code, context={
        "s": row, "staff": is_staff(actor), "outcomes": choices(OUTCOME_LABELS),
        "created": request.query_params.get("created"), "decided": request.query_params.get("decided"), **context,
    })


# --- JSON API ------------------------------------------------------------------------


@dataclass
class SightingForm:
    """A report: ``lks_id`` of a known LKS, or name, address and kelurahan of
    a new one; ``seen`` always; ``client_id`` makes retries safe."""

    seen: str
    client_id: str = ""
    lks_id: int | None = None
    name: str = ""
    address: str = ""
    kelurahan_code: str = ""
    kind: str = "other"
    confirm_new: bool = False
    photo: UploadFile | None = None


@dataclass
class OutcomeBody:
    outcome: str
    reason: str
    version: Int32 | None = None


def _duplicates_response(exc: PossibleDuplicates) -> Response[dict]:
    return Response({
        "error": exc.code, "message": exc.message, "fields": exc.fields,
        "duplicates": [{k: d[k] for k in ("id", "name", "address", "registration_status")} for d in exc.duplicates],
    }, status_code=409)


class SightingsAPI(Controller):
    path = "/api/v1/sightings"
    tags = ["sightings"]

    @get("/", guards=[REPORTERS])
    async def list_sightings(self, request: Request, outcome: FromQuery[str] = "") -> dict:
        """Staff: every report (filter by `outcome`); a partner: their own."""
        rows = await services.list_sightings(actor_of(request), outcome=outcome)
        return {"items": [services.public_sighting(r) for r in rows]}

    @post("/", guards=[REPORTERS], status_code=HTTP_201_CREATED, responses={
        200: ResponseSpec(data_container=dict, description="A retry with the same client_id: the report stored first."),
    })
    async def create_sighting(
        self, request: Request, data: Annotated[SightingForm, Body(media_type=RequestEncodingType.MULTI_PART)]
    ) -> Response[dict]:
        """Multipart form; the same `client_id` again answers 200 with the
        first report. Similar LKS in the kelurahan answer 409 with
        `duplicates`: send `lks_id` of one, or `confirm_new`."""
        fields = {k: v for k, v in asdict(data).items() if k != "photo"}
        fields["lks_id"] = "" if data.lks_id is None else str(data.lks_id)
        try:
            row, created = await _create(request, fields, data.photo)
        except PossibleDuplicates as exc:
            return _duplicates_response(exc)
        row = await services.get_sighting(actor_of(request), row["id"])
        return Response(services.public_sighting(row), status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @get("/{sighting_id:int}", guards=[REPORTERS])
    async def get_sighting(self, request: Request, sighting_id: FromPath[int]) -> dict:
        return services.public_sighting(await services.get_sighting(actor_of(request), sighting_id))

    @post("/{sighting_id:int}/outcome", guards=[STAFF], status_code=HTTP_200_OK)
    async def set_outcome(self, request: Request, sighting_id: FromPath[int], data: JSONBody[OutcomeBody]) -> dict:
        row = await services.set_outcome(actor_of(request), sighting_id, outcome=data.outcome, reason=data.reason,
                                         version=data.version, now=utcnow())
        return services.public_sighting(row)

    @get("/lks", guards=[REPORTERS])
    async def search_lks(self, request: Request, q: FromQuery[str] = "") -> dict:
        """Known LKS by name, foundation or address (for the form's picker)."""
        return {"items": [{k: r[k] for k in ("id", "name", "address", "kelurahan_name", "registration_status")}
                          for r in await lookup.search_names(q)]}


route_handlers = [SightingPages, SightingsAPI]
