"""Demo joint teams for ``make run``: one per kecamatan, with members from
Dinas Sosial, Satpol PP, the kecamatan and the kelurahan (named contacts),
and the demo inspector and partner in Pinang's team. Safe to repeat."""

from __future__ import annotations

from datetime import datetime

from inspections.teams import services
from inspections.teams.tables import Team
from registry import regions
from sigap.audit import Actor
from sigap.settings import get_settings
from sigap.tables import Role, User


async def load_inspections_demo(*, now: datetime) -> None:
    if await Team.exists():
        return
    actor = Actor(user_id=None, username="demo", role=Role.admin)
    users = {r["username"]: r["id"] for r in await User.select(User.id, User.username).where(User.username.is_in(["inspector", "partner"]))}
    for district in await regions.districts(get_settings().region):
        team = await services.create_team(actor, name=f"Tim Terpadu Kecamatan {district['name']}", area_code=district["code"], now=now)
        if district["code"] == "36.71.11" and users:
            if "inspector" in users:
                await services.add_member(actor, team["id"], agency="dinsos", user_id=users["inspector"], is_lead=True, now=now)
            if "partner" in users:
                await services.add_member(actor, team["id"], agency="satpol_pp", user_id=users["partner"], now=now)
        await services.add_member(actor, team["id"], agency="kecamatan", name=f"Kasi Kesos Kec. {district['name']} (Demo)", now=now)
        await services.add_member(actor, team["id"], agency="satpol_pp", name=f"Satpol PP Kec. {district['name']} (Demo)", phone="0215550000", now=now)
