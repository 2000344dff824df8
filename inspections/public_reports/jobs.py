"""The public reports' share of the daily retention job (``sigap.retention``,
UU PDP): the reporter's contact is kept while it may be needed (up to a
year after the report was triaged), the per-address key only as long as
the hourly limit reads it (a day). The report itself, its text and photo
stay: they are the record of what the office was told."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from inspections.public_reports.tables import PublicReport
from sigap.db import write_transaction

CONTACT_DAYS = 365
SENDER_KEY_DAYS = 1


async def purge_contacts(now: datetime, settings: Any, storage: Any) -> dict[str, int]:
    async with write_transaction():
        contacts = await PublicReport.update({
            PublicReport.contact_name: "", PublicReport.contact_phone: "", PublicReport.contact_email: "",
        }).where(
            (PublicReport.triaged_at < now - timedelta(days=CONTACT_DAYS))
            & ((PublicReport.contact_name != "") | (PublicReport.contact_phone != "") | (PublicReport.contact_email != ""))
        ).returning(PublicReport.id)
        keys = await PublicReport.update({PublicReport.sender_key: ""}).where(
            (PublicReport.received_at < now - timedelta(days=SENDER_KEY_DAYS)) & (PublicReport.sender_key != "")
        ).returning(PublicReport.id)
    counts = {"public_report_contacts": len(contacts), "public_report_sender_keys": len(keys)}
    return {what: n for what, n in counts.items() if n}  # nothing to say on the days nothing was due
