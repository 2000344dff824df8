"""``GET /api/v1/dashboard``: the staff dashboard's figures as JSON (the
home page shows the same snapshot)."""

from __future__ import annotations

import re

from litestar import Controller, Request, get
from litestar.params import FromQuery

from overview.dashboard.services import snapshot
from registry.access import STAFF_ROLES
from sigap.errors import ValidationError
from sigap.i18n import _
from sigap.web import requires, utcnow

KECAMATAN = re.compile(r"\d{2}\.\d{2}\.\d{2}")


class DashboardAPI(Controller):
    path = "/api/v1/dashboard"
    tags = ["overview"]
    guards = [requires(*STAFF_ROLES)]

    @get("/")
    async def dashboard(self, request: Request, kecamatan: FromQuery[str] = "") -> dict:
        """The figures of the whole region, or of one kecamatan (its code,
        e.g. ``36.71.11``); keys as in ``overview.dashboard.services.snapshot``."""
        if kecamatan and not KECAMATAN.fullmatch(kecamatan):
            raise ValidationError(_("Please correct the marked fields."), fields={"kecamatan": _("Give a kecamatan code such as 36.71.11.")})
        return await snapshot(utcnow(), kecamatan=kecamatan or None)


route_handlers = [DashboardAPI]
