"""How the audit log names public reports: by their tracking code, never
their text, place or contact."""

from __future__ import annotations

from inspections.public_reports.services import display_code
from inspections.public_reports.tables import PublicReport
from sigap.audit_view import EntityNamer
from sigap.i18n import N_


async def report_names(ids: set[str]) -> dict[str, str]:
    numbers = sorted({int(i) for i in ids if i.isdigit() and len(i) < 19})
    if not numbers:
        return {}
    rows = await PublicReport.select(PublicReport.id, PublicReport.code).where(PublicReport.id.is_in(numbers))
    return {str(r["id"]): display_code(r["code"]) for r in rows}


NAMER = EntityNamer("public_report", N_("Public report"), report_names, "/public-reports/%s")

ACTION_LABELS = {
    "public_report.create": N_("Sent a public report"),
    "public_report.view": N_("Read a public report"),
    "public_report.contact_view": N_("Read the contact of a public reporter"),
    "public_report.photo_view": N_("Viewed the photo of a public report"),
    "public_report.incident": N_("Triaged a public report into an incident"),
    "public_report.sighting": N_("Triaged a public report into an unregistered-LKS report"),
    "public_report.closed": N_("Closed a public report"),
}
