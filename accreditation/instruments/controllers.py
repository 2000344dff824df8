"""The administrator's accreditation settings (grade thresholds, validity
years; a new version of the instrument) and the instrument in the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from accreditation.instruments import services
from accreditation.scoring import GRADES, indicators_of
from accreditation.web import ADMIN, SIGNED_IN, failed, form_page, int_field
from sigap.errors import DomainError
from sigap.i18n import get_locale
from sigap.web import actor_of, utcnow


async def _page(request: Request, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    current = await services.current_instrument()
    context.setdefault("definition_text", services.editable_text(current))
    return form_page("accreditation/settings.html", status_code=status_code, grading=await services.grading(),
                     versions=await services.list_versions(actor), current=current, grades=GRADES,
                     done=request.query_params.get("done", ""), **context)


class SettingsPages(Controller):
    path = "/admin/accreditation"
    include_in_schema = False
    guards = [ADMIN]

    @get("/")
    async def settings(self, request: Request) -> Template:
        return await _page(request)

    @post("/grading")
    async def grading(self, request: Request) -> Template | Redirect:
        form = dict((await request.form()).items())
        try:
            await services.save_grading(actor_of(request), form, version=int_field(form.get("version")) or 0, now=utcnow())
        except DomainError as exc:
            return await _page(request, **failed(exc, form, failed_form="grading"))
        return Redirect("/admin/accreditation?done=grading", status_code=303)

    @post("/instrument")
    async def instrument(self, request: Request) -> Template | Redirect:
        form = await request.form()
        text = str(form.get("definition") or "")
        try:
            await services.save_new_version(actor_of(request), text, now=utcnow())
        except DomainError as exc:
            return await _page(request, definition_text=text, **failed(exc, {}, failed_form="instrument"))
        return Redirect("/admin/accreditation?done=instrument", status_code=303)


@dataclass
class InstrumentBody:
    definition: str  # the instrument as JSON text: title, scale, aspects


def api_instrument(row: dict) -> dict:
    locale = get_locale()
    d = row["definition"]
    return {
        "id": row["id"], "code": row["code"], "version": row["version"], "title": services.text_in(row["title"], locale),
        "scale": {"min": d["scale"]["min"], "max": d["scale"]["max"]},
        "aspects": [{"code": a["code"], "weight": a["weight"], "title": services.text_in(a["title"], locale)} for a in d["aspects"]],
        "indicators": [{"code": i["code"], "aspect": i["aspect"], "weight": i["weight"], "text": services.text_in(i["text"], locale)}
                       for i in indicators_of(d)],
    }


class InstrumentAPI(Controller):
    path = "/api/v1/accreditation/instrument"
    tags = ["accreditation"]

    @get("/", guards=[SIGNED_IN])
    async def current(self) -> dict:
        """The current instrument version."""
        return api_instrument(await services.current_instrument())

    @post("/", guards=[ADMIN], status_code=HTTP_201_CREATED)
    async def new_version(self, request: Request, data: JSONBody[InstrumentBody]) -> dict:
        """Save a new version (administrators); assessments keep theirs."""
        return api_instrument(await services.save_new_version(actor_of(request), data.definition, now=utcnow()))


route_handlers = [SettingsPages, InstrumentAPI]
