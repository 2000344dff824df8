"""The rules of unregistered-LKS reports: who may report and see what, the
checks of a report, creating the unregistered LKS or attaching to a known
one (and starting its 14-day check), the photo, and staff's outcome."""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import anyio.to_thread
import asyncpg

from registry import lookup, regions
from registry.access import is_staff
from registry.documents import StorageUnavailable, _digest_and_size, sniff
from registry.services import CONTROL_CHARS, search_text
from registry.sightings.tables import Sighting, SightingOutcome, SightingSource
from registry.tables import Lks, LksKind, RegistrationStatus
from sigap import audit
from sigap.audit import Actor
from sigap.db import lock_row, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, _
from sigap.settings import get_settings
from sigap.storage import ObjectNotFound, Storage, StorageError
from sigap.tables import Role

log = logging.getLogger("sigap.registry")

REPORTER_ROLES = frozenset({Role.admin, Role.staff, Role.partner})
PHOTO_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
OUTCOME_LABELS = {
    SightingOutcome.open: N_("Open"),
    SightingOutcome.registered: N_("Registered"),
    SightingOutcome.closed: N_("Report closed"),
    SightingOutcome.not_lks: N_("Not an LKS"),
}
SOURCE_LABELS = {
    SightingSource.partner: N_("Partner"),
    SightingSource.staff: N_("Dinas Sosial"),
    SightingSource.public: N_("Public report"),
}
CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{8,100}")

# ``async (actor, lks, now) -> None``: an already known unregistered LKS was
# reported again; runs in the report's transaction (joint monitoring starts
# the 14-day check unless one is open).
ReportedHook = Callable[[Actor, dict, datetime], Awaitable[None]]


class PossibleDuplicates(Conflict):
    """Known LKS look like the one reported: the reporter must pick one or
    confirm that it is another place."""

    code = "possible_duplicates"

    def __init__(self, message: str, duplicates: list[dict]) -> None:
        super().__init__(message, fields={"lks_id": message})
        self.duplicates = duplicates


@dataclass
class Photo:
    filename: str
    fileobj: BinaryIO


def ensure_reporter(actor: Actor) -> None:
    if actor.role not in REPORTER_ROLES:
        raise Forbidden(_("Only Dinas Sosial staff and partner officers can report an unregistered LKS."))


def _clean(value: Any, limit: int) -> str:
    text = CONTROL_CHARS.sub("", str(value or "")).strip()
    return text[:limit] if len(text) > limit else text


def _text(data: dict, key: str, errors: dict, *, minimum: int, maximum: int, message: str) -> str:
    text = CONTROL_CHARS.sub("", str(data.get(key) or "")).strip()
    if not (minimum <= len(text) <= maximum):
        errors[key] = message
    return text


def positive_int(value: Any) -> int | None:
    try:
        number = int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return -1
    if number is not None and not (0 < number < 2**62):
        return -1
    return number


async def check_report(data: dict[str, Any]) -> dict[str, Any]:
    """The checked fields of a report, or ValidationError naming each problem."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    values["lks_id"] = lks_id = positive_int(data.get("lks_id"))
    if lks_id == -1:
        errors["lks_id"] = _("Choose an LKS from the list.")
    values["name"] = _text(data, "name", errors, minimum=0 if lks_id else 3, maximum=200,
                           message=_("Write the name or a short description of the place (3 to 200 characters)."))
    values["address"] = _text(data, "address", errors, minimum=0 if lks_id else 5, maximum=500,
                              message=_("Write the address or where the place is (5 to 500 characters)."))
    values["seen"] = _text(data, "seen", errors, minimum=5, maximum=2000,
                           message=_("Say what you saw (5 to 2000 characters)."))
    kind = str(data.get("kind") or "other")
    if kind not in LksKind.__members__:
        errors["kind"] = _("Choose the kind of LKS.")
    values["kind"] = kind
    region = get_settings().region
    kelurahan = str(data.get("kelurahan_code") or "").strip()[:13]
    village = await regions.village(kelurahan) if kelurahan else None
    if not lks_id and (village is None or not kelurahan.startswith(region + ".")):
        errors["kelurahan_code"] = _("Choose a kelurahan in this region.")
    values["kelurahan_code"] = kelurahan if village else ""
    values["kecamatan_code"] = village["parent_code"] if village else ""
    values["confirm_new"] = str(data.get("confirm_new") or "").lower() in {"1", "true", "on", "yes"}
    client_id = str(data.get("client_id") or "")
    if client_id and not CLIENT_ID.fullmatch(client_id):
        errors["client_id"] = _("The client id must be 8 to 100 letters, digits or . _ : -")
    values["client_id"] = client_id
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    return values


def _check_photo(fileobj: BinaryIO, max_bytes: int) -> tuple[str, int, str]:
    """(extension, size, sha256) of a photo, checked by content. In a thread."""
    digest, size = _digest_and_size(fileobj)
    if size == 0:
        raise ValidationError(_("The photo is empty."), fields={"photo": _("The photo is empty.")})
    if size > max_bytes:
        message = _("The photo is too large (at most %(mb)s MB).", mb=max_bytes // (1024 * 1024))
        raise ValidationError(message, fields={"photo": message})
    ext = sniff(fileobj)
    if ext not in PHOTO_TYPES:
        raise ValidationError(_("Only JPEG, PNG or WebP photos."), fields={"photo": _("Only JPEG, PNG or WebP photos.")})
    return ext, size, digest


def _unique_violation(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.IntegrityError | asyncpg.UniqueViolationError)


async def _by_client_key(client_key: str | None) -> dict | None:
    if not client_key:
        return None
    return await Sighting.select().where(Sighting.client_key == client_key).first()


def audited(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("photo_key", "client_key")}


async def create(
    actor: Actor,
    data: dict[str, Any],
    *,
    now: datetime,
    storage: Storage,
    max_photo_bytes: int,
    photo: Photo | None = None,
    reported_hooks: Sequence[ReportedHook] = (),
    source: str | None = None,
    source_ref: str = "",
) -> tuple[dict, bool]:
    """Store a report; returns (row, created). A retry with the same client
    id returns the first report. Without an LKS picked, a new unregistered
    LKS is created, unless known LKS in the kelurahan look alike and the
    reporter has not confirmed it is another place (PossibleDuplicates).
    ``source``/``source_ref``: where the report came from when staff record
    one they received (a public report and its tracking code)."""
    ensure_reporter(actor)
    values = await check_report(data)
    client_key = f"{actor.user_id}:{values['client_id']}" if values["client_id"] else None
    if (existing := await _by_client_key(client_key)) is not None:
        return existing, False
    lks = None
    if values["lks_id"]:
        lks = await Lks.select(Lks.id, Lks.name, Lks.address, Lks.kelurahan_code, Lks.kecamatan_code,
                               Lks.registration_status).where(Lks.id == values["lks_id"]).first()
        if lks is None:
            raise ValidationError(_("Please correct the marked fields."), fields={"lks_id": _("Choose an LKS from the list.")})
    elif not values["confirm_new"]:
        duplicates = await lookup.possible_duplicates(values["name"], values["kelurahan_code"])
        if duplicates:
            raise PossibleDuplicates(
                _("Similar LKS are already known in this kelurahan: pick the one you saw, or confirm that it is another place."),
                duplicates,
            )
    stored = None
    if photo is not None:
        ext, size, digest = await anyio.to_thread.run_sync(_check_photo, photo.fileobj, max_photo_bytes)
        key = f"sightings/{uuid.uuid4().hex}.{ext}"
        try:
            await storage.put(key, photo.fileobj)
        except StorageError as exc:
            log.error("sighting photo storage write failed", extra={"error": type(exc).__name__})
            raise StorageUnavailable(_("Photo storage is unavailable right now; nothing was saved. Please try again later.")) from exc
        stored = {"photo_key": key, "photo_type": PHOTO_TYPES[ext], "photo_size": size, "photo_sha256": digest}
    try:
        row = await _write(actor, values, lks, stored, client_key, now=now, reported_hooks=reported_hooks,
                           source=source, source_ref=source_ref)
    except BaseException as exc:
        if stored is not None:
            try:
                await storage.delete(stored["photo_key"])
            except StorageError:
                log.error("orphan sighting photo left in storage", extra={"key": stored["photo_key"]})
        if _unique_violation(exc) and (existing := await _by_client_key(client_key)) is not None:
            return existing, False  # the same report arrived twice at once
        raise
    return row, True


async def _write(actor: Actor, values: dict, lks: dict | None, stored: dict | None, client_key: str | None, *,
                 now: datetime, reported_hooks: Sequence[ReportedHook], source: str | None = None,
                 source_ref: str = "") -> dict:
    async with write_transaction():
        created_lks = lks is None
        if lks is None:
            new = {
                "name": values["name"], "kind": values["kind"], "legal_entity": False, "address": values["address"],
                "kelurahan_code": values["kelurahan_code"], "kecamatan_code": values["kecamatan_code"],
                "registration_status": RegistrationStatus.unregistered.value,
                "status_reason": _("Reported by %(name)s as operating without registration.", name=actor.username),
            }
            record = Lks(**new, search_text=search_text(new), created_at=now, updated_at=now)
            await record.save()
            lks = await Lks.select().where(Lks.id == record.id).first()
            await audit.record(actor, "lks.create", "lks", record.id, now=now,
                               after={k: v for k, v in lks.items() if k != "search_text"})
        elif lks["registration_status"] == RegistrationStatus.unregistered.value:
            for hook in reported_hooks:
                await hook(actor, lks, now)
        sighting = Sighting(
            lks=lks["id"], created_lks=created_lks,
            source=source or (SightingSource.partner if actor.role == Role.partner else SightingSource.staff).value,
            source_ref=source_ref[:64],
            reporter=actor.user_id, reporter_name=actor.username[:200],
            name=values["name"] or lks["name"], address=values["address"] or lks["address"],
            kelurahan_code=values["kelurahan_code"] or lks["kelurahan_code"],
            kecamatan_code=values["kecamatan_code"] or lks["kecamatan_code"],
            seen=values["seen"], client_key=client_key, created_at=now, updated_at=now, **(stored or {}),
        )
        await sighting.save()
        row = await Sighting.select().where(Sighting.id == sighting.id).first()
        await audit.record(actor, "sighting.create", "sighting", sighting.id, now=now, after=audited(row))
    return row


# --- reading ----------------------------------------------------------------------


LIST_LIMIT = 200


def _with_reporter(row: dict) -> dict:
    """``reporter_display``: the reporter's full name and username."""
    full = (row.pop("reporter_full_name", None) or "").strip()
    row["reporter_display"] = f"{full} ({row['reporter_name']})" if full else row["reporter_name"]
    return row


async def list_sightings(actor: Actor, *, outcome: str = "", limit: int = LIST_LIMIT) -> list[dict]:
    """Staff: every report; a partner: their own; newest first, with the LKS's
    name and registration status (two queries, whatever the count)."""
    ensure_reporter(actor)
    query = Sighting.select(
        *Sighting.all_columns(exclude=[Sighting.client_key]),
        Sighting.lks.name.as_alias("lks_name"), Sighting.lks.registration_status.as_alias("lks_status"),
        Sighting.reporter.full_name.as_alias("reporter_full_name"),
    ).order_by(Sighting.created_at, ascending=False).order_by(Sighting.id, ascending=False).limit(limit)
    if not is_staff(actor):
        query = query.where(Sighting.reporter == actor.user_id)
    if outcome in SightingOutcome.__members__:
        query = query.where(Sighting.outcome == outcome)
    rows = [_with_reporter(r) for r in await query]
    names = await regions.region_names({r["kelurahan_code"] for r in rows} | {r["kecamatan_code"] for r in rows})
    for row in rows:
        row["kelurahan_name"] = names.get(row["kelurahan_code"], "")
        row["kecamatan_name"] = names.get(row["kecamatan_code"], "")
    return rows


async def get_sighting(actor: Actor, sighting_id: int) -> dict:
    """One report; another partner's is "not found"."""
    ensure_reporter(actor)
    row = await Sighting.select(
        *Sighting.all_columns(exclude=[Sighting.client_key]),
        Sighting.lks.name.as_alias("lks_name"), Sighting.lks.registration_status.as_alias("lks_status"),
        Sighting.reporter.full_name.as_alias("reporter_full_name"),
    ).where(Sighting.id == sighting_id).first()
    if row is None or (not is_staff(actor) and row["reporter"] != actor.user_id):
        raise NotFound(_("Report not found."))
    _with_reporter(row)
    names = await regions.region_names({row["kelurahan_code"], row["kecamatan_code"]})
    row["kelurahan_name"] = names.get(row["kelurahan_code"], "")
    row["kecamatan_name"] = names.get(row["kecamatan_code"], "")
    return row


def public_sighting(row: dict) -> dict:
    """A report as the API shows it."""
    out = {k: row.get(k) for k in (
        "id", "lks", "created_lks", "source", "reporter_name", "reporter_display", "name", "address", "kelurahan_code", "kecamatan_code",
        "kelurahan_name", "seen", "outcome", "outcome_reason", "outcome_at", "version", "created_at",
        "lks_name", "lks_status",
    ) if k in row}
    out["photo_url"] = f"/sightings/{row['id']}/photo" if row.get("photo_key") else None
    return out


async def open_photo(actor: Actor, sighting_id: int, *, storage: Storage, now: datetime) -> tuple[dict, BinaryIO]:
    row = await get_sighting(actor, sighting_id)
    if not row["photo_key"]:
        raise NotFound(_("This report has no photo."))
    await audit.record(actor, "sighting.photo_view", "sighting", sighting_id, now=now)
    try:
        reader = await storage.open(row["photo_key"])
    except ObjectNotFound as exc:
        raise NotFound(_("The photo of this report is missing from storage.")) from exc
    except StorageError as exc:
        raise StorageUnavailable(_("Photo storage is unavailable right now. Please try again later.")) from exc
    return row, reader


# --- outcome ----------------------------------------------------------------------


async def set_outcome(actor: Actor, sighting_id: int, *, outcome: str, reason: str, version: int | None,
                      now: datetime) -> dict:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can decide the outcome of a report."))
    errors = {}
    if outcome not in SightingOutcome.__members__:
        errors["outcome"] = _("Choose the outcome.")
    reason = " ".join(_clean(reason, 2000).split())
    if len(reason) < 5:
        errors["reason"] = _("Give a reason (at least 5 characters): the reporter will see it.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        await lock_row(Sighting, sighting_id)
        before = await get_sighting(actor, sighting_id)
        if version is not None and version != before["version"]:
            raise Conflict(_("Someone else changed this report in the meantime. Reload it and decide again."))
        await Sighting.update({
            Sighting.outcome: outcome, Sighting.outcome_reason: reason, Sighting.outcome_by: actor.user_id,
            Sighting.outcome_at: now, Sighting.updated_at: now, Sighting.version: before["version"] + 1,
        }).where(Sighting.id == sighting_id)
        after = await get_sighting(actor, sighting_id)
        keys = ("outcome", "outcome_reason", "version")
        await audit.record(actor, "sighting.outcome", "sighting", sighting_id, now=now,
                           before={k: before[k] for k in keys}, after={k: after[k] for k in keys})
    return after
