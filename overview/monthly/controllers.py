"""The monthly reports page (``/reports/monthly``: staff and admins): the kept
reports with their downloads, "Buat sekarang" (build a month's report now)
and the e-mail subscription; and the JSON API (``/api/v1/reports/monthly``).
Pages and API call the same services."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Redirect, Stream, Template
from litestar.status_codes import HTTP_201_CREATED

from overview.monthly import services
from overview.monthly.document import month_title
from overview.monthly.figures import Month
from registry.access import STAFF_ROLES
from sigap.errors import DomainError
from sigap.storage import iter_reader
from sigap.web import actor_of, content_disposition, page, requires, settings_of, utcnow

BASE = "/reports/monthly"
STAFF = requires(*STAFF_ROLES)
MONTHS_OFFERED = 13  # the month under way and the twelve before it


def _month_choices(now) -> list[tuple[str, str]]:
    month, out = Month.of(now), []
    for _i in range(MONTHS_OFFERED):
        out.append((str(month), month_title(str(month))))
        month = month.previous()
    return out


async def _index(request: Request, status_code: int = 200, **context: Any) -> Template:
    actor, now = actor_of(request), utcnow()
    reports = await services.list_reports(actor)
    choices = _month_choices(now)
    context.setdefault("errors", {})
    context.setdefault("message", None)
    context.setdefault("form", {"month": str(Month.of(now).previous())})
    return page("overview/monthly/index.html", status_code=status_code, reports=reports, month_choices=choices,
                subscribed=await services.is_subscribed(actor), built=request.query_params.get("built", "")[:7],
                changed=request.query_params.get("subscription", "")[:3], **context)


class MonthlyReportPages(Controller):
    path = BASE
    include_in_schema = False
    guards = [STAFF]

    @get("/")
    async def index(self, request: Request) -> Template:
        return await _index(request)

    @post("/")
    async def build(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        now = utcnow()
        settings = settings_of(request)
        try:
            month = services.parse_month(str(data.get("month") or ""), now=now)
            row, _built = await services.build(actor_of(request), month, now=now, storage=request.app.state.storage,
                                               region=settings.region)
        except DomainError as exc:
            return await _index(request, status_code=exc.status_code, message=exc.message, errors=exc.fields, form=dict(data))
        return Redirect(f"{BASE}?built={row['month']}", status_code=303)

    @post("/subscription")
    async def subscription(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
        try:
            state = await services.set_subscription(actor_of(request), data.get("subscribed") == "1", now=utcnow())
        except DomainError as exc:
            return await _index(request, status_code=exc.status_code, subscription_message=exc.message, errors=exc.fields)
        return Redirect(f"{BASE}?subscription={'on' if state else 'off'}#subscription", status_code=303)

    @get("/{month:str}/{kind:str}")
    async def download(self, request: Request, month: FromPath[str], kind: FromPath[str]) -> Stream:
        row, reader, filename = await services.open_file(actor_of(request), month, kind, storage=request.app.state.storage)
        return Stream(iter_reader(reader), media_type=services.KINDS[kind], headers={
            "Content-Disposition": content_disposition(filename, inline=kind == "pdf"),
            "Content-Length": str(row[f"{kind}_size"]),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        })


# --- JSON API --------------------------------------------------------------------------------------------


class BuildBody(msgspec.Struct, forbid_unknown_fields=True):
    month: str  # YYYY-MM


class SubscriptionBody(msgspec.Struct, forbid_unknown_fields=True):
    subscribed: bool


def _public(row: dict) -> dict:
    return {
        "month": row["month"], "version": row["version"], "final": row["final"], "built_at": row["built_at"].isoformat(),
        "built_by": row["built_by_name"], "pdf_url": f"{BASE}/{row['month']}/pdf", "xlsx_url": f"{BASE}/{row['month']}/xlsx",
        "pdf_size": row["pdf_size"], "xlsx_size": row["xlsx_size"],
    }


class MonthlyReportAPI(Controller):
    path = "/api/v1/reports/monthly"
    tags = ["overview"]
    guards = [STAFF]

    @get("/")
    async def list_reports(self, request: Request) -> dict:
        """The kept monthly reports, newest month first, and whether the caller gets them by e-mail."""
        actor = actor_of(request)
        return {"items": [_public(r) for r in await services.list_reports(actor)],
                "subscribed": await services.is_subscribed(actor)}

    @post("/", status_code=HTTP_201_CREATED)
    async def build(self, request: Request, data: JSONBody[BuildBody]) -> dict:
        """Build the report of `month` (YYYY-MM, not in the future) now; an existing one is replaced (its `version` rises)."""
        now = utcnow()
        month = services.parse_month(data.month, now=now)
        row, _built = await services.build(actor_of(request), month, now=now, storage=request.app.state.storage,
                                           region=settings_of(request).region)
        row = await services.get_report(actor_of(request), row["month"])
        return {**_public(row), "figures": row["figures"]}

    @get("/{month:str}")
    async def report(self, request: Request, month: FromPath[str]) -> dict:
        """One month's report with its figures (counts only)."""
        row = await services.get_report(actor_of(request), month)
        return {**_public(row), "figures": row["figures"]}

    @put("/subscription")
    async def subscription(self, request: Request, data: JSONBody[SubscriptionBody]) -> dict:
        """Subscribe (`true`) or unsubscribe (`false`) the caller to the monthly e-mail (needs an e-mail address)."""
        return {"subscribed": await services.set_subscription(actor_of(request), data.subscribed, now=utcnow())}


route_handlers = [MonthlyReportPages, MonthlyReportAPI]
