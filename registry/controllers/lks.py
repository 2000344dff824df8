"""The LKS record and its registration workflow: the list (staff), the
record page (documents, history, the panels other domains add), the form to
register and edit, workflow actions and the printable Tanda Daftar; and the
same as JSON under ``/api/v1/lks``. Pages and API call the same services."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import (
    FromPath,
    FromQuery,
    JSONBody,
    QueryParameter,
    URLEncodedBody,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import Meta, Struct, defstruct

from registry import documents, guide, regions, services, workflow
from registry.access import is_staff
from registry.certificate import certificate_pdf
from registry.controllers.guards import STAFF, STAFF_OR_MANAGER
from registry.hooks import (
    FIELD_VERIFICATION_STARTED,
    LKS_DETAIL_PANELS,
    REGISTRATION_APPROVAL_CHECKS,
)
from registry.labels import (
    ACCREDITATION_LABELS,
    KIND_LABELS,
    RISK_LABELS,
    STATUS_LABELS,
)
from registry.services import LksFilter
from sigap.bodies import UNSET, Int32, UnsetType, one_of, sent
from sigap.errors import DomainError, NotFound
from sigap.i18n import WIB, choices
from sigap.openapi import download
from sigap.tables import Role
from sigap.web import actor_of, content_disposition, page, settings_of, utcnow
from sigap.wiring import wiring_of


def _int_param(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


async def _filter_choices(region: str) -> dict[str, Any]:
    """The choices of the list's filter form (registry/_filter_fields.html)."""
    return {
        "kinds": choices(KIND_LABELS),
        "statuses": choices(STATUS_LABELS),
        "accreditations": choices(ACCREDITATION_LABELS),
        "risks": choices(RISK_LABELS),
        "kecamatan": await regions.districts(region),
        "kelurahan": await regions.villages(region),
    }


async def _choices(region: str) -> dict[str, Any]:
    return {
        **await _filter_choices(region),
        "services": choices(services.SERVICES),
        "resident_keys": services.RESIDENT_KEYS,
        "doc_types": choices(documents.DOCUMENT_TYPES),
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


def _row_to_form(lks: dict) -> dict[str, Any]:
    form = {k: lks.get(k) for k in services.EDITABLE_FIELDS - {"residents"}}
    for key in services.RESIDENT_KEYS:
        form[f"residents_{key}"] = (lks.get("residents") or {}).get(key, 0)
    form["version"] = lks["version"]
    return form


async def _form_dict(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {}
    for key in form.keys():
        values = form.getall(key)
        out[key] = values if key == "services" else values[-1]
    return out


async def _form_page(request: Request, lks: dict | None, form: dict[str, Any], status_code: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    context.setdefault("message", None)
    return page(
        "registry/form.html", status_code=status_code, lks=lks, form=form, warnings=[],
        **await _choices(settings_of(request).region), **context,
    )


def _reviewed(value: str | None) -> tuple[int, int] | None:
    """``?reviewed=<verified>-<rejected>`` after a review pass."""
    verified, _sep, rejected = (value or "").partition("-")
    if verified.isdigit() and rejected.isdigit() and len(value or "") < 12:
        return int(verified), int(rejected)
    return None


async def detail_page(request: Request, lks_id: int, status_code: int = 200, **context: Any) -> Template:
    """The record page of an LKS; ``context`` adds a message or errors."""
    actor = actor_of(request)
    lks = await services.read_lks(actor, lks_id)
    today = utcnow().astimezone(WIB).date()
    application = await workflow.open_application(lks_id)
    names = await regions.region_names({lks["kecamatan_code"], lks["kelurahan_code"]})
    docs = await documents.list_documents(actor, lks_id, include_superseded=True)
    checklist = await documents.checklist(lks, today=today, documents=docs)
    steps = await guide.registration_guide(
        lks, application, checklist, today=today, approval_checks=wiring_of(request).hook(REGISTRATION_APPROVAL_CHECKS)
    )
    context.setdefault("message", None)
    context.setdefault("upload_message", None)
    context.setdefault("errors", {})
    context.setdefault("done", guide.done_message(request.query_params.get("done")))
    context.setdefault("reviewed", _reviewed(request.query_params.get("reviewed")))
    for key in ("review_message", "review_form", "upload_type"):
        context.setdefault(key, None)
    settings = settings_of(request)
    return page(
        "registry/detail.html",
        status_code=status_code,
        lks=lks,
        names=names,
        application=application,
        guide=steps,
        actions=guide.offered(workflow.available_actions(actor, lks, application, today), steps),
        checklist=checklist,
        docs=docs,
        history=await workflow.history(actor, lks_id),
        today=today,
        can_edit_all=is_staff(actor),
        max_upload_mb=settings.max_upload_mb,
        max_upload_bytes=settings.max_upload_bytes,
        panels=[p for p in [await provider(actor, lks) for provider in wiring_of(request).hook(LKS_DETAIL_PANELS)] if p],
        doc_types=choices(documents.DOCUMENT_TYPES),  # the upload form's types (no other choice list shows here)
        verified_types=documents.verified_replaceable(docs),
        **context,
    )


class LksPages(Controller):
    path = "/lks"
    include_in_schema = False

    @get("/", guards=[STAFF_OR_MANAGER])
    async def index(self, request: Request) -> Template | Redirect:
        actor = actor_of(request)
        if actor.role == Role.manager:
            return Redirect(f"/lks/{actor.lks_id}", status_code=303)
        params = dict(request.query_params)
        flt = LksFilter.from_query(params)
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
            **await _filter_choices(settings_of(request).region),
        )

    @get("/new", guards=[STAFF])
    async def new(self, request: Request) -> Template:
        return await _form_page(request, None, {"kind": "lksa", "legal_entity": True})

    @post("/", guards=[STAFF])
    async def create(self, request: Request) -> Template | Redirect:
        form = await _form_dict(request)
        try:
            row, warnings = await services.create_lks(actor_of(request), _form_to_data(form), now=utcnow())
        except DomainError as exc:
            return await _form_page(request, None, form, exc.status_code, errors=exc.fields, message=exc.message)
        suffix = "?created=1" + ("&warn=residents" if warnings else "")
        return Redirect(f"/lks/{row['id']}{suffix}", status_code=303)

    @get("/{lks_id:int}", guards=[STAFF_OR_MANAGER])
    async def detail(self, request: Request, lks_id: FromPath[int]) -> Template:
        return await detail_page(request, lks_id)

    @get("/{lks_id:int}/edit", guards=[STAFF_OR_MANAGER])
    async def edit(self, request: Request, lks_id: FromPath[int]) -> Template:
        lks = await services.read_lks(actor_of(request), lks_id)
        return await _form_page(request, lks, _row_to_form(lks))

    @post("/{lks_id:int}/edit", guards=[STAFF_OR_MANAGER])
    async def update(self, request: Request, lks_id: FromPath[int]) -> Template | Redirect:
        actor = actor_of(request)
        lks = await services.read_lks(actor, lks_id)
        form = await _form_dict(request)
        data = services.changeable(actor, _form_to_data(form))
        try:
            version = int(form.get("version", ""))
        except ValueError:
            version = -1
        try:
            _row, warnings = await services.update_lks(actor, lks_id, data, version=version, now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            return await _form_page(
                request, lks, {**_row_to_form(lks), **form}, exc.status_code, errors=exc.fields, message=exc.message
            )
        return Redirect(f"/lks/{lks_id}?saved=1" + ("&warn=residents" if warnings else ""), status_code=303)

    @post("/{lks_id:int}/workflow", guards=[STAFF_OR_MANAGER])
    async def workflow_action(self, request: Request, lks_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        if data.get("action") == "approve" and data.get("confirmed") != "1":
            confirmation = await _approve_confirmation(request, lks_id)
            if confirmation is not None:
                return confirmation
        try:
            await _transition(request, lks_id, data.get("action", ""), data.get("reason", ""))
        except NotFound:
            raise
        except DomainError as exc:
            return await detail_page(request, lks_id, status_code=exc.status_code, message=exc.message, errors=exc.fields)
        return Redirect(f"/lks/{lks_id}?done={data.get('action', '')}", status_code=303)

    @get("/{lks_id:int}/certificate.pdf", guards=[STAFF_OR_MANAGER], include_in_schema=True, tags=["downloads"],
         operation_class=download("The Tanda Daftar LKS (registration certificate) as a PDF.", "application/pdf"))
    async def certificate(self, request: Request, lks_id: FromPath[int]) -> Response[bytes]:
        lks = await services.read_lks(actor_of(request), lks_id)
        pdf = await certificate_pdf(lks, settings_of(request).region)
        filename = f"tanda-daftar-lks-{lks_id}.pdf"
        return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": content_disposition(filename, inline=True)})


async def _approve_confirmation(request: Request, lks_id: int) -> Template | None:
    """What approving will issue (the number it will get, the validity), to
    confirm before the Tanda Daftar exists; None when approving is not
    possible now (the workflow then says why)."""
    actor = actor_of(request)
    lks = await services.read_lks(actor, lks_id)
    now = utcnow()
    today = now.astimezone(WIB).date()
    application = await workflow.open_application(lks_id)
    if "approve" not in {a.name for a in workflow.available_actions(actor, lks, application, today)}:
        return None
    if await workflow.approval_problems(lks, application, wiring_of(request).hook(REGISTRATION_APPROVAL_CHECKS)):
        return None
    names = await regions.region_names({lks["kecamatan_code"], lks["kelurahan_code"]})
    return page(
        "registry/approve.html", lks=lks, names=names,
        number=await workflow.next_certificate_number(now), issued_on=today,
        valid_until=workflow.add_years(today, settings_of(request).registration_validity_years),
    )


# --- JSON API ------------------------------------------------------------------


async def _transition(request: Request, lks_id: int, action: str, reason: str) -> dict:
    """A workflow action with the checks and reactions other domains add."""
    wiring = wiring_of(request)
    return await workflow.transition(
        actor_of(request), lks_id, action, reason=reason, now=utcnow(),
        approval_checks=wiring.hook(REGISTRATION_APPROVAL_CHECKS),
        verification_started=wiring.hook(FIELD_VERIFICATION_STARTED),
    )


class TransitionBody(Struct, kw_only=True):
    action: Annotated[str, one_of(workflow.ACTIONS)]
    reason: str = ""


# The JSON types of an LKS record; registry.services.check_fields decides the rest.
Headcount = Annotated[int, Meta(ge=0, le=services.MAX_COUNT)]
Residents = defstruct(
    "Residents", [(key, Headcount | UnsetType, UNSET) for key in services.RESIDENT_KEYS], kw_only=True
)  # residents by sex (m, f) and age band; an absent band is 0
Kind = Annotated[str, one_of(KIND_LABELS)]
ServiceCode = Annotated[str, one_of(services.SERVICES)]


class _LksFields(Struct, kw_only=True):
    name: str | None | UnsetType = UNSET
    kind: Kind | None | UnsetType = UNSET
    legal_entity: bool | None | UnsetType = UNSET
    yayasan_name: str | None | UnsetType = UNSET
    akta_number: str | None | UnsetType = UNSET
    akta_date: date | None | UnsetType = UNSET
    sk_kemenkumham_number: str | None | UnsetType = UNSET
    npwp: str | None | UnsetType = UNSET
    address: str | None | UnsetType = UNSET
    rt: str | None | UnsetType = UNSET
    rw: str | None | UnsetType = UNSET
    kelurahan_code: str | None | UnsetType = UNSET
    latitude: float | None | UnsetType = UNSET
    longitude: float | None | UnsetType = UNSET
    phone: str | None | UnsetType = UNSET
    email: str | None | UnsetType = UNSET
    head_name: str | None | UnsetType = UNSET
    capacity: Headcount | None | UnsetType = UNSET
    residents: Residents | None | UnsetType = UNSET  # type: ignore[valid-type]
    staff_caregivers: Headcount | None | UnsetType = UNSET
    staff_social_workers: Headcount | None | UnsetType = UNSET
    staff_other: Headcount | None | UnsetType = UNSET
    services: list[ServiceCode] | None | UnsetType = UNSET


class LksPatchBody(_LksFields, kw_only=True, forbid_unknown_fields=True):
    """Only the fields sent change; ``null`` empties a field."""

    version: Int32


class LksBody(_LksFields, kw_only=True):
    """A new LKS: name, kind and kelurahan are required (and the foundation
    for a legal entity)."""

    name: str
    kind: Kind
    kelurahan_code: str


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
        flt = LksFilter.from_query(dict(request.query_params))
        return await services.list_lks(actor_of(request), flt, sort=sort, page=page, per_page=per_page)

    @post("/", guards=[STAFF], status_code=HTTP_201_CREATED)
    async def create_lks(self, request: Request, data: JSONBody[LksBody]) -> dict:
        row, warnings = await services.create_lks(actor_of(request), sent(data), now=utcnow())
        return {**services.public_lks(row), "warnings": warnings}

    @get("/{lks_id:int}", guards=[STAFF_OR_MANAGER])
    async def get_lks(self, request: Request, lks_id: FromPath[int]) -> dict:
        actor = actor_of(request)
        return services.public_lks(await services.read_lks(actor, lks_id), actor)

    @patch("/{lks_id:int}", guards=[STAFF_OR_MANAGER])
    async def patch_lks(self, request: Request, lks_id: FromPath[int], data: JSONBody[LksPatchBody]) -> dict:
        """Change fields; `version` is required and a stale one gets 409."""
        fields = sent(data)
        version = fields.pop("version")
        actor = actor_of(request)
        row, warnings = await services.update_lks(actor, lks_id, fields, version=version, now=utcnow())
        return {**services.public_lks(row, actor), "warnings": warnings}

    @post("/{lks_id:int}/transitions", guards=[STAFF_OR_MANAGER], status_code=HTTP_200_OK)
    async def transition(self, request: Request, lks_id: FromPath[int], data: JSONBody[TransitionBody]) -> dict:
        return services.public_lks(await _transition(request, lks_id, data.action, data.reason), actor_of(request))
