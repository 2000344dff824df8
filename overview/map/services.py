"""The map of LKS: every LKS that matches the registry list's filter and has
coordinates, as one GeoJSON FeatureCollection with compact properties, and
how many match but have no coordinates.

Set-based: one query for the points, one count, one for the open reports of
unregistered homes, whatever the number of LKS (100,000 at the registry's
scale). Only what a marker and its popup need leaves the server: name, kind,
status; never residents, contacts, risk reasons or incident details."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from piccolo.query.functions.aggregate import Max

from registry import regions
from registry.access import is_staff
from registry.search import count_lks, filtered
from registry.services import LksFilter
from registry.sightings.tables import Sighting, SightingOutcome
from registry.tables import Lks, RegistrationStatus
from sigap.audit import Actor
from sigap.errors import Forbidden
from sigap.i18n import N_, _

# A marker's category: an open incident outranks the registration status.
# Every LKS the list's filter finds is on the map (closed ones in grey).
INCIDENT, REGISTERED, EXPIRED, UNREGISTERED, CLOSED = "incident", "registered", "expired", "unregistered", "closed"
CATEGORY_LABELS = {
    INCIDENT: N_("Open incident"),
    REGISTERED: N_("Registered"),
    EXPIRED: N_("Registration expired"),
    UNREGISTERED: N_("No valid registration"),
    CLOSED: N_("Closed"),
}
CATEGORY_HINTS = {
    INCIDENT: N_("an incident is being handled"),
    REGISTERED: N_("Tanda Daftar valid"),
    EXPIRED: N_("Tanda Daftar no longer valid"),
    UNREGISTERED: N_("never registered, application in process, suspended or revoked; includes reported homes"),
    CLOSED: N_("no longer operating"),
}
LEGEND = (INCIDENT, UNREGISTERED, EXPIRED, REGISTERED, CLOSED)


def category(registration_status: str, open_incident: bool) -> str:
    if open_incident:
        return INCIDENT
    if registration_status == RegistrationStatus.registered.value:
        return REGISTERED
    if registration_status == RegistrationStatus.expired.value:
        return EXPIRED
    if registration_status == RegistrationStatus.closed.value:
        return CLOSED
    return UNREGISTERED


def ensure_staff(actor: Actor) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))


async def map_features(actor: Actor, f: LksFilter) -> dict[str, Any]:
    """``{"type": "FeatureCollection", "features": [...], "total", "without_coordinates"}``.

    A feature: ``{"type": "Feature", "id": lks id, "geometry": Point [lon, lat],
    "properties": {"n": name, "k": kind, "r": registration status, "c": category,
    "o": id of the newest open report of an unregistered home (only then)}}``."""
    ensure_staff(actor)
    rows, without, sightings = await asyncio.gather(
        _points(replace(f, located=True)), count_lks(replace(f, located=False)), _open_sightings()
    )
    features = [_feature(r, sightings) for r in rows]
    return {"type": "FeatureCollection", "features": features, "total": len(features), "without_coordinates": without}


def _feature(r: dict, sightings: dict[int, int]) -> dict[str, Any]:
    cat = category(r["registration_status"], r["open_incident"])
    props = {"n": r["name"], "k": r["kind"], "r": r["registration_status"], "c": cat}
    if cat == UNREGISTERED and r["id"] in sightings:
        props["o"] = sightings[r["id"]]
    return {
        "type": "Feature",
        "id": r["id"],
        # 5 decimals: about a metre (PostgreSQL's REAL column adds noise past that), and short.
        "geometry": {"type": "Point", "coordinates": [round(r["longitude"], 5), round(r["latitude"], 5)]},
        "properties": props,
    }


async def _points(f: LksFilter) -> list[dict]:
    query = filtered(
        Lks.select(Lks.id, Lks.name, Lks.kind, Lks.latitude, Lks.longitude, Lks.registration_status, Lks.open_incident),
        f, counting=True,  # every matching row is read: let the filter's indexes serve
    )
    return await query.order_by(Lks.id)


async def _open_sightings() -> dict[int, int]:
    """LKS id -> its newest open report of an unregistered home."""
    rows = await (
        Sighting.select(Sighting.lks, Max(Sighting.id, alias="newest"))
        .where(Sighting.outcome == SightingOutcome.open.value)
        .group_by(Sighting.lks)
    )
    return {r["lks"]: r["newest"] for r in rows}


async def count_without_coordinates(actor: Actor, f: LksFilter) -> int:
    """How many LKS match ``f`` but cannot be put on the map."""
    ensure_staff(actor)
    return await count_lks(replace(f, located=False))


def tile_source(template: str) -> str:
    """The CSP source for a tile URL template: its scheme and host, with a
    ``{s}`` subdomain as ``*`` (``https://{s}.tile.example.org/...`` ->
    ``https://*.tile.example.org``)."""
    scheme, _sep, rest = template.partition("://")
    host = rest.split("/", 1)[0]
    if "{" in host:
        labels = host.split(".")
        last_placeholder = max(i for i, label in enumerate(labels) if "{" in label)
        host = ".".join(["*", *labels[last_placeholder + 1:]])
    return f"{scheme}://{host}"


def centre(region: str) -> tuple[float, float]:
    """The middle of the office's region (Kota Tangerang without a box)."""
    box = regions.bounding_box(region)
    if box is None:
        return (-6.178, 106.630)
    return ((box.min_lat + box.max_lat) / 2, (box.min_lon + box.max_lon) / 2)
