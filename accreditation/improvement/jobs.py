"""What the improvement plans contribute to joint monitoring's alerts job
(``inspections.hooks.ALERT_SOURCES``): an action still waiting for the LKS
after its due date is an alert, once per action and due date (a new due
date is a new alert; answering it resolves it, reopening brings it back)."""

from __future__ import annotations

from datetime import date

from accreditation.improvement.services import OVERDUE_HIGH_AFTER_DAYS, WAITING_FOR_LKS
from accreditation.improvement.tables import ImprovementAction

ALERT_KIND = "improvement_overdue"


async def overdue_alerts(today: date) -> list[dict]:
    """Every overdue action as a wanted alert (one query)."""
    rows = await ImprovementAction.select(
        ImprovementAction.id, ImprovementAction.lks, ImprovementAction.title, ImprovementAction.due_on
    ).where(
        ImprovementAction.status.is_in(list(WAITING_FOR_LKS))
        & (ImprovementAction.due_on < today)
        & (ImprovementAction.lks.registration_status != "closed")
    )
    out = []
    for r in rows:
        late = (today - r["due_on"]).days
        out.append({
            "kind": ALERT_KIND,
            "severity": "high" if late > OVERDUE_HIGH_AFTER_DAYS else "medium",
            "unique_key": f"{ALERT_KIND}:{r['id']}:{r['due_on'].isoformat()}",
            "lks": r["lks"],
            "link": f"/accreditation/improvement/{r['id']}",
            "params": {"date": r["due_on"].isoformat(), "title": r["title"][:120]},
        })
    return out
