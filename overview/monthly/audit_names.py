"""How the audit log names the monthly report and its actions (the shell's
``ENTITY_NAMES`` and ``ACTION_LABELS`` hooks): one query for the names."""

from __future__ import annotations

from overview.monthly.document import month_title
from overview.monthly.tables import MonthlyReport
from sigap.audit_view import EntityNamer
from sigap.i18n import N_

ACTION_LABELS = {
    "monthly_report.build": N_("Made a monthly report"),
    "monthly_report.subscribe": N_("Subscribed to the monthly report"),
    "monthly_report.unsubscribe": N_("Unsubscribed from the monthly report"),
}


async def report_names(ids: set[str]) -> dict[str, str]:
    numbers = sorted({int(i) for i in ids if i.isdigit() and len(i) < 10})
    if not numbers:
        return {}
    rows = await MonthlyReport.select(MonthlyReport.id, MonthlyReport.month).where(MonthlyReport.id.is_in(numbers))
    return {str(r["id"]): month_title(r["month"]) for r in rows}


NAMER = EntityNamer("monthly_report", N_("Monthly report"), report_names)
