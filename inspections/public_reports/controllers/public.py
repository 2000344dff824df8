"""``/lapor``: the public report form, its confirmation and the status page,
and the same under ``/api/v1/public/reports``. No sign-in, no session, no
cookie (route option ``anonymous``), rate-limited per address like the
public register; never cached (the form carries a fresh signed token, the
status changes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from inspections.public_reports import services
from registry import regions
from registry.public import services as register
from registry.public.http import RATE_LIMIT
from sigap.bodies import Id
from sigap.errors import DomainError, NotFound
from sigap.i18n import _, normalize_locale
from sigap.web import ANONYMOUS, client_address, page, settings_of, utcnow

OPT = {"public": True, ANONYMOUS: True}
NO_STORE = {"Cache-Control": "no-store"}
FIELDS = ("lks_id", "place_name", "place_address", "kelurahan_code", "what", "contact_name", "contact_phone",
          "contact_email", "form_token", services.HONEYPOT)


def _common(request: Request) -> dict:
    lang = normalize_locale(request.query_params.get("lang")) or ""
    return {"lang": lang, "path": request.url.path,
            "query_without_lang": {k: v for k, v in request.query_params.items() if k != "lang"},
            "suffix": f"?lang={lang}" if lang else ""}


async def _kelurahan_choices(region: str) -> list[tuple[str, str]]:
    villages = await regions.villages(region)
    districts = await regions.region_names({v["parent_code"] for v in villages})
    return [(v["code"], f"{v['name']} ({districts.get(v['parent_code'], '')})") for v in villages]


async def _form_page(request: Request, form: dict[str, str], status_code: int = 200, **context: Any) -> Template:
    settings = settings_of(request)
    q = str(request.query_params.get("q") or "")[:100].strip()
    found = None
    if q:
        pq = register.PublicQuery.parse(q, "", "", "1")
        try:
            found = (await register.search_register(pq, now=utcnow()))["items"][:10]
        except DomainError:
            found = []
    picked = None
    if form.get("lks_id", "").isdigit() and len(form["lks_id"]) < 10:
        picked = await services.picked_lks(int(form["lks_id"]))
    context.setdefault("errors", {})
    context.setdefault("message", None)
    response = page(
        "inspections/public_reports/form.html", status_code=status_code, form=form, q=q, found=found, picked=picked,
        kelurahan=await _kelurahan_choices(settings.region), max_photo_mb=settings.max_photo_mb,
        min_fill_s=services.MIN_FILL_SECONDS, **context, **_common(request),
    )
    response.headers.update(NO_STORE)
    return response


def _photo(upload: Any) -> services.Photo | None:
    if isinstance(upload, UploadFile) and upload.filename:
        return services.Photo(filename=upload.filename, fileobj=upload.file)
    return None


async def _submit(request: Request, data: dict[str, Any], upload: Any) -> tuple[dict, bool]:
    settings = settings_of(request)
    return await services.submit(
        data, now=utcnow(), address=client_address(request), secret=settings.secret_key,
        storage=request.app.state.storage, max_photo_bytes=settings.max_photo_mb * 1024 * 1024, photo=_photo(upload),
    )


class ReportPages(Controller):
    path = "/lapor"
    include_in_schema = False
    opt = OPT
    middleware = [RATE_LIMIT]

    @get("/")
    async def form(self, request: Request, lks: FromQuery[str] = "") -> Template:
        settings = settings_of(request)
        form = {"form_token": services.form_token(settings.secret_key, now=utcnow()), "lks_id": lks[:10]}
        return await _form_page(request, form)

    @post("/")
    async def send(self, request: Request) -> Template | Redirect:
        raw = await request.form()
        form = {k: str(raw.get(k) or "") for k in FIELDS}
        try:
            row, _created = await _submit(request, form, raw.get("photo"))
        except DomainError as exc:
            if isinstance(exc, services.Refused) and exc.renew:
                form["form_token"] = services.form_token(settings_of(request).secret_key, now=utcnow())
            response = await _form_page(request, form, exc.status_code, errors=exc.fields, message=exc.message,
                                        photo_dropped=bool(getattr(raw.get("photo"), "filename", "")))
            if exc.status_code == 429:
                response.headers["Retry-After"] = str(getattr(exc, "retry_after_s", 60))
            return response
        lang = normalize_locale(request.query_params.get("lang"))
        return Redirect(f"/lapor/{row['code']}?sent=1" + (f"&lang={lang}" if lang else ""), status_code=303)

    @get("/cek")
    async def find(self, request: Request, code: FromQuery[str] = "") -> Template | Redirect:
        normalized = services.normalize_code(code)
        common = _common(request)
        if normalized is None:
            response = page("inspections/public_reports/status.html", status_code=422 if code else 200, result=None,
                            typed=code[:40], error=_("A tracking code has 10 letters and digits, as shown when the report was sent. Check each character and try again.") if code else None,
                            sent=False, **common)
            response.headers.update(NO_STORE)
            return response
        return Redirect(f"/lapor/{normalized}{common['suffix']}", status_code=303)

    @get("/{code:str}")
    async def status(self, request: Request, code: FromPath[str]) -> Template:
        common = _common(request)
        try:
            result = await services.public_status(code)
        except NotFound as exc:
            response = page("inspections/public_reports/status.html", status_code=404, result=None, typed=code[:40],
                            error=exc.message, sent=False, **common)
        else:
            response = page("inspections/public_reports/status.html", result=result, typed="",
                            code_display=services.display_code(result["code"]), error=None,
                            sent=bool(request.query_params.get("sent")), **common)
        response.headers.update(NO_STORE)
        return response


# --- JSON ---------------------------------------------------------------------------


@dataclass
class ReportBody:
    """A report. ``form_token`` comes from ``GET /api/v1/public/reports/form``
    and must be at least a few seconds old; ``website`` must stay empty.
    Either ``lks_id`` (from ``GET /api/v1/public/lks``) or ``place_name``
    and ``place_address`` (and, if known, ``kelurahan_code``)."""

    what: str
    form_token: str
    lks_id: Id | None = None
    place_name: str = ""
    place_address: str = ""
    kelurahan_code: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    website: str = ""


@dataclass
class FormToken:
    form_token: str
    min_seconds: int


@dataclass
class ReportCode:
    code: str


@dataclass
class ReportStatus:
    """``status``: received, handling (being handled) or closed."""

    code: str
    status: str
    received_on: date | None
    handled_on: date | None
    closed_on: date | None


class PublicReportsAPI(Controller):
    path = "/api/v1/public/reports"
    tags = ["public"]
    opt = OPT
    middleware = [RATE_LIMIT]

    @get("/form")
    async def token(self, request: Request) -> Response[FormToken]:
        """A form token for one report: send the report with it no sooner
        than ``min_seconds`` later and within a day."""
        token = services.form_token(settings_of(request).secret_key, now=utcnow())
        return Response(FormToken(form_token=token, min_seconds=services.MIN_FILL_SECONDS), headers=NO_STORE)

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, request: Request, data: JSONBody[ReportBody]) -> Response[ReportCode]:
        """Send a report; answers the tracking code. The same form token
        twice gives the same code (200)."""
        values = {k: ("" if v is None else str(v)) for k, v in data.__dict__.items()}
        row, created = await _submit(request, values, None)
        return Response(ReportCode(code=row["code"]), status_code=201 if created else 200, headers=NO_STORE)

    @get("/{code:str}")
    async def status(self, code: FromPath[str]) -> Response[ReportStatus]:
        """The status of a report (received, handling, closed) and its dates: nothing else."""
        return Response(ReportStatus(**await services.public_status(code)), headers=NO_STORE)


route_handlers = [ReportPages, PublicReportsAPI]
