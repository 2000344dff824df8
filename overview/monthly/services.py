"""The monthly report's rules: build a month's report (figures, PDF, XLSX,
stored through the documents storage), keep one per month, list them, open
their files, and the staff's e-mail subscription.

One report per month, whatever runs at once: the files go under fresh keys
first, then the row is inserted with ON CONFLICT DO NOTHING (a new month) or
replaced with a compare-and-set on ``version`` (building again); the loser of
a race deletes its own files and returns the winner's row. Building again
replaces the report (``version`` + 1, the old files deleted once the new row
is in): the list shows one report per month, the audit log keeps who built
each version and when."""

from __future__ import annotations

import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import anyio.to_thread

from overview.monthly import document
from overview.monthly.figures import Month, period_counts
from overview.monthly.tables import MonthlyReport, MonthlySubscription
from registry.access import is_staff
from registry.documents import StorageUnavailable
from registry.regions import region_names
from sigap import audit
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.errors import Forbidden, NotFound, ValidationError
from sigap.i18n import _, use_locale
from sigap.storage import ObjectNotFound, StorageError
from sigap.tables import User

SnapshotFn = Callable[[datetime], Awaitable[dict]]
KINDS = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
LIST_COLUMNS = (
    MonthlyReport.id, MonthlyReport.month, MonthlyReport.version, MonthlyReport.final, MonthlyReport.pdf_size,
    MonthlyReport.xlsx_size, MonthlyReport.built_at, MonthlyReport.built_by_name,
    MonthlyReport.built_by.full_name.as_alias("built_by_full_name"),
)


def _staff(actor: Actor) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can see the monthly reports."))


def parse_month(text: str, *, now: datetime) -> Month:
    """A month a report can be built for: written YYYY-MM, not in the future."""
    try:
        month = Month.parse(text)
    except ValueError:
        raise ValidationError(_("Choose a month (YYYY-MM)."), fields={"month": _("Choose a month (YYYY-MM).")}) from None
    if month.start > now:
        message = _("This month has not started yet: choose the current month or an earlier one.")
        raise ValidationError(message, fields={"month": message})
    return month


async def default_snapshot(now: datetime) -> dict:
    """The dashboard's live figures (``overview.dashboard``)."""
    from overview.dashboard.services import snapshot

    return await snapshot(now)


# --- reading -------------------------------------------------------------------------------------------


async def list_reports(actor: Actor) -> list[dict]:
    """Every kept report, newest month first (without the figures)."""
    _staff(actor)
    return await MonthlyReport.select(*LIST_COLUMNS).order_by(MonthlyReport.month, ascending=False)


async def get_report(actor: Actor, month: str) -> dict:
    _staff(actor)
    try:
        key = str(Month.parse(month))
    except ValueError:
        raise NotFound(_("There is no report for this month.")) from None
    row = await MonthlyReport.select().where(MonthlyReport.month == key).first().output(load_json=True)
    if row is None:
        raise NotFound(_("There is no report for this month."))
    return row


async def kept_figures(month: Month) -> dict:
    """The figures of the kept report of ``month`` (for the job's e-mail)."""
    row = await MonthlyReport.select(MonthlyReport.figures).where(MonthlyReport.month == str(month)).first().output(load_json=True)
    if row is None:
        raise NotFound(_("There is no report for this month."))
    return row["figures"]


async def open_file(actor: Actor, month: str, kind: str, *, storage: Any) -> tuple[dict, Any, str]:
    """The stored PDF or XLSX of a month: (row, reader, file name)."""
    if kind not in KINDS:
        raise NotFound(_("There is no report for this month."))
    row = await get_report(actor, month)
    try:
        reader = await storage.open(row[f"{kind}_key"])
    except ObjectNotFound as exc:
        raise NotFound(_("The file of this report is missing from storage: make the report again.")) from exc
    except StorageError as exc:
        raise StorageUnavailable(_("Document storage is unavailable right now. Please try again later.")) from exc
    return row, reader, f"laporan-bulanan-{row['month']}.{kind}"


# --- building ------------------------------------------------------------------------------------------


async def compute(month: Month, *, now: datetime, snapshot: SnapshotFn, kept: dict | None = None) -> dict:
    """The figures of ``month`` (JSON-safe): the month's period counts and
    the dashboard's snapshot. The snapshot is taken now, except that a
    month-end snapshot already kept (``kept``: the figures of a final report)
    is kept: building a past month again cannot give it later figures."""
    if kept and kept.get("final"):
        taken, at, places = kept["snapshot"], kept["snapshot_at"], kept.get("by_kecamatan", [])
    else:
        raw = await snapshot(now)
        taken, at, places = document.pick(raw), now.isoformat(), document.pick_kecamatan(raw)
    return {
        "month": str(month),
        "month_end": month.end.isoformat(),
        "built_at": now.isoformat(),
        "final": now >= month.end,
        "snapshot": taken,
        "snapshot_at": at,
        "by_kecamatan": places,
        "period": await period_counts(month, now=now),
    }


async def _previous_figures(month: Month) -> dict | None:
    row = await MonthlyReport.select(MonthlyReport.figures).where(
        MonthlyReport.month == str(month.previous())).first().output(load_json=True)
    return row["figures"] if row else None


async def _store(storage: Any, month: Month, files: dict[str, bytes]) -> dict[str, str]:
    token = uuid.uuid4().hex[:12]
    keys = {}
    for kind, content in files.items():
        key = f"overview/monthly/{month}/{token}.{kind}"
        await storage.put(key, io.BytesIO(content))
        keys[kind] = key
    return keys


async def _delete(storage: Any, keys) -> None:
    for key in keys:
        await storage.delete(key)


async def build(
    actor: Actor, month: Month, *, now: datetime, storage: Any, region: str, snapshot: SnapshotFn = default_snapshot,
    replace: bool = True,
) -> tuple[dict, bool]:
    """Build the report of ``month`` and keep it; (row, built). With
    ``replace`` False an existing report is left as it is (the job's way:
    one report per month however often it runs), unless it was built
    before the month ended (then the month-end one replaces it)."""
    if actor.role is not None:
        _staff(actor)
    existing = await MonthlyReport.select(
        *LIST_COLUMNS, MonthlyReport.pdf_key, MonthlyReport.xlsx_key, MonthlyReport.figures,
    ).where(MonthlyReport.month == str(month)).first().output(load_json=True)
    if existing is not None and not replace and (existing["final"] or now < month.end):
        return existing, False
    figures = await compute(month, now=now, snapshot=snapshot, kept=existing["figures"] if existing else None)
    previous = await _previous_figures(month)
    region_name = (await region_names({region})).get(region, region)
    with use_locale("id"):  # an official document: Indonesian
        pdf = await anyio.to_thread.run_sync(document.render_pdf, figures, previous, region_name)
        xlsx = await anyio.to_thread.run_sync(document.render_xlsx, figures, previous, region_name)
    try:
        keys = await _store(storage, month, {"pdf": pdf, "xlsx": xlsx})
    except StorageError as exc:
        raise StorageUnavailable(_("Document storage is unavailable right now. Please try again later.")) from exc
    values = {
        MonthlyReport.figures: figures, MonthlyReport.final: figures["final"], MonthlyReport.pdf_key: keys["pdf"],
        MonthlyReport.pdf_size: len(pdf), MonthlyReport.xlsx_key: keys["xlsx"], MonthlyReport.xlsx_size: len(xlsx),
        MonthlyReport.built_at: now, MonthlyReport.built_by: actor.user_id, MonthlyReport.built_by_name: actor.username[:200],
    }
    async with write_transaction():
        if existing is None:
            new = MonthlyReport(month=str(month), version=1, **{c._meta.name: v for c, v in values.items()})
            done = await MonthlyReport.insert(new).on_conflict(
                target=MonthlyReport.month, action="DO NOTHING").returning(MonthlyReport.id)
        else:
            done = await MonthlyReport.update({**values, MonthlyReport.version: existing["version"] + 1}).where(
                (MonthlyReport.id == existing["id"]) & (MonthlyReport.version == existing["version"])
            ).returning(MonthlyReport.id)
        if done:
            version = 1 if existing is None else existing["version"] + 1
            await audit.record(actor, "monthly_report.build", "monthly_report", done[0]["id"], now=now,
                               after={"month": str(month), "version": version, "final": figures["final"]})
    row = await MonthlyReport.select(*LIST_COLUMNS).where(MonthlyReport.month == str(month)).first()
    if not done:  # someone else built it meanwhile: theirs is kept
        await _delete(storage, keys.values())
        return row, False
    if existing is not None:
        await _delete(storage, (existing["pdf_key"], existing["xlsx_key"]))
    return row, True


# --- the e-mail subscription ---------------------------------------------------------------------------


async def is_subscribed(actor: Actor) -> bool:
    return bool(actor.user_id) and await MonthlySubscription.exists().where(MonthlySubscription.user == actor.user_id)


async def set_subscription(actor: Actor, subscribed: bool, *, now: datetime) -> bool:
    """Subscribe or unsubscribe the acting staff member; returns the new state."""
    _staff(actor)
    if subscribed:
        user = await User.select(User.email).where(User.id == actor.user_id).first()
        if user is None or not (user["email"] or "").strip():
            message = _("Your account has no e-mail address. Add one on your account page, then subscribe.")
            raise ValidationError(message, fields={"subscribed": message})
    async with write_transaction():
        if subscribed:
            changed = await MonthlySubscription.insert(MonthlySubscription(user=actor.user_id, subscribed_at=now)).on_conflict(
                target=MonthlySubscription.user, action="DO NOTHING").returning(MonthlySubscription.id)
        else:
            changed = await MonthlySubscription.delete().where(MonthlySubscription.user == actor.user_id).returning(
                MonthlySubscription.id)
        if changed:
            await audit.record(actor, "monthly_report.subscribe" if subscribed else "monthly_report.unsubscribe",
                               "user", actor.user_id, now=now)
    return subscribed


async def subscribers_for(month: Month) -> list[dict]:
    """Active staff who subscribed before ``month`` ended (a later subscriber
    starts with the next month's report), with an e-mail address."""
    return await MonthlySubscription.select(
        MonthlySubscription.user.as_alias("user_id"), MonthlySubscription.user.locale.as_alias("locale"),
    ).where(
        (MonthlySubscription.subscribed_at < month.end) & (MonthlySubscription.user.is_active == True)  # noqa: E712
        & MonthlySubscription.user.role.is_in(["admin", "staff"]) & MonthlySubscription.user.email.is_not_null()
        & (MonthlySubscription.user.email != "")
    ).order_by(MonthlySubscription.user)
