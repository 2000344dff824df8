"""The monitoring page of an LKS (``/lks/{id}/monitoring``): its risk and
why, its tasks, open findings and (for staff) incidents. Inspectors and
partners reach it for LKS their teams cover or whose tasks they see."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from inspections.incidents.services import list_incidents
from inspections.planning import risk, services
from inspections.web import FIELD_OR_STAFF
from registry import regions
from registry.access import is_staff
from sigap.web import actor_of, page, utcnow


class MonitoringPages(Controller):
    path = "/lks"
    include_in_schema = False
    guards = [FIELD_OR_STAFF]

    @get("/{lks_id:int}/monitoring")
    async def monitoring(self, request: Request, lks_id: FromPath[int]) -> Template:
        actor = actor_of(request)
        now = utcnow()
        lks = await services.monitoring_lks(actor, lks_id)
        staff = is_staff(actor)
        places = await regions.region_names({lks["kelurahan_code"], lks["kecamatan_code"]})
        tasks = services.with_overdue(await services.search_tasks(actor, lks_id=lks_id, limit=100), now)
        return page(
            "inspections/monitoring.html",
            lks=lks,
            places=places,
            assessment=await risk.current_risk(lks_id, now=now),
            tasks=tasks,
            findings=await services.findings_of(lks_id),
            incidents=await list_incidents(actor, lks_id=lks_id) if staff else None,
            is_staff=staff,
            today=services.today_wib(now),
            high_at=risk.HIGH_AT,
            medium_at=risk.MEDIUM_AT,
        )
