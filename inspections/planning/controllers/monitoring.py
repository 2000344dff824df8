"""The field view of an LKS (``/lks/{id}/monitoring``, and
``/api/v1/lks/{id}/field`` for the tablet): where it is, who to reach, its
residents, documents, past visits and open findings (partners: the basic
profile only); for staff and inspectors also its risk and why, its tasks
and (staff) incidents. Inspectors and partners reach it for LKS their teams
cover or whose tasks they see; another LKS is "not found"."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from inspections.hooks import RiskContributions
from inspections.incidents.services import list_incidents
from inspections.planning import field, risk, services
from inspections.web import FIELD_OR_STAFF
from registry.access import is_staff
from sigap.tables import Role
from sigap.web import actor_of, page, utcnow
from sigap.wiring import wiring_of


class MonitoringPages(Controller):
    path = "/lks"
    include_in_schema = False
    guards = [FIELD_OR_STAFF]

    @get("/{lks_id:int}/monitoring")
    async def monitoring(self, request: Request, lks_id: FromPath[int]) -> Template:
        actor = actor_of(request)
        now = utcnow()
        profile = await field.field_profile(actor, lks_id, now=now)
        staff = is_staff(actor)
        tasks = services.with_overdue(await services.search_tasks(actor, lks_id=lks_id, limit=100), now)
        return page(
            "inspections/monitoring.html",
            lks=profile["lks"],
            profile=profile,
            assessment=None if actor.role == Role.partner else await risk.current_risk(
                lks_id, now=now, factors=RiskContributions.of(wiring_of(request))
            ),
            tasks=tasks,
            incidents=await list_incidents(actor, lks_id=lks_id) if staff else None,
            is_staff=staff,
            today=services.today_wib(now),
            high_at=risk.HIGH_AT,
            medium_at=risk.MEDIUM_AT,
        )


class FieldAPI(Controller):
    path = "/api/v1/lks"
    tags = ["lks"]
    guards = [FIELD_OR_STAFF]

    @get("/{lks_id:int}/field")
    async def field_profile(self, request: Request, lks_id: FromPath[int]) -> dict:
        """The LKS's field profile for the tablet (partners: basic only)."""
        return await field.field_profile(actor_of(request), lks_id, now=utcnow())
