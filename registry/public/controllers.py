"""The public register (``/register``) and the certificate check
(``/verify``), as pages and as JSON under ``/api/v1/public``. No sign-in,
no session and no cookie (route option ``anonymous``), rate-limited per
address and cacheable (``registry.public.http``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from registry.labels import KIND_LABELS
from registry.public import services
from registry.public.http import RATE_LIMIT, PublicCache
from sigap.errors import ValidationError
from sigap.i18n import _, choices, normalize_locale
from sigap.web import ANONYMOUS, page, utcnow

OPT = {"public": True, ANONYMOUS: True}
MIDDLEWARE = [RATE_LIMIT, PublicCache]


def _common(request: Request) -> dict:
    lang = normalize_locale(request.query_params.get("lang")) or ""
    return {"lang": lang, "path": request.url.path, "query_without_lang": {k: v for k, v in request.query_params.items() if k != "lang"}}


class RegisterPages(Controller):
    path = "/register"
    include_in_schema = False
    opt = OPT
    middleware = MIDDLEWARE

    @get("/")
    async def register(
        self,
        request: Request,
        q: FromQuery[str] = "",
        kecamatan: FromQuery[str] = "",
        kind: FromQuery[str] = "",
        page_: Annotated[str, QueryParameter(name="page")] = "1",
    ) -> Template:
        pq = services.PublicQuery.parse(q, kecamatan, kind, page_)
        error, status_code = None, 200
        try:
            result = await services.search_register(pq, now=utcnow())
        except ValidationError as exc:
            error, status_code = exc.fields.get("q"), exc.status_code
            result = {"items": [], "total": 0, "total_capped": False, "page": 1, "pages": 1, "per_page": services.PER_PAGE}
        common = _common(request)
        extra = {"lang": common["lang"]} if common["lang"] else {}
        return page(
            "registry/public/register.html",
            status_code=status_code,
            error=error,
            pq=pq,
            result=result,
            searched=bool(pq.q or pq.kecamatan or pq.kind),
            kecamatan=await services.kecamatan_choices(),
            kinds=choices(KIND_LABELS),
            page_url=lambda number: "/register?" + urlencode({**pq.as_query(page=number), **extra}),
            **common,
        )


class VerifyPages(Controller):
    path = "/verify"
    include_in_schema = False
    opt = OPT
    middleware = MIDDLEWARE

    @get("/")
    async def form(self, request: Request, code: FromQuery[str | None] = None) -> Template | Redirect:
        common = _common(request)
        if code is None:
            return page("registry/public/verify.html", result=None, typed="", error=None, **common)
        normalized = services.normalize_code(code)
        if normalized is None:
            error = _("This is not a valid code: a code has 12 letters and digits, as printed under the QR code. Check each character and try again.")
            return page("registry/public/verify.html", status_code=422, result=None, typed=code[:40], error=error, **common)
        suffix = f"?lang={common['lang']}" if common["lang"] else ""
        return Redirect(f"/verify/{normalized}{suffix}", status_code=303)

    @get("/{token:path}")  # anything after /verify/, slashes too: a mangled scan still gets an answer
    async def check(self, request: Request, token: FromPath[str]) -> Template:
        token = token.lstrip("/")
        result = await services.verify(token, now=utcnow())
        return page("registry/public/verify.html", result=result, typed=token[:40], error=None, **_common(request))


# --- JSON --------------------------------------------------------------------


@dataclass
class PublicLks:
    """What anyone may know of an LKS. ``registration_status`` is one of
    registered, suspended, expired, revoked, in_process, closed."""

    id: int
    name: str
    kind: str
    kind_label: str
    kelurahan: str
    kecamatan: str
    kecamatan_code: str
    registration_status: str
    registration_label: str
    registered_on: date | None
    valid_until: date | None
    accreditation_status: str
    accreditation_label: str
    accreditation_grade: str | None
    accreditation_valid_until: date | None


@dataclass
class PublicLksPage:
    items: list[PublicLks]
    total: int  # at most 1,000; total_capped says there are more
    total_capped: bool
    page: int
    pages: int
    per_page: int


@dataclass
class CertificateCheck:
    """``status``: valid, expired, suspended, revoked, superseded, closed (the
    certificate is genuine: ``genuine`` true), not_genuine (no certificate has
    this code) or mistyped (it cannot be a code: wrong length, a character
    that never occurs, or the check character does not match)."""

    genuine: bool
    status: str
    code: str | None = None
    lks_name: str | None = None
    certificate_number: str | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    superseded_by_number: str | None = None
    superseded_on: date | None = None


class PublicAPI(Controller):
    path = "/api/v1/public"
    tags = ["public"]
    opt = OPT
    middleware = MIDDLEWARE

    @get("/lks")
    async def search(
        self,
        q: Annotated[str, QueryParameter(max_length=200)] = "",
        kecamatan: Annotated[str, QueryParameter(max_length=20)] = "",
        kind: Annotated[str, QueryParameter(max_length=20)] = "",
        page: Annotated[int, QueryParameter(ge=1)] = 1,
    ) -> PublicLksPage:
        """The public register: search by name (`q`), kecamatan code and kind;
        20 per page, at most 50 pages. No sign-in; rate-limited per address."""
        result = await services.search_register(services.PublicQuery.parse(q, kecamatan, kind, page), now=utcnow())
        return PublicLksPage(**{**result, "items": [PublicLks(**item) for item in result["items"]]})

    @get("/verify/{token:path}")
    async def verify(self, token: FromPath[str]) -> CertificateCheck:
        """Is the Tanda Daftar with this code (from its QR code, or typed, any
        case, dashes allowed) genuine, and is it current?"""
        return CertificateCheck(**await services.verify(token.lstrip("/"), now=utcnow()))


route_handlers = [RegisterPages, VerifyPages, PublicAPI]
