"""What happened in one calendar month (WIB), counted with set-based queries
(one COUNT or one GROUP BY each, whatever the number of LKS): registrations
issued and expired, visits done and overdue, findings and incidents opened and
closed, accreditation progress. Counts only: no name, description or resident
ever leaves here.

A month under way is counted up to now. Each figure is counted from the
record of the event, so a month's figures do not change when the things they
count change later:

- registrations issued: approvals of an application (new or renewal) in the
  month (``registry_status_change``, action ``approve``); expired: the
  expiry job moving a registration to expired in the month;
- visits done: tasks completed in the month; overdue: tasks still to do at
  the end of the month (or now, for the month under way) past their due day
  (hour, for urgent ones), as ``inspections.planning.services.is_overdue``
  says, cancelled ones left out;
- findings and incidents: recorded or closed in the month;
- accreditation: cycles opened, recommended to BALKS (stage ``submitted``),
  graded (stage ``accredited``, per grade), not accredited, expired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from piccolo.query.functions.aggregate import Count

from accreditation.cycles.tables import Stage, StageChange
from inspections.findings.tables import Finding
from inspections.incidents.tables import Incident
from inspections.planning.services import ACTIVE_STATUSES
from inspections.planning.tables import Task, TaskStatus
from registry.tables import ApplicationKind, StatusChange
from sigap.i18n import WIB

# The sections and figures, in the order the report shows them.
PERIOD_FIGURES: dict[str, tuple[str, ...]] = {
    "registrations": ("issued", "issued_new", "issued_renewal", "expired"),
    "visits": ("done", "overdue"),
    "findings": ("opened", "closed"),
    "incidents": ("opened", "closed"),
    "accreditation": ("started", "recommended", "graded", "graded_a", "graded_b", "graded_c", "not_accredited", "expired"),
}


@dataclass(frozen=True)
class Month:
    """A calendar month in WIB and its bounds as UTC instants."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM``; ValueError otherwise."""
        text = str(text or "").strip()
        if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
            raise ValueError(text)
        year, month = int(text[:4]), int(text[5:])
        if not (2000 <= year <= 2999 and 1 <= month <= 12):
            raise ValueError(text)
        return cls(year, month)

    @classmethod
    def of(cls, now: datetime) -> Month:
        local = now.astimezone(WIB)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=WIB).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        return self.next().start


@dataclass(frozen=True)
class Window:
    """From the month's start to its end, or to ``now`` while it is under way."""

    start: datetime
    end: datetime


def _in(column, window: Window):
    return (column >= window.start) & (column < window.end)


async def _count(table, where) -> int:
    return await table.count().where(where)


async def registrations(window: Window) -> dict[str, int]:
    in_month = _in(StatusChange.at, window)
    issued = await StatusChange.select(StatusChange.application.kind.as_alias("kind"), Count()).where(
        in_month & (StatusChange.action == "approve")
    ).group_by(StatusChange.application.kind)
    by_kind = {row["kind"]: row["count"] for row in issued}
    return {
        "issued": sum(by_kind.values()),
        "issued_new": sum(n for kind, n in by_kind.items() if kind != ApplicationKind.renewal.value),
        "issued_renewal": by_kind.get(ApplicationKind.renewal.value, 0),
        "expired": await _count(StatusChange, in_month & (StatusChange.action == "expire")),
    }


async def visits(window: Window) -> dict[str, int]:
    done = await _count(Task, (Task.status == TaskStatus.done.value) & _in(Task.done_at, window))
    as_of = window.end
    # To do at ``as_of``: still open now, or done only afterwards.
    to_do = Task.status.is_in(list(ACTIVE_STATUSES)) | ((Task.status == TaskStatus.done.value) & (Task.done_at >= as_of))
    past_due = (Task.due_at.is_not_null() & (Task.due_at < as_of)) | (
        Task.due_at.is_null() & (Task.due_on < as_of.astimezone(WIB).date())
    )
    overdue = await _count(Task, to_do & past_due & (Task.created_at < as_of))
    return {"done": done, "overdue": overdue}


async def findings(window: Window) -> dict[str, int]:
    return {
        "opened": await _count(Finding, _in(Finding.created_at, window)),
        "closed": await _count(Finding, _in(Finding.closed_at, window)),
    }


async def incidents(window: Window) -> dict[str, int]:
    return {
        "opened": await _count(Incident, _in(Incident.recorded_at, window)),
        "closed": await _count(Incident, _in(Incident.closed_at, window)),
    }


async def accreditation(window: Window) -> dict[str, int]:
    rows = await StageChange.select(
        StageChange.to_stage, StageChange.from_stage, StageChange.cycle.grade.as_alias("grade"), Count()
    ).where(_in(StageChange.at, window)).group_by(StageChange.to_stage, StageChange.from_stage, StageChange.cycle.grade)

    def total(match) -> int:
        return sum(r["count"] for r in rows if match(r))

    graded = Stage.accredited.value
    return {
        "started": total(lambda r: r["from_stage"] == ""),
        "recommended": total(lambda r: r["to_stage"] == Stage.submitted.value),
        "graded": total(lambda r: r["to_stage"] == graded),
        "graded_a": total(lambda r: r["to_stage"] == graded and r["grade"] == "A"),
        "graded_b": total(lambda r: r["to_stage"] == graded and r["grade"] == "B"),
        "graded_c": total(lambda r: r["to_stage"] == graded and r["grade"] == "C"),
        "not_accredited": total(lambda r: r["to_stage"] == Stage.not_accredited.value),
        "expired": total(lambda r: r["to_stage"] == Stage.expired.value),
    }


async def period_counts(month: Month, *, now: datetime) -> dict[str, dict[str, int]]:
    """Every period figure of ``month``; overdue visits as of the month's
    end, or ``now`` while the month is under way."""
    window = Window(month.start, min(now, month.end))
    return {
        "registrations": await registrations(window),
        "visits": await visits(window),
        "findings": await findings(window),
        "incidents": await incidents(window),
        "accreditation": await accreditation(window),
    }


def last_month(now: datetime) -> Month:
    """The month before the one ``now`` is in (WIB)."""
    return Month.of(now).previous()
