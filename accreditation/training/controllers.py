"""Pembinaan pages (``/accreditation/training``: staff's sessions, a
session's attendance list with certificates, coverage per kecamatan; the
certificate PDF also for the attendee's LKS manager) and the JSON API
(``/api/v1/accreditation/training``). Pages and API call the same
services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from accreditation.training import services
from accreditation.training.certificate import certificate_pdf
from accreditation.web import STAFF, STAFF_OR_MANAGER, date_field, failed, form_page, int_field
from registry import services as registry_services
from registry.access import get_lks
from sigap.bodies import Id
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import choices
from sigap.web import actor_of, content_disposition, settings_of, utcnow

BASE = "/accreditation/training"


async def _create_session(request: Request, form: dict[str, Any]) -> dict:
    """The page's form → the service; a badly written date is named next to
    the field along with whatever else the service finds."""
    errors: dict[str, str] = {}
    held_on = date_field(form.get("held_on"), "held_on", errors)
    try:
        return await services.create_session(actor_of(request), _session_data(form, held_on), now=utcnow())
    except ValidationError as exc:
        raise ValidationError(exc.message, fields={**(exc.fields or {}), **errors}) from None


def _session_data(form: dict[str, Any], held_on: date | None) -> services.SessionData:
    return services.SessionData(topic=str(form.get("topic") or ""), title=str(form.get("title") or ""), held_on=held_on,
                                place=str(form.get("place") or ""), trainer=str(form.get("trainer") or ""),
                                notes=str(form.get("notes") or ""))


def _attendance_data(form: dict[str, Any]) -> services.AttendanceData:
    lks_id = form.get("lks_id")
    return services.AttendanceData(lks_id=lks_id if isinstance(lks_id, int) else int_field(lks_id),
                                   person_name=str(form.get("person_name") or ""), person_role=str(form.get("person_role") or ""))


# --- pages ---------------------------------------------------------------------------------


async def _sessions_page(request: Request, status_code: int = 200, **context: Any) -> Template:
    return form_page(f"{BASE[1:]}/sessions.html", status_code=status_code,
                     sessions=await services.list_sessions(actor_of(request)), topic_choices=choices(services.TOPIC_LABELS),
                     **context)


async def _session_page(request: Request, session_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    session = await services.session_detail(actor, session_id)
    lks_id = int_field(request.query_params.get("lks_id")) or int_field(context.get("form", {}).get("lks_id"))
    lks = await get_lks(actor, lks_id) if lks_id is not None else None
    q = (request.query_params.get("q") or "").strip()[:200]
    found = None
    if lks is None and q:
        found = (await registry_services.list_lks(actor, registry_services.LksFilter(q=q), per_page=25))["items"]
    return form_page(f"{BASE[1:]}/session.html", status_code=status_code, session=session, lks=lks, q=q, found=found,
                     role_choices=choices(services.ROLE_LABELS), **context)


class TrainingPages(Controller):
    path = BASE
    include_in_schema = False

    @get("/", guards=[STAFF])
    async def index(self, request: Request) -> Template:
        return await _sessions_page(request)

    @post("/", guards=[STAFF])
    async def create(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            session = await _create_session(request, dict(data))
        except DomainError as exc:
            return await _sessions_page(request, **failed(exc, dict(data)))
        return Redirect(f"{BASE}/{session['id']}?created=1", status_code=303)

    @get("/coverage", guards=[STAFF])
    async def coverage(self, request: Request) -> Template:
        now = utcnow()
        data = await services.coverage(actor_of(request), today=services.today_wib(now), region=settings_of(request).region)
        return form_page(f"{BASE[1:]}/coverage.html", coverage=data)

    @get("/{session_id:int}", guards=[STAFF])
    async def session(self, request: Request, session_id: FromPath[int]) -> Template:
        return await _session_page(request, session_id, added=request.query_params.get("added", ""),
                                   created=request.query_params.get("created", ""))

    @post("/{session_id:int}/attendance", guards=[STAFF])
    async def add_attendance(self, request: Request, session_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            await services.add_attendance(actor_of(request), session_id, _attendance_data(dict(data)), now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            return await _session_page(request, session_id, **failed(exc, dict(data)))
        return Redirect(f"{BASE}/{session_id}?added=1&lks_id={int_field(data.get('lks_id'))}#attendance", status_code=303)

    @post("/{session_id:int}/attendance/{attendance_id:int}/delete", guards=[STAFF])
    async def remove_attendance(self, request: Request, session_id: FromPath[int], attendance_id: FromPath[int]) -> Redirect:
        await services.remove_attendance(actor_of(request), session_id, attendance_id, now=utcnow())
        return Redirect(f"{BASE}/{session_id}#attendance", status_code=303)

    @get("/certificates/{attendance_id:int}/sertifikat.pdf", guards=[STAFF_OR_MANAGER])
    async def certificate(self, request: Request, attendance_id: FromPath[int]) -> Response[bytes]:
        row = await services.attendance_for_certificate(actor_of(request), attendance_id)
        pdf = await certificate_pdf(row, settings_of(request).region)
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": content_disposition(f"sertifikat-{row['certificate_number']}.pdf", inline=True)})


# --- JSON API --------------------------------------------------------------------------------


@dataclass
class NewSession:
    topic: str
    title: str
    held_on: date
    place: str
    trainer: str
    notes: str = ""


@dataclass
class NewAttendance:
    lks_id: Id
    person_name: str
    person_role: str


class TrainingAPI(Controller):
    path = "/api/v1/accreditation/training"
    tags = ["accreditation"]

    @get("/sessions", guards=[STAFF])
    async def list_sessions(self, request: Request) -> dict:
        """Sessions, latest first, with their number of attendees (staff)."""
        return {"items": await services.list_sessions(actor_of(request))}

    @post("/sessions", guards=[STAFF], status_code=HTTP_201_CREATED)
    async def create_session(self, request: Request, data: JSONBody[NewSession]) -> dict:
        """Schedule a session: `topic` (child_protection, care_standards, other), `title`, `held_on`, `place`, `trainer`."""
        return await services.create_session(actor_of(request), services.SessionData(
            topic=data.topic, title=data.title, held_on=data.held_on, place=data.place, trainer=data.trainer, notes=data.notes,
        ), now=utcnow())

    @get("/sessions/{session_id:int}", guards=[STAFF])
    async def get_session(self, request: Request, session_id: FromPath[int]) -> dict:
        """A session with its attendance list."""
        return await services.session_detail(actor_of(request), session_id)

    @post("/sessions/{session_id:int}/attendance", guards=[STAFF], status_code=HTTP_201_CREATED)
    async def add_attendance(self, request: Request, session_id: FromPath[int], data: JSONBody[NewAttendance]) -> dict:
        """Record an attendee: `lks_id`, `person_name`, `person_role` (manager, caregiver, social_worker,
        administrator, other_staff). Adult staff only; a person once per session (409)."""
        return await services.add_attendance(actor_of(request), session_id, services.AttendanceData(
            lks_id=data.lks_id, person_name=data.person_name, person_role=data.person_role), now=utcnow())

    @get("/coverage", guards=[STAFF])
    async def coverage(self, request: Request) -> dict:
        """Per kecamatan: registered LKS, those with child-protection training in the last 12 months, the share."""
        now = utcnow()
        return await services.coverage(actor_of(request), today=services.today_wib(now), region=settings_of(request).region)

    @get("/lks/{lks_id:int}", guards=[STAFF_OR_MANAGER])
    async def lks_record(self, request: Request, lks_id: FromPath[int]) -> dict:
        """An LKS's training record (staff, or the LKS's own manager)."""
        return {"items": await services.lks_attendance(actor_of(request), lks_id)}


route_handlers = [TrainingPages, TrainingAPI]
