"""Who may see which LKS: the one place both the registry's services and
the domains built on it (documents, joint monitoring, accreditation) ask."""

from __future__ import annotations

from registry.risk_cache import lks_columns
from registry.tables import Lks
from sigap.audit import Actor
from sigap.db import built_once, fetch_where
from sigap.errors import NotFound
from sigap.i18n import _
from sigap.tables import Role

STAFF_ROLES = frozenset({Role.admin, Role.staff})  # Dinas Sosial: see and change every LKS
FIELD_ROLES = frozenset({Role.inspector, Role.partner})  # joint teams: see their teams' work


def is_staff(actor: Actor) -> bool:
    return actor.role in STAFF_ROLES


def ensure_can_see(actor: Actor, lks_id: int) -> None:
    """Staff see every LKS; a manager only their own; anyone else: none.
    Another LKS is "not found" to a manager, never "forbidden"."""
    if is_staff(actor):
        return
    if actor.role == Role.manager and actor.lks_id == lks_id:
        return
    raise NotFound(_("LKS not found."))


async def get_lks(actor: Actor, lks_id: int) -> dict:
    ensure_can_see(actor, lks_id)
    # Every LKS page reads this: the statement is built once (sigap.db.built_once).
    rows = await fetch_where(built_once("registry.get_lks", lambda: Lks.select(*lks_columns())), Lks.id == lks_id)
    if not rows:
        raise NotFound(_("LKS not found."))
    return rows[0]


async def lks_exists(lks_id: int) -> bool:
    return await Lks.exists().where(Lks.id == lks_id)
