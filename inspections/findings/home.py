"""The findings panel on an LKS manager's home page
(``sigap.wiring.HOME_PANELS``): the findings of their own LKS still waiting
for the LKS's answer, overdue first, and those answered and waiting for
Dinas Sosial. What a manager may see is ``search_findings``'s rule (their
own LKS, without the inspection behind a finding)."""

from __future__ import annotations

from datetime import datetime

from inspections.findings.services import FindingFilter, search_findings
from inspections.findings.tables import FindingStatus
from sigap.audit import Actor
from sigap.tables import Role

SHOWN = 5


async def manager_findings(user, now: datetime) -> dict | None:
    if user is None or user.role != Role.manager or not user.lks_id:
        return None
    actor = Actor(user_id=user.id, username=user.username, role=user.role, lks_id=user.lks_id)
    rows = await search_findings(actor, FindingFilter(status="unresolved"), now=now, limit=300)
    to_answer = sorted((r for r in rows if r["status"] == FindingStatus.open.value), key=lambda r: (not r["overdue"], r["due_on"], r["id"]))
    return {
        "template": "inspections/findings/_home.html",
        "order": 30,
        "findings": to_answer[:SHOWN],
        "to_answer": len(to_answer),
        "more": max(0, len(to_answer) - SHOWN),
        "overdue": sum(1 for r in to_answer if r["overdue"]),
        "waiting": sum(1 for r in rows if r["status"] == FindingStatus.answered.value),
    }
