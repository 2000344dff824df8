"""The ``monthly-report`` job: on the 1st of the month (01:30 WIB, and at
start-up to catch up a missed run) it builds last month's report unless a
month-end one is kept, then e-mails it to the subscribers.

Idempotent: the report is one row per month (insert-or-ignore, see
``services.build``); each subscriber's message has the unique key
``monthly:{YYYY-MM}:{user}`` in the e-mail outbox, so a run twice, late or
in two processes at once queues and sends it once. The message carries a
link to the report (behind sign-in), not the file: the documents stay where
access is checked and logged, and the outbox keeps only text. It names
counts only, never an LKS, a child or an incident."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inspections.alerts.jobs import OUTBOX
from overview.monthly import document, services
from overview.monthly.figures import Month, last_month
from sigap.audit import Actor
from sigap.i18n import _, use_locale
from sigap.settings import Settings, get_settings
from sigap.storage import make_storage

log = logging.getLogger("sigap.jobs")
MAIL_KIND = "monthly_report"  # the outbox's ``kind`` (at most 16 characters)


@dataclass
class MonthlyResult:
    month: str = ""
    built: bool = False
    queued: int = 0
    sent: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (f"report {self.month} {'built' if self.built else 'kept'}, {self.queued} e-mails queued, "
                f"{self.sent} sent, {self.failed} failed")


def mail_key(month: Month | str, user_id: int) -> str:
    return f"monthly:{month}:{user_id}"


def render_mail(figures: dict, *, base_url: str) -> tuple[str, str]:
    """Subject and plain-text body in the current language: a few headline
    counts and the links to the files."""
    month = str(figures["month"])
    title = document.month_title(month)
    period = figures["period"]
    lines = [
        _("The monthly report of %(month)s is ready.", month=title),
        "",
        _("Tanda Daftar issued: %(num)s; registrations expired: %(expired)s",
          num=period["registrations"]["issued"], expired=period["registrations"]["expired"]),
        _("Visits done: %(num)s; overdue at the end of the month: %(overdue)s",
          num=period["visits"]["done"], overdue=period["visits"]["overdue"]),
        _("Findings recorded: %(num)s; closed: %(closed)s", num=period["findings"]["opened"], closed=period["findings"]["closed"]),
        _("Incidents recorded: %(num)s; closed: %(closed)s", num=period["incidents"]["opened"], closed=period["incidents"]["closed"]),
        "",
        _("PDF: %(url)s", url=f"{base_url}/reports/monthly/{month}/pdf"),
        _("XLSX: %(url)s", url=f"{base_url}/reports/monthly/{month}/xlsx"),
        "",
        "-- ",
        _("You receive this e-mail because you subscribed to the monthly report in SIGAP. "
          "Unsubscribe on the page %(url)s.", url=f"{base_url}/reports/monthly"),
    ]
    return _("SIGAP: monthly report %(month)s", month=title), "\n".join(lines) + "\n"


async def queue_mails(month: Month, figures: dict, *, now: datetime, base_url: str) -> int:
    """One message per subscriber of ``month`` not yet queued; returns how many were queued now."""
    subscribers = await services.subscribers_for(month)
    done = await OUTBOX.queued_keys([mail_key(month, s["user_id"]) for s in subscribers])
    queued = 0
    for sub in subscribers:
        key = mail_key(month, sub["user_id"])
        if key in done:
            continue
        with use_locale(sub["locale"] or "id"):
            subject, body = render_mail(figures, base_url=base_url)
        queued += await OUTBOX.enqueue(user_id=sub["user_id"], kind=MAIL_KIND, key=key, subject=subject, body=body, now=now)
    return queued


async def monthly_report(*, now: datetime, settings: Settings | None = None, storage: Any = None,
                         snapshot: services.SnapshotFn = services.default_snapshot) -> MonthlyResult:
    settings = settings or get_settings()
    own_storage = storage is None
    storage = storage or make_storage(settings.storage_url, settings.s3_endpoint_url)
    month = last_month(now)
    result = MonthlyResult(month=str(month))
    try:
        _row, result.built = await services.build(Actor.system("scheduler"), month, now=now, storage=storage,
                                                  region=settings.region, snapshot=snapshot, replace=False)
    finally:
        if own_storage:
            storage.close()
    report = await services.kept_figures(month)
    result.queued = await queue_mails(month, report, now=now, base_url=settings.base_url)
    result.sent, result.failed = await OUTBOX.send_pending(now=now, settings=settings)
    return result
