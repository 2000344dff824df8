"""The region codes of the office's area, for the forms' kecamatan and
kelurahan pickers."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromQuery

from registry import regions
from registry.controllers.guards import STAFF_OR_MANAGER
from sigap.web import settings_of


class RegionsAPI(Controller):
    path = "/api/v1/regions"
    tags = ["regions"]

    @get("/", guards=[STAFF_OR_MANAGER])
    async def list_regions(self, request: Request, parent: FromQuery[str] = "") -> dict:
        """Kecamatan of the office's region, or the kelurahan of `parent`."""
        region = settings_of(request).region
        rows = await (regions.villages(region, parent) if parent else regions.districts(region))
        return {"items": rows}
