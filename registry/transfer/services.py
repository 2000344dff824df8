"""Import and export of the LKS register as a spreadsheet (CSV or XLSX).
Dinas Sosial staff only.

An import is *planned* row by row — create, update, unchanged or rejected,
with the reasons (``planning``) — by :func:`dry_run`, which changes
nothing, and applied by :func:`commit`, which plans again against the
current register and sends every valid row through
``services.create_lks`` / ``services.update_lks``: the same validation and
the same audit events as an edit in the form. Rejected rows are skipped.
The pages keep the uploaded file between the two steps
(:func:`check_upload`, :func:`commit_staged`; see ``staging``).

An export is the filtered register, streamed (:func:`export_csv`,
:func:`export_xlsx`); :func:`template_xlsx` is the empty import sheet.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import BinaryIO

import anyio
import anyio.to_thread

from registry import regions, services
from registry.access import is_staff
from registry.documents import StorageUnavailable
from registry.services import LksFilter
from registry.transfer import export, planning, reading, staging
from registry.transfer.columns import FIELD_COLUMNS
from registry.transfer.planning import CREATE, REJECTED, UPDATE, ImportReport, Planned
from registry.transfer.reading import Table
from sigap import audit
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.errors import DomainError, Forbidden, NotFound
from sigap.i18n import WIB, _
from sigap.settings import get_settings
from sigap.storage import Storage, StorageError

COMMIT_BATCH = 100  # rows per write transaction of a commit


class ImportGone(NotFound):
    """The kept file of a dry run is no longer there to commit."""


def _ensure_staff(actor: Actor) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))


# --- import ----------------------------------------------------------------------


async def _plan_file(actor: Actor, fileobj: BinaryIO, now: datetime) -> tuple[Table, list[Planned]]:
    _ensure_staff(actor)
    table = await reading.read_file(fileobj, get_settings().max_upload_bytes)
    return table, await planning.plan(table, today=now.astimezone(WIB).date())


async def dry_run(actor: Actor, fileobj: BinaryIO, *, now: datetime) -> ImportReport:
    """What an import of this file would do, row by row. Changes nothing."""
    table, planned = await _plan_file(actor, fileobj, now)
    return ImportReport(table.file_format, [p.result for p in planned], notes=planning.notes(table))


async def commit(actor: Actor, fileobj: BinaryIO, *, now: datetime) -> ImportReport:
    """Plan again against the current register and apply every valid row;
    rejected rows are skipped.

    Rows are written in batches of :data:`COMMIT_BATCH`, one transaction
    each, so a large import never holds the database's write lock for long.
    Should it stop half-way (the database went away), importing the same
    file again finishes the job: the rows already applied are "unchanged"."""
    table, planned = await _plan_file(actor, fileobj, now)
    todo = [item for item in planned if item.result.outcome in (CREATE, UPDATE)]
    for start in range(0, len(todo), COMMIT_BATCH):
        async with write_transaction():
            for item in todo[start : start + COMMIT_BATCH]:
                await _apply(actor, item, now=now)
    report = ImportReport(table.file_format, [p.result for p in planned], notes=planning.notes(table), committed=True)
    await audit.record(actor, "lks.import", "lks", "", now=now, after={"format": table.file_format, "rows": len(planned), **report.counts})
    return report


async def _apply(actor: Actor, item: Planned, *, now: datetime) -> None:
    result = item.result
    try:
        if result.outcome == CREATE:
            row, _warnings = await services.create_lks(actor, item.data, now=now)
            result.lks_id = row["id"]
        elif result.outcome == UPDATE:
            assert result.lks_id is not None and item.version is not None
            await services.update_lks(actor, result.lks_id, item.data, version=item.version, now=now)
    except DomainError as exc:
        # Someone changed the register since the plan (a stale version, a
        # kelurahan removed...): a reason on the row, not a failed import.
        result.outcome = REJECTED
        result.errors = [(FIELD_COLUMNS.get(k, k), v) for k, v in exc.fields.items()] or [("", exc.message)]


async def check_upload(actor: Actor, content: bytes, *, storage: Storage, now: datetime) -> tuple[ImportReport, str | None]:
    """The dry run of an uploaded file, and the token of the kept file when
    there is something to apply (None otherwise: nothing is kept)."""
    report = await dry_run(actor, io.BytesIO(content), now=now)
    if not report.applicable:
        return report, None
    try:
        token = await staging.stage(storage, content, now=now)
    except StorageError as exc:
        raise StorageUnavailable(_("Document storage is unavailable right now; nothing was saved. Please try again later.")) from exc
    return report, token


async def commit_staged(actor: Actor, token: str, *, storage: Storage, now: datetime) -> ImportReport:
    """Commit the file kept by :func:`check_upload`, once: a second commit
    of the same token (or a token older than a day) is :class:`ImportGone`."""
    _ensure_staff(actor)
    try:
        reader = await staging.claim(storage, token, now=now)
    except StorageError as exc:
        raise StorageUnavailable(_("Document storage is unavailable right now. Please try again later.")) from exc
    if reader is None:
        raise ImportGone(
            _("This import is no longer available: it was already applied, or it was checked more than a day ago. Upload the file again.")
        )
    try:
        report = await commit(actor, reader, now=now)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await staging.release(token)
        raise
    finally:
        await staging.close(reader)
    await staging.discard(storage, token)
    return report


# --- export ----------------------------------------------------------------------


async def _record_export(actor: Actor, file_format: str, flt: LksFilter, sort: str, now: datetime) -> None:
    await audit.record(actor, "lks.export", "lks", "", now=now, after={"format": file_format, "filter": flt.as_query(), "sort": sort})


async def export_csv(actor: Actor, flt: LksFilter, sort: str = "name", *, now: datetime) -> AsyncIterator[bytes]:
    """Every LKS matching ``flt`` as CSV (UTF-8 with BOM, comma-separated),
    an async iterator of encoded chunks read from the database in batches."""
    _ensure_staff(actor)
    names = await export.place_names(get_settings().region)
    await _record_export(actor, "csv", flt, sort, now)
    return export.csv_chunks(services.iter_lks(actor, flt, sort=sort), names)


async def export_xlsx(actor: Actor, flt: LksFilter, sort: str = "name", *, now: datetime) -> AsyncIterator[bytes]:
    """Every LKS matching ``flt`` as an XLSX workbook, written whole into a
    temporary file, then streamed."""
    _ensure_staff(actor)
    names = await export.place_names(get_settings().region)
    chunks = await export.write_xlsx(services.iter_lks(actor, flt, sort=sort), names)
    await _record_export(actor, "xlsx", flt, sort, now)
    return chunks


async def template_xlsx() -> bytes:
    """An empty import sheet with one example row, and sheets listing the
    columns, the kelurahan codes and the services."""
    places = await planning.Places.load()
    box = regions.bounding_box(get_settings().region)
    return await anyio.to_thread.run_sync(export.template_workbook, places, box)
