"""The map of LKS: every LKS that matches the registry list's filter and has
coordinates, as one GeoJSON FeatureCollection with compact properties, and
how many match but have no coordinates.

Set-based: one statement writes the features (with the open reports of
unregistered homes joined in), one counts those without coordinates,
whatever the number of LKS (100,000 at the registry's scale). Only what a
marker and its popup need leaves the server: name, kind, status; never residents, contacts, risk reasons or incident details."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from registry import regions
from registry.access import is_staff
from registry.search import count_lks, filtered
from registry.services import LksFilter
from registry.sightings.tables import SightingOutcome
from registry.tables import Lks, RegistrationStatus
from sigap.audit import Actor
from sigap.db import fetch, is_sqlite
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


async def map_features(actor: Actor, f: LksFilter) -> bytes:
    """``{"type": "FeatureCollection", "features": [...], "total", "without_coordinates"}``,
    as JSON text.

    A feature: ``{"type": "Feature", "id": lks id, "geometry": Point [lon, lat],
    "properties": {"n": name, "k": kind, "r": registration status, "c": category,
    "o": id of the newest open report of an unregistered home (only then)}}``.

    The database writes the features (SQLite's JSON functions, PostgreSQL's
    json_build_object): at 100,000 LKS, building a dict per row in Python and
    encoding them took about a second of CPU per request; the database does
    it in a fraction of that, and the text is sent as it comes."""
    ensure_staff(actor)
    (features, total), without = await asyncio.gather(_features_json(replace(f, located=True)), count_lks(replace(f, located=False)))
    return b'{"type":"FeatureCollection","features":%s,"total":%d,"without_coordinates":%d}' % (
        features.encode(), total, without
    )


def _category_sql() -> str:
    """:func:`category` in SQL (over the columns of ``_points``' rows, ``t``)."""
    return (
        f"CASE WHEN t.open_incident THEN '{INCIDENT}'"
        f" WHEN t.registration_status = '{RegistrationStatus.registered.value}' THEN '{REGISTERED}'"
        f" WHEN t.registration_status = '{RegistrationStatus.expired.value}' THEN '{EXPIRED}'"
        f" WHEN t.registration_status = '{RegistrationStatus.closed.value}' THEN '{CLOSED}'"
        f" ELSE '{UNREGISTERED}' END"
    )


# The newest open report of each LKS (an unregistered home's popup links to it).
OPEN_SIGHTINGS = (
    'SELECT "lks", MAX("id") AS newest FROM "registry_sighting"'
    f" WHERE \"outcome\" = '{SightingOutcome.open.value}' GROUP BY \"lks\""
)


def _features_sql() -> tuple[str, list[str]]:
    """The statement that writes the features of the matching rows (its
    first ``{}``: the filtered select of ``_points``) as one JSON array, and
    counts them; and the values of its other ``{}``: the literal pieces of
    JSON that hold braces (a query's text cannot). Plain string
    concatenation, the same on both databases but for quoting a string and
    the aggregate: PostgreSQL's json_build_object cost more than building
    the dicts in Python. Coordinates are rounded to 5 decimals: about a
    metre (PostgreSQL's REAL column adds noise past that), and short."""
    quote = "json_quote({})" if is_sqlite() else "to_json({})::text"
    name, kind, status = (quote.format(f"t.{c}") for c in ("name", "kind", "registration_status"))
    cat = _category_sql()
    report = f"CASE WHEN s.newest IS NOT NULL AND {cat} = '{UNREGISTERED}' THEN ',\"o\":' || s.newest ELSE '' END"
    lon, lat = (f"(round(CAST(t.{c} AS DOUBLE PRECISION) * 100000) / 100000)" for c in ("longitude", "latitude"))
    piece = "CAST({} AS TEXT)"
    feature = (
        f"{piece} || t.id || {piece} || {lon} || ',' || {lat} || {piece} || {name} || ',\"k\":' || {kind}"
        f" || ',\"r\":' || {status} || ',\"c\":\"' || {cat} || '\"' || {report} || {piece}"
    )
    pieces = ['{"type":"Feature","id":', ',"geometry":{"type":"Point","coordinates":[', ']},"properties":{"n":', "}}"]
    aggregate = f"group_concat({feature}, ',')" if is_sqlite() else f"string_agg({feature}, ',' ORDER BY t.id)"
    return (
        f"SELECT '[' || COALESCE({aggregate}, '') || ']' AS features, COUNT(*) AS total FROM ({{}}) AS t"
        f" LEFT JOIN ({OPEN_SIGHTINGS}) AS s ON s.lks = t.id"
    ), pieces


async def _features_json(f: LksFilter) -> tuple[str, int]:
    """The features of the LKS matching ``f`` (a JSON array, as text) and how many."""
    sql, pieces = _features_sql()
    [row] = await fetch(sql, *pieces, _points(f).querystrings[0])  # in the order of their ``{}``
    return row["features"], row["total"]


def _points(f: LksFilter):
    return filtered(
        Lks.select(Lks.id, Lks.name, Lks.kind, Lks.latitude, Lks.longitude, Lks.registration_status, Lks.open_incident),
        f, counting=True,  # every matching row is read: let the filter's indexes serve
    ).order_by(Lks.id)


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
