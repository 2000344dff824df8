"""An LKS's accreditation record (``/accreditation/lks/{id}``: staff act,
the LKS's manager reads) and its JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from accreditation.assessments import services as assessments
from accreditation.cycles import services
from accreditation.web import (
    STAFF,
    STAFF_OR_MANAGER,
    date_field,
    failed,
    form_page,
    int_field,
)
from registry.access import is_staff
from sigap.bodies import Int32
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import _
from sigap.web import actor_of, settings_of, utcnow


async def _page(request: Request, lks_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    record = await services.record_page(actor, lks_id)
    assessment = await assessments.for_lks(actor, lks_id)
    return form_page("accreditation/record.html", status_code=status_code, assessment=assessment,
                     staff=is_staff(actor), done=request.query_params.get("done", ""), **record, **context)


def _decision(form: Any) -> tuple[services.Decision, int]:
    errors: dict[str, str] = {}
    outcome = str(form.get("outcome") or "")
    if outcome not in ("accredited", "not_accredited"):
        errors["outcome"] = _("Choose the BALKS decision.")
    decided = date_field(form.get("decision_date"), "decision_date", errors)
    until = date_field(form.get("valid_until"), "valid_until", errors)
    version = int_field(form.get("version"))
    if version is None:
        errors["version"] = _("Required.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    grade = str(form.get("grade") or "") or None
    return services.Decision(outcome == "accredited", grade, decided, until, str(form.get("note") or "")), version


class RecordPages(Controller):
    path = "/accreditation/lks"
    include_in_schema = False

    @get("/{lks_id:int}", guards=[STAFF_OR_MANAGER])
    async def record(self, request: Request, lks_id: FromPath[int]) -> Template:
        return await _page(request, lks_id)

    @post("/{lks_id:int}/cycles", guards=[STAFF])
    async def open_cycle(self, request: Request, lks_id: FromPath[int]) -> Template | Redirect:
        try:
            await services.open_cycle(actor_of(request), lks_id, now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            return await _page(request, lks_id, **failed(exc, {}))
        return Redirect(f"/accreditation/lks/{lks_id}?done=opened", status_code=303)

    @post("/{lks_id:int}/stage", guards=[STAFF])
    async def stage(self, request: Request, lks_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            cycle_id = int_field(form.get("cycle_id"))
            latest = await services.latest_cycle(lks_id)
            if cycle_id is None or latest is None or latest["id"] != cycle_id:
                raise ValidationError(_("This cycle is no longer the latest: reload the page."))
            await services.move_stage(actor_of(request), cycle_id, str(form.get("stage") or ""), now=utcnow(),
                                      note=str(form.get("note") or ""))
        except NotFound:
            raise
        except DomainError as exc:
            return await _page(request, lks_id, **failed(exc, dict(form)))
        return Redirect(f"/accreditation/lks/{lks_id}?done=stage", status_code=303)

    @post("/{lks_id:int}/decision", guards=[STAFF])
    async def decision(self, request: Request, lks_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        actor = actor_of(request)
        typed = {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            latest = await services.latest_cycle(lks_id)
            if latest is None:
                raise NotFound(_("Accreditation cycle not found."))
            decision, version = _decision(form)
            after = await services.record_decision(actor, latest["id"], decision, version=version, now=utcnow())
            file = form.get("certificate")
            if isinstance(file, UploadFile) and file.filename and after["stage"] == "accredited":
                await services.attach_certificate(actor, latest["id"], filename=file.filename, fileobj=file.file, now=utcnow(),
                                                  storage=request.app.state.storage,
                                                  max_bytes=settings_of(request).max_upload_bytes)
        except NotFound:
            raise
        except DomainError as exc:
            return await _page(request, lks_id, **failed(exc, typed, failed_form="decision"))
        return Redirect(f"/accreditation/lks/{lks_id}?done=decision", status_code=303)


# --- JSON API ------------------------------------------------------------------------


@dataclass
class StageBody:
    stage: str
    note: str = ""


@dataclass
class DecisionBody:
    outcome: str  # accredited / not_accredited
    decision_date: date
    version: Int32
    grade: str | None = None
    valid_until: date | None = None
    note: str = ""


def _api_cycle(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()
            if k not in ("latest_key",)}


class CyclesAPI(Controller):
    path = "/api/v1/accreditation"
    tags = ["accreditation"]

    @get("/lks/{lks_id:int}", guards=[STAFF_OR_MANAGER])
    async def record(self, request: Request, lks_id: FromPath[int]) -> dict:
        """The LKS's cycles, newest first, each with its stage changes."""
        rows = await services.history(actor_of(request), lks_id)
        return {"items": [{**_api_cycle(r), "changes": [_api_cycle(c) for c in r["changes"]]} for r in rows]}

    @post("/lks/{lks_id:int}/cycles", guards=[STAFF], status_code=HTTP_201_CREATED)
    async def open_cycle(self, request: Request, lks_id: FromPath[int]) -> dict:
        """Open a new cycle (preparing); refused while one is in progress."""
        return _api_cycle(await services.open_cycle(actor_of(request), lks_id, now=utcnow()))

    @post("/cycles/{cycle_id:int}/stage", guards=[STAFF], status_code=HTTP_200_OK)
    async def stage(self, request: Request, cycle_id: FromPath[int], data: JSONBody[StageBody]) -> dict:
        return _api_cycle(await services.move_stage(actor_of(request), cycle_id, data.stage, now=utcnow(), note=data.note))

    @post("/cycles/{cycle_id:int}/decision", guards=[STAFF], status_code=HTTP_200_OK)
    async def decision(self, request: Request, cycle_id: FromPath[int], data: JSONBody[DecisionBody]) -> dict:
        """BALKS's decision: `outcome` accredited (with `grade`; `valid_until`
        defaults to the grade's years) or not_accredited."""
        if data.outcome not in ("accredited", "not_accredited"):
            raise ValidationError(_("Choose the BALKS decision."), fields={"outcome": _("Choose the BALKS decision.")})
        decision = services.Decision(data.outcome == "accredited", data.grade, data.decision_date, data.valid_until, data.note)
        return _api_cycle(await services.record_decision(actor_of(request), cycle_id, decision, version=data.version, now=utcnow()))


route_handlers = [RecordPages, CyclesAPI]
