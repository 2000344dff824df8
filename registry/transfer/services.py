"""Import and export of the LKS register as a spreadsheet (CSV or XLSX).
Dinas Sosial staff only.

An import is read (``reading``: the header row found below any title rows),
its columns *mapped* to SIGAP's fields (proposed from the header words,
or the mapping staff confirmed last time for the same header:
:class:`ImportMapping`), *planned* row by row — create, update, unchanged,
skip, reject or duplicate, with the reasons (``planning``) — by
:func:`dry_run`, which changes nothing, and applied by :func:`commit`,
which plans again against the current register and sends every valid row
through ``services.create_lks`` / ``services.update_lks``: the same
validation and the same audit events as an edit in the form. The pages and
the API keep the uploaded file between the steps (:func:`stage_upload`,
:func:`confirm_mapping`, :func:`commit_staged`; see ``staging``).

An export is the filtered register, streamed (:func:`export_csv`,
:func:`export_xlsx`); :func:`template_xlsx` is the empty import sheet.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import anyio
import anyio.to_thread

from registry import accreditation_cache, regions, services
from registry.access import is_staff
from registry.documents import StorageUnavailable
from registry.services import LksFilter
from registry.tables import Lks, StatusChange
from registry.transfer import export, office, planning, reading, staging
from registry.transfer.columns import BY_HEADER, FIELD_COLUMNS
from registry.transfer.places import Places
from registry.transfer.planning import CREATE, REJECT, UPDATE, ImportReport, Planned
from registry.transfer.reading import Sheet
from registry.transfer.rows import short
from registry.transfer.tables import ImportMapping
from sigap import audit
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from sigap.i18n import WIB, _
from sigap.settings import get_settings
from sigap.storage import Storage, StorageError

COMMIT_BATCH = 100  # rows per write transaction of a commit


class ImportGone(NotFound):
    """The kept file of a dry run is no longer there to commit."""


class ImportApplied(Conflict):
    """The kept file was applied already (or is being applied right now)."""


def _ensure_staff(actor: Actor) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))


# --- mapping -------------------------------------------------------------------


@dataclass
class Proposal:
    """What the mapping page shows: the header found and a mapping for it."""

    header_row: int
    headers: list[str]
    mapping: dict[str, str]
    remembered: bool  # confirmed by staff for a file with this header before
    samples: dict[str, list[str]]  # header → the first few cells below it


async def remembered_mapping(headers: list[str]) -> dict[str, str] | None:
    row = await ImportMapping.select(ImportMapping.mapping).where(ImportMapping.signature == office.signature(headers)).first()
    if row is None:
        return None
    try:
        mapping = json.loads(row["mapping"])
    except ValueError:
        return None
    # The same words, perhaps another case or spacing: matched by their words.
    by_words = {office.words(h): t for h, t in mapping.items() if isinstance(t, str) and (t in office.TARGETS or t == "")}
    return {h: by_words[office.words(h)] for h in headers if h and office.words(h) in by_words}


async def remember_mapping(actor: Actor, headers: list[str], mapping: dict[str, str], *, now: datetime) -> None:
    """Keep a confirmed mapping for the next file with the same header."""
    value = json.dumps({h: mapping.get(h, "") for h in headers if h}, ensure_ascii=False)
    async with write_transaction():
        await ImportMapping.insert(
            ImportMapping(signature=office.signature(headers), mapping=value, updated_at=now, updated_by=actor.username)
        ).on_conflict(
            target=ImportMapping.signature,
            action="DO UPDATE",
            values=[ImportMapping.mapping, ImportMapping.updated_at, ImportMapping.updated_by],
        )


async def propose(sheet: Sheet) -> Proposal:
    header_row, headers = sheet.headers()
    remembered = await remembered_mapping(headers)
    mapping = remembered if remembered is not None else office.propose(headers)
    samples: dict[str, list[str]] = {}
    below = [cells for number, cells in sheet.rows if number > header_row and any(str(c or "").strip() for c in cells)][:3]
    for index, header in enumerate(headers):
        if header:
            samples[header] = [short(reading.cell_text("", row[index]) if index < len(row) else "") for row in below]
    return Proposal(header_row, headers, mapping, remembered is not None, samples)


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """A mapping given as JSON (the API's ``mapping`` field)."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str | None) for k, v in value.items()):
        message = _("The mapping must be a JSON object: the sheet's column name → a field name (or an empty text to leave it out).")
        raise ValidationError(message, fields={"mapping": message})
    return {k: v or "" for k, v in value.items()}


def is_template(headers: list[str]) -> bool:
    """The file uses the template's own column names: nothing to confirm."""
    named = [h for h in headers if h]
    return bool(named) and all(h.strip().lower().replace(" ", "_").replace("-", "_") in BY_HEADER for h in named)


# --- import ----------------------------------------------------------------------


async def _plan(actor: Actor, sheet: Sheet, mapping: dict[str, str] | None, now: datetime) -> tuple[reading.Table, list[Planned]]:
    _ensure_staff(actor)
    if mapping is None:
        _row, headers = sheet.headers()
        mapping = await remembered_mapping(headers)
    table = await anyio.to_thread.run_sync(reading.to_table, sheet, mapping)
    return table, await planning.plan(table, today=now.astimezone(WIB).date())


def _report(table: reading.Table, planned: list[Planned], committed: bool = False) -> ImportReport:
    return ImportReport(
        table.file_format,
        [p.result for p in planned],
        notes=reading.notes(table),
        committed=committed,
        header_row=table.header_row,
        mapping=dict(table.mapping),
    )


async def read_sheet(actor: Actor, fileobj: BinaryIO) -> Sheet:
    _ensure_staff(actor)
    return await reading.read_file(fileobj, get_settings().max_upload_bytes)


async def dry_run(actor: Actor, fileobj: BinaryIO, *, now: datetime, mapping: dict[str, str] | None = None) -> ImportReport:
    """What an import of this file would do, row by row. Changes nothing.
    Without a mapping: the one remembered for this header, else the proposed one."""
    table, planned = await _plan(actor, await read_sheet(actor, fileobj), mapping, now)
    return _report(table, planned)


async def commit(actor: Actor, fileobj: BinaryIO, *, now: datetime, mapping: dict[str, str] | None = None,
                 accreditation_recorders: Sequence[Callable[..., Awaitable[None]]] = ()) -> ImportReport:
    """Plan again against the current register and apply every valid row;
    the other rows are left alone.

    Rows are written in batches of :data:`COMMIT_BATCH`, one transaction
    each, so a large import never holds the database's write lock for long.
    Should it stop half-way (the database went away), importing the same
    file again finishes the job: the rows already applied are "unchanged"."""
    table, planned = await _plan(actor, await read_sheet(actor, fileobj), mapping, now)
    todo = [item for item in planned if item.result.outcome in (CREATE, UPDATE)]
    for start in range(0, len(todo), COMMIT_BATCH):
        async with write_transaction():
            for item in todo[start : start + COMMIT_BATCH]:
                await _apply(actor, item, now=now, recorders=accreditation_recorders)
    report = _report(table, planned, committed=True)
    await audit.record(actor, "lks.import", "lks", "", now=now, after={"format": table.file_format, "rows": len(planned), **report.counts})
    return report


ACCREDITATION_KEYS = ("accreditation_status", "accreditation_grade")


async def _apply_legacy(actor: Actor, lks_id: int, legacy: dict[str, Any], *, version: int, now: datetime,
                        recorders: Sequence[Callable[..., Awaitable[None]]]) -> None:
    """The sheet's Tanda Daftar and accreditation, where SIGAP had none
    (``version``: the LKS's as the plan left it; another is a conflict).
    The accreditation goes to its own domain (``ACCREDITATION_REPORTED``),
    which keeps the LKS row's derived fields."""
    registration = {k: v for k, v in legacy.items() if k not in ACCREDITATION_KEYS}
    before = await Lks.select(*(getattr(Lks, k) for k in legacy), Lks.registration_status).where(Lks.id == lks_id).first()
    changes = {getattr(Lks, k): v for k, v in registration.items()}
    if "registration_status" in registration:
        changes[Lks.registered_on] = None
    changes[Lks.version] = Lks.version + 1
    changes[Lks.updated_at] = now
    updated = await Lks.update(changes).where((Lks.id == lks_id) & (Lks.version == version)).returning(Lks.id)
    if not updated:
        raise Conflict(_("This LKS was changed by someone else in the meantime. Reload the page and apply your change again."))
    if "registration_status" in registration and registration["registration_status"] != before["registration_status"]:
        await StatusChange.insert(
            StatusChange(
                lks=lks_id, at=now, action="import", from_status=before["registration_status"],
                to_status=registration["registration_status"], reason=_("Imported from the office's spreadsheet."),
                actor=actor.user_id, actor_name=actor.username,
            )
        )
    status, grade = legacy.get("accreditation_status"), legacy.get("accreditation_grade")
    if status in ("accredited", "in_process"):
        if recorders:
            for record in recorders:
                await record(actor, lks_id, status=status, grade=grade, now=now, source="import")
        else:
            await accreditation_cache.set_accreditation(lks_id, status=status, grade=grade, valid_until=None, now=now)
    await audit.record(actor, "lks.import_status", "lks", lks_id, now=now, before=before, after=legacy)


async def _apply(actor: Actor, item: Planned, *, now: datetime, recorders: Sequence[Callable[..., Awaitable[None]]]) -> None:
    result = item.result
    try:
        version = 1
        if result.outcome == CREATE:
            row, _warnings = await services.create_lks(actor, item.data, now=now)
            result.lks_id, version = row["id"], row["version"]
        elif result.outcome == UPDATE:
            assert result.lks_id is not None and item.version is not None
            fields = {k: v for k, v in item.data.items() if k in services.EDITABLE_FIELDS}
            version = item.version
            if set(result.changes) - set(planning.LEGACY_COLUMNS.values()):  # not only the Tanda Daftar or accreditation
                await services.update_lks(actor, result.lks_id, fields, version=item.version, now=now)
                version += 1
        if item.legacy and result.lks_id is not None:
            await _apply_legacy(actor, result.lks_id, item.legacy, version=version, now=now, recorders=recorders)
    except DomainError as exc:
        # Someone changed the register since the plan (a stale version, a
        # kelurahan removed...): a reason on the row, not a failed import.
        result.outcome = REJECT
        result.errors = [(FIELD_COLUMNS.get(k, k), v) for k, v in exc.fields.items()] or [("", exc.message)]


def _storage_error() -> StorageUnavailable:
    return StorageUnavailable(_("Document storage is unavailable right now; nothing was saved. Please try again later."))


async def stage_upload(actor: Actor, content: bytes, *, storage: Storage, now: datetime) -> tuple[Sheet, str]:
    """Read an uploaded file and keep it for the next steps; (its cells, its token)."""
    sheet = await read_sheet(actor, io.BytesIO(content))
    try:
        token = await staging.stage(storage, content, now=now)
    except StorageError as exc:
        raise _storage_error() from exc
    return sheet, token


async def drop_upload(storage: Storage, token: str) -> None:
    """Forget a kept file with nothing to apply."""
    await staging.discard(storage, token)


async def check_upload(actor: Actor, content: bytes, *, storage: Storage, now: datetime) -> tuple[ImportReport, str | None]:
    """Keep a file and plan it with its remembered or proposed mapping: the
    dry run, and the token to commit it (None, and nothing kept, when no
    row would change anything)."""
    _sheet, token = await stage_upload(actor, content, storage=storage, now=now)
    report = await confirm_mapping(actor, token, None, storage=storage, now=now, remember=False)
    if not report.applicable:
        await drop_upload(storage, token)
        return report, None
    return report, token


async def _staged_sheet(actor: Actor, token: str, *, storage: Storage, now: datetime) -> Sheet:
    _ensure_staff(actor)
    try:
        reader = await staging.peek(storage, token, now=now)
    except StorageError as exc:
        raise _storage_error() from exc
    if reader is None:
        raise await _gone(token)
    try:
        return await reading.read_file(reader, get_settings().max_upload_bytes)
    finally:
        await staging.close(reader)


async def _gone(token: str) -> DomainError:
    if await staging.was_claimed(token):
        return ImportApplied(_("This import was applied already: nothing was changed a second time."))
    return ImportGone(
        _("This import is no longer available: it was already applied, or it was checked more than a day ago. Upload the file again.")
    )


async def staged_proposal(actor: Actor, token: str, *, storage: Storage, now: datetime) -> Proposal:
    return await propose(await _staged_sheet(actor, token, storage=storage, now=now))


async def confirm_mapping(
    actor: Actor, token: str, mapping: dict[str, str] | None, *, storage: Storage, now: datetime, remember: bool = True
) -> ImportReport:
    """The dry run of a kept file with this mapping (None: remembered or
    proposed), which is kept for its commit and, confirmed by staff,
    remembered for the next file with the same header."""
    sheet = await _staged_sheet(actor, token, storage=storage, now=now)
    table, planned = await _plan(actor, sheet, mapping, now)
    await staging.set_mapping(token, json.dumps(table.mapping, ensure_ascii=False))
    if remember and mapping is not None:
        await remember_mapping(actor, table.source_headers, table.mapping, now=now)
    return _report(table, planned)


async def commit_staged(actor: Actor, token: str, *, storage: Storage, now: datetime,
                        accreditation_recorders: Sequence[Callable[..., Awaitable[None]]] = ()) -> ImportReport:
    """Commit the file kept by :func:`stage_upload` with its confirmed
    mapping, once: a second commit is :class:`ImportApplied` (409), an
    unknown token or one older than a day :class:`ImportGone` (404)."""
    _ensure_staff(actor)
    try:
        claimed = await staging.claim(storage, token, now=now)
    except StorageError as exc:
        raise StorageUnavailable(_("Document storage is unavailable right now. Please try again later.")) from exc
    if claimed is None:
        raise await _gone(token)
    reader, mapping_text = claimed
    try:
        mapping = json.loads(mapping_text) if mapping_text else None
        report = await commit(actor, reader, now=now, mapping=mapping, accreditation_recorders=accreditation_recorders)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await staging.release(token)
        raise
    finally:
        await staging.close(reader)
    await staging.applied(storage, token, now=now)
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
    places = await Places.load()
    box = regions.bounding_box(get_settings().region)
    return await anyio.to_thread.run_sync(export.template_workbook, places, box)
