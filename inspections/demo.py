"""Demo joint teams for ``make run``: one per kecamatan, with members from
Dinas Sosial, Satpol PP, the kecamatan and the kelurahan (named contacts;
the kecamatan's has a mobile number, for the WhatsApp hand-off).
Every team has a lead with an account (a team without one leaves its
visits with no one responsible): the demo inspector leads Pinang's team,
where the demo partner also sits; each other team is led by a demo
inspector account of its own (``ketua.<kode wilayah>``, a random password
that is not printed: an administrator sets one to sign in as them). Safe
to repeat."""

from __future__ import annotations

import secrets
from datetime import datetime

from inspections.teams import services
from inspections.teams.tables import Team
from registry import regions
from sigap import accounts
from sigap.audit import Actor
from sigap.settings import get_settings
from sigap.tables import Role, User

PINANG = "36.71.11"  # Kunciran Indah's kecamatan, where the demo users work


async def _lead_of(actor: Actor, district: dict, users: dict[str, int], now: datetime) -> int | None:
    """The account leading this kecamatan's team."""
    if district["code"] == PINANG:
        return users.get("inspector")
    username = f"ketua.{district['code'].replace('.', '')}"
    row = await User.select(User.id).where(User.username == username).first()
    if row is not None:
        return row["id"]
    user = await accounts.create_user(
        actor, username=username, role=Role.inspector.value, password=secrets.token_urlsafe(24), now=now,
        full_name=f"Ketua Tim Kec. {district['name']} (Demo)",
    )
    return user["id"]


async def load_inspections_demo(*, now: datetime) -> None:
    if await Team.exists():
        return
    actor = Actor(user_id=None, username="demo", role=Role.admin)
    users = {r["username"]: r["id"] for r in await User.select(User.id, User.username).where(User.username.is_in(["inspector", "partner"]))}
    for number, district in enumerate(await regions.districts(get_settings().region), start=1):
        team = await services.create_team(actor, name=f"Tim Terpadu Kecamatan {district['name']}", area_code=district["code"], now=now)
        lead = await _lead_of(actor, district, users, now)
        if lead is not None:
            await services.add_member(actor, team["id"], agency="dinsos", user_id=lead, is_lead=True, now=now)
        if district["code"] == PINANG and "partner" in users:
            await services.add_member(actor, team["id"], agency="satpol_pp", user_id=users["partner"], now=now)
        # A mobile number (fictional, 555 block), so the task page's WhatsApp hand-off shows in the demo.
        await services.add_member(
            actor, team["id"], agency="kecamatan", name=f"Kasi Kesos Kec. {district['name']} (Demo)", phone=f"0812555{number:05d}", now=now,
        )
        await services.add_member(actor, team["id"], agency="satpol_pp", name=f"Satpol PP Kec. {district['name']} (Demo)", phone="0215550000", now=now)
