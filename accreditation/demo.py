"""Demo accreditation: real cycles for the LKS the registry's demo picked
(17 accredited with grades A/B/C, 12 in process at different stages)."""

from __future__ import annotations

from datetime import datetime, timedelta

from accreditation.cycles.services import add_years, record_external_grade, today_wib
from accreditation.cycles.tables import Cycle
from accreditation.scoring import DEFAULT_VALIDITY_YEARS
from sigap.audit import Actor

IN_PROCESS_STAGES = ("preparing", "self_assessment", "submitted", "assessor_visit")
DEMO_DAYS_LEFT = (25, 80, 160)


async def load_accreditation_demo(*, now: datetime, context: dict) -> None:
    picked = context.get("accreditation_demo")
    if not picked or await Cycle.exists().where(Cycle.source == "demo"):
        return
    system = Actor.system("demo")
    today = today_wib(now)
    for n, lks_id in enumerate(picked["accredited"]):
        grade = "ABC"[n % 3]
        years = DEFAULT_VALIDITY_YEARS[grade]
        # Three grades run out within six months (the board and the alerts
        # show them); the others later, each within its grade's validity.
        days_left = DEMO_DAYS_LEFT[n] if n < len(DEMO_DAYS_LEFT) else 200 + 45 * n
        until = min(today + timedelta(days=days_left), add_years(today, years) - timedelta(days=30))
        await record_external_grade(lks_id, grade, "accredited", until, system, now, "demo")
    for n, lks_id in enumerate(picked["in_process"]):
        await record_external_grade(lks_id, None, IN_PROCESS_STAGES[n % len(IN_PROCESS_STAGES)], None, system, now, "demo")
