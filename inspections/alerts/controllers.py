"""Alert inbox: the page (``/alerts``) and the JSON API (``/api/v1/alerts``).
Every signed-in role may open them; what each one sees is decided by
:mod:`inspections.alerts.services` (the same service for page and API)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK

from inspections.alerts import services as alerts
from inspections.incidents.tables import Severity
from inspections.teams import whatsapp
from registry.access import FIELD_ROLES, STAFF_ROLES
from sigap.i18n import _
from sigap.tables import Role
from sigap.web import actor_of, page, requires, settings_of, utcnow

ANY_ROLE = requires(*STAFF_ROLES, *FIELD_ROLES, Role.manager)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


class AlertPages(Controller):
    path = "/alerts"
    include_in_schema = False
    guards = [ANY_ROLE]

    @get("/")
    async def inbox(self, request: Request, acked: FromQuery[str] = "") -> Template:
        show_all = _flag(request.query_params.get("all"))
        severity = request.query_params.get("severity", "")
        severity = severity if severity in Severity.__members__ else ""
        now = utcnow()
        actor = actor_of(request)
        items, open_count = await alerts.inbox_and_count(actor, include_acknowledged=show_all, now=now, severity=severity or None)
        handoffs = {}
        if actor.role in STAFF_ROLES | FIELD_ROLES:  # an LKS manager hands nothing to the joint team
            handoffs = await whatsapp.alert_handoffs(items, viewer_id=actor.user_id, base_url=settings_of(request).base_url)
        return page(
            "inspections/alerts.html",
            items=items,
            show_all=show_all,
            severity=severity,
            severity_label=alerts.severity_label(severity) if severity else "",
            open_count=open_count,
            handoffs=handoffs,
            message=_("Alert acknowledged.") if _flag(acked) else None,
        )

    @post("/{alert_id:int}/ack")
    async def acknowledge(self, request: Request, alert_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await alerts.acknowledge(actor_of(request), alert_id, now=utcnow())
        back = "/alerts?all=1&acked=1" if _flag(data.get("all")) else "/alerts?acked=1"
        return Redirect(back, status_code=303)


def _api_item(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "kind": item["kind"],
        "severity": item["severity"],
        "title": item["title"],
        "link": item["link"],
        "lks_id": item["lks_id"],
        "lks_name": item["lks_name"],
        "raised_at": item["raised_at"],
        "escalated_at": item["escalated_at"],
        "acknowledged": item["acknowledged"],
        "acknowledged_at": item["acknowledged_at"],
        "resolved": item["resolved"],
        "resolved_at": item["resolved_at"],
    }


class AlertsAPI(Controller):
    path = "/api/v1/alerts"
    tags = ["alerts"]
    guards = [ANY_ROLE]

    @get("/")
    async def list_alerts(
        self, request: Request, include_acknowledged: FromQuery[bool] = False, include_resolved: FromQuery[bool] = False
    ) -> dict:
        """The caller's alerts: unacknowledged first, then by severity and age.
        Titles are in the caller's language."""
        items = await alerts.inbox(
            actor_of(request), include_acknowledged=include_acknowledged, include_resolved=include_resolved, now=utcnow()
        )
        return {"items": [_api_item(i) for i in items]}

    @post("/{alert_id:int}/ack", status_code=HTTP_200_OK)
    async def acknowledge(self, request: Request, alert_id: FromPath[int]) -> dict:
        """Acknowledge an alert for the caller (idempotent)."""
        return await alerts.acknowledge(actor_of(request), alert_id, now=utcnow())


route_handlers = [AlertPages, AlertsAPI]
