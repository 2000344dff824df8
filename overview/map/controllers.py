"""The map of LKS (staff): the page at ``/map`` and its data at
``GET /api/v1/map/lks`` (GeoJSON). Both take the LKS list's filter from the
query string, so a filtered list and its map show the same LKS."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery
from litestar.response import Template

from overview.map import services
from registry import regions
from registry import services as registry_services
from registry.labels import ACCREDITATION_LABELS, KIND_LABELS, RISK_LABELS, STATUS_LABELS
from registry.services import LksFilter
from sigap.i18n import _, choices
from sigap.security import policy_with_images_from
from sigap.settings import PROJECT_ROOT
from sigap.tables import Role
from sigap.web import actor_of, page, requires, settings_of

STAFF = requires(Role.admin, Role.staff)
TABLE_ROWS = 100  # the table under the map (without JavaScript, or without the map library)
VENDOR = PROJECT_ROOT / "static" / "vendor"


def map_library_installed() -> bool:
    """Leaflet is installed from the npm registry by ``make install``
    (scripts/vendor-js.sh); without it the page shows its table."""
    return all((VENDOR / name).is_file() for name in (
        "leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet.markercluster/leaflet.markercluster.js",
    ))


def _script_config(request: Request) -> dict[str, Any]:
    settings = settings_of(request)
    return {
        "api": "/api/v1/map/lks",
        "centre": services.centre(settings.region),
        "tiles": {"url": settings.map_tiles_url, "attribution": settings.map_tiles_attribution},
        "kinds": dict(choices(KIND_LABELS)),
        "statuses": dict(choices(STATUS_LABELS)),
        "categories": dict(choices(services.CATEGORY_LABELS)),
        "texts": {
            "open_lks": _("Open the LKS record"),
            "open_report": _("Open the report of this unregistered home"),
            "loading": _("Loading the map…"),
            "shown": _("%(num)s LKS on the map."),
            "none": _("No LKS with coordinates match these filters."),
            "failed": _("The map data could not be loaded. The table below lists the LKS; reload the page to try again."),
            "map": _("Map of LKS"),
        },
    }


class MapPage(Controller):
    path = "/map"
    include_in_schema = False

    @get("/", guards=[STAFF])
    async def index(self, request: Request) -> Template:
        actor = actor_of(request)
        settings = settings_of(request)
        flt = LksFilter.from_query(dict(request.query_params))
        flt.located = None  # the map shows those with coordinates and counts the others
        result = await registry_services.list_lks(actor, flt, per_page=TABLE_ROWS)
        names = await regions.region_names(
            {r["kecamatan_code"] for r in result["items"]} | {r["kelurahan_code"] for r in result["items"]}
        )
        response = page(
            "overview/map.html",
            flt=flt,
            query=flt.as_query(),
            result=result,
            names=names,
            without_coordinates=await services.count_without_coordinates(actor, flt),
            library=map_library_installed(),
            config=_script_config(request),
            legend=[(c, _(services.CATEGORY_LABELS[c]), _(services.CATEGORY_HINTS[c])) for c in services.LEGEND],
            kinds=choices(KIND_LABELS),
            statuses=choices(STATUS_LABELS),
            accreditations=choices(ACCREDITATION_LABELS),
            risks=choices(RISK_LABELS),
            kecamatan=await regions.districts(settings.region),
            kelurahan=await regions.villages(settings.region),
        )
        # Tiles are the only images from another origin, and only here.
        response.headers["Content-Security-Policy"] = policy_with_images_from(services.tile_source(settings.map_tiles_url))
        return response


class MapAPI(Controller):
    path = "/api/v1/map"
    tags = ["map"]

    @get("/lks", guards=[STAFF], media_type="application/geo+json")
    async def lks(
        self,
        request: Request,
        q: FromQuery[str] = "",
        kecamatan: FromQuery[str] = "",
        kelurahan: FromQuery[str] = "",
        kind: FromQuery[str] = "",
        registration_status: FromQuery[str] = "",
        accreditation_status: FromQuery[str] = "",
        risk_level: FromQuery[str] = "",
        open_incident: FromQuery[str] = "",
        documents_missing: FromQuery[str] = "",
    ) -> Response[dict]:
        """LKS with coordinates matching the LKS list's filters, as a GeoJSON
        FeatureCollection. Each feature's `id` is the LKS id; its properties
        are `n` name, `k` kind, `r` registration status, `c` marker category
        (incident, registered, expired, unregistered, closed) and, for an
        unregistered home with an open report, `o` the report's id.
        `without_coordinates` counts the matching LKS the map cannot show."""
        flt = LksFilter.from_query(dict(request.query_params))
        return Response(await services.map_features(actor_of(request), flt), media_type="application/geo+json")


route_handlers = [MapPage, MapAPI]
