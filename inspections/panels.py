"""What joint monitoring adds to the LKS page of the registry."""

from __future__ import annotations

from datetime import datetime, timezone

from inspections import risk
from sigap.audit import Actor
from sigap.tables import Role


async def risk_panel(actor: Actor, lks: dict) -> dict | None:
    """The risk level and its reasons, for Dinsos staff only: the reasons
    name open incidents, which an LKS's own manager must never see."""
    if actor.role not in (Role.admin, Role.staff):
        return None
    row = await risk.assessment(lks["id"])
    if row is None and lks["registration_status"] != "closed":
        # Not assessed by the daily plan yet: compute it now (not stored).
        facts = (await risk.gather([lks["id"]], datetime.now(timezone.utc))).get(lks["id"])
        if facts is not None:
            level, score, reasons = risk.score(facts, datetime.now(timezone.utc).date())
            row = {"level": level, "score": score, "reasons": reasons}
    return {
        "template": "inspections/_risk_panel.html",
        "level": row["level"] if row else None,
        "score": row["score"] if row else 0,
        "reasons": risk.describe(row["reasons"]) if row else [],
    }
