"""Improvement plan pages (``/accreditation/improvement``: the LKS manager's
phone page with an answer form on each action; staff's list with filters,
a new action, and an action's accept / reopen page) and the JSON API
(``/api/v1/accreditation/improvement``). Pages and API call the same
services."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from accreditation.improvement import services
from accreditation.improvement.tables import ActionStatus
from accreditation.web import MANAGER, STAFF, STAFF_OR_MANAGER, date_field, failed, form_page, int_field
from registry import regions
from registry import services as registry_services
from registry.access import get_lks, is_staff
from sigap.bodies import Id, Int32
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import N_, _, choices
from sigap.web import actor_of, settings_of, utcnow

REGION_CODE = re.compile(r"^\d{2}(\.\d{2}){0,2}$")
BASE = "/accreditation/improvement"
STATUS_FILTERS = {
    "not_done": N_("Not done"),
    ActionStatus.open.value: N_("Open: waiting for the LKS"),
    ActionStatus.answered.value: N_("Answered: waiting for Dinas Sosial"),
    ActionStatus.reopened.value: N_("Reopened: waiting for the LKS"),
    ActionStatus.done.value: N_("Done"),
    "all": N_("All"),
}


def parse_filter(params: dict[str, str]) -> services.ActionFilter:
    status = params.get("status", "not_done")
    kecamatan = params.get("kecamatan", "")
    source = params.get("source", "")
    return services.ActionFilter(
        lks_id=int_field(params.get("lks_id")),
        status="" if status == "all" or status not in STATUS_FILTERS else status,
        overdue=params.get("overdue") == "1",
        kecamatan=kecamatan if REGION_CODE.match(kecamatan) else "",
        source=source if source in services.ACTION_SOURCE_LABELS else "",
    )


def _answer_data(form: Any) -> services.Answer:
    file = form.get("file")
    evidence = services.Evidence(filename=file.filename, fileobj=file.file) if isinstance(file, UploadFile) and file.filename else None
    return services.Answer(text=str(form.get("text") or ""), client_id=str(form.get("client_id") or ""),
                           document_id=int_field(form.get("document_id")), evidence=evidence)


async def _answer(request: Request, action_id: int, form: Any) -> tuple[dict, bool]:
    return await services.answer(actor_of(request), action_id, _answer_data(form), now=utcnow(),
                                 storage=request.app.state.storage, max_bytes=settings_of(request).max_upload_bytes)


async def _create(request: Request, form: dict[str, Any]) -> dict:
    errors: dict[str, str] = {}
    due = date_field(form.get("due_on"), "due_on", errors)
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    lks_id = form.get("lks_id")
    return await services.create_action(actor_of(request), lks_id=lks_id if isinstance(lks_id, int) else int_field(lks_id),
                                        title=str(form.get("title") or ""), due_on=due, now=utcnow())


# --- pages ---------------------------------------------------------------------------------


async def _list_page(request: Request, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    now = utcnow()
    if not is_staff(actor):
        rows = await services.search_actions(actor, services.ActionFilter(), now=now)
        rows.sort(key=lambda r: (r["status"] == ActionStatus.done.value, r["status"] == ActionStatus.answered.value))
        return form_page(f"{BASE[1:]}/mine.html", status_code=status_code, actions=rows, today=services.today_wib(now),
                         documents=await services.evidence_choices(actor), new_client_id=lambda: uuid.uuid4().hex, **context)
    flt = parse_filter(dict(request.query_params))
    rows = await services.search_actions(actor, flt, now=now)
    return form_page(
        f"{BASE[1:]}/list.html", status_code=status_code, actions=rows, flt=flt,
        places=await regions.region_names({r["kecamatan_code"] for r in rows}),
        status=request.query_params.get("status", "not_done"), status_choices=choices(STATUS_FILTERS),
        source_choices=choices(services.ACTION_SOURCE_LABELS),
        kecamatan_choices=await regions.districts(settings_of(request).region), **context,
    )


async def _new_page(request: Request, lks_id: int | None, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    lks = await get_lks(actor, lks_id) if lks_id is not None else None
    q = (request.query_params.get("q") or "").strip()[:200]
    found = None
    if lks is None and q:
        found = (await registry_services.list_lks(actor, registry_services.LksFilter(q=q), per_page=25))["items"]
    return form_page(f"{BASE[1:]}/new.html", status_code=status_code, lks=lks, q=q, found=found,
                     today=services.today_wib(utcnow()), **context)


async def _detail_page(request: Request, action_id: int, status_code: int = 200, **context: Any) -> Template:
    action = await services.action_detail(actor_of(request), action_id, now=utcnow())
    return form_page(f"{BASE[1:]}/detail.html", status_code=status_code, action=action, **context)


class ImprovementPages(Controller):
    path = BASE
    include_in_schema = False

    @get("/", guards=[STAFF_OR_MANAGER])
    async def index(self, request: Request) -> Template:
        return await _list_page(request, answered=int_field(request.query_params.get("answered")),
                                created=int_field(request.query_params.get("created")))

    @get("/new", guards=[STAFF])
    async def new(self, request: Request) -> Template:
        return await _new_page(request, int_field(request.query_params.get("lks_id")))

    @post("/", guards=[STAFF])
    async def create(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            action = await _create(request, dict(data))
        except NotFound:
            raise
        except DomainError as exc:
            return await _new_page(request, int_field(data.get("lks_id")), **failed(exc, dict(data)))
        return Redirect(f"{BASE}?lks_id={action['lks']}&status=all&created={action['id']}", status_code=303)

    @get("/{action_id:int}", guards=[STAFF_OR_MANAGER])
    async def detail(self, request: Request, action_id: FromPath[int]) -> Template | Redirect:
        if not is_staff(actor_of(request)):  # the manager answers on their plan page
            await services.action_detail(actor_of(request), action_id, now=utcnow())
            return Redirect(f"{BASE}#action-{action_id}", status_code=303)
        return await _detail_page(request, action_id, done=request.query_params.get("done", ""))

    @post("/{action_id:int}/answers", guards=[MANAGER])
    async def answer(self, request: Request, action_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            await _answer(request, action_id, form)
        except NotFound:
            raise
        except DomainError as exc:
            typed = {"text": str(form.get("text") or ""), "document_id": str(form.get("document_id") or "")}
            return await _list_page(request, **failed(exc, typed, failed_action=action_id))
        return Redirect(f"{BASE}?answered={action_id}#action-{action_id}", status_code=303)

    @post("/{action_id:int}/decision", guards=[STAFF])
    async def decide(self, request: Request, action_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        decision = data.get("decision", "")
        try:
            after = await services.decide(actor_of(request), action_id, decision=decision, comment=data.get("comment", ""),
                                          version=int_field(data.get("version")), now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            return await _detail_page(request, action_id, **failed(exc, dict(data), decision=decision))
        return Redirect(f"{BASE}/{action_id}?done={after['status']}", status_code=303)


# --- JSON API -----------------------------------------------------------------------------


@dataclass
class NewAction:
    lks_id: Id
    title: str
    due_on: date


@dataclass
class Decision:
    decision: str  # accept | reopen
    version: Int32
    comment: str = ""


@dataclass
class AnswerForm:
    text: str = ""
    client_id: str = ""
    document_id: str = ""
    file: UploadFile | None = None


class ImprovementAPI(Controller):
    path = "/api/v1/accreditation/improvement"
    tags = ["accreditation"]
    guards = [STAFF_OR_MANAGER]

    @get("/actions")
    async def list_actions(self, request: Request) -> dict:
        """Staff: every plan; a manager: their LKS's. Query: `lks_id`,
        `status` (open, answered, reopened, done, not_done, all; default
        not_done), `overdue=1`, `kecamatan`, `source`."""
        actor = actor_of(request)
        flt = parse_filter(dict(request.query_params)) if is_staff(actor) else services.ActionFilter(
            status=parse_filter(dict(request.query_params)).status)
        return {"items": await services.search_actions(actor, flt, now=utcnow())}

    @get("/actions/{action_id:int}")
    async def get_action(self, request: Request, action_id: FromPath[int]) -> dict:
        return await services.action_detail(actor_of(request), action_id, now=utcnow())

    @post("/actions", guards=[STAFF], status_code=HTTP_201_CREATED)
    async def create_action(self, request: Request, data: JSONBody[NewAction]) -> dict:
        """Add an action to an LKS's plan (staff)."""
        return await _create(request, {"lks_id": data.lks_id, "title": data.title, "due_on": data.due_on})

    @post("/actions/{action_id:int}/answers", guards=[MANAGER], status_code=HTTP_201_CREATED)
    async def answer(self, request: Request, action_id: FromPath[int], data: MultipartBody[AnswerForm]) -> Response[dict]:
        """Multipart: `text`, `client_id` (a retry is stored once: 200), and as
        evidence either `document_id` (a document of the LKS) or `file`."""
        form = {"text": data.text, "client_id": data.client_id, "document_id": data.document_id, "file": data.file}
        row, created = await _answer(request, action_id, form)
        return Response(row, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @post("/actions/{action_id:int}/decision", guards=[STAFF], status_code=HTTP_200_OK)
    async def decide(self, request: Request, action_id: FromPath[int], data: JSONBody[Decision]) -> dict:
        """`{"decision": "accept" | "reopen", "comment", "version"}` (staff; reopening needs a comment)."""
        return await services.decide(actor_of(request), action_id, decision=data.decision, comment=data.comment,
                                     version=data.version, now=utcnow())


route_handlers = [ImprovementPages, ImprovementAPI]
