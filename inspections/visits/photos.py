"""Photos of a visit report: checked by content (JPEG, PNG or WebP, not
empty, within ``SIGAP_MAX_PHOTO_MB``, at most 1600 px on the longest side),
stripped of their metadata on the server too (time and position are kept as
fields), stored once per client id, served after the same access check as
the report."""

from __future__ import annotations

import hashlib
import io
import logging
import tempfile
from datetime import datetime
from typing import BinaryIO

import anyio.to_thread
from PIL import Image, ImageOps, UnidentifiedImageError

from inspections.planning.services import get_task
from inspections.visits.services import (
    ensure_can_file,
    get_visit,
    missing_photos,
    photos_of,
    unique_violation,
)
from inspections.visits.tables import VisitPhoto, VisitStatus
from inspections.visits.validation import valid_client_id
from registry.documents import StorageUnavailable
from sigap import audit
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.errors import Conflict, NotFound, ValidationError
from sigap.i18n import _
from sigap.storage import ObjectNotFound, Storage, StorageError

log = logging.getLogger("sigap.inspections")

MAX_SIDE_PX = 1600
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
# Image info keys that carry no personal metadata (no place, time or device).
HARMLESS_INFO = frozenset({
    "dpi", "jfif", "jfif_version", "jfif_unit", "jfif_density", "progressive", "progression", "adobe", "adobe_transform",
    "loop", "duration", "background", "transparency", "gamma", "aspect", "lossless",
})


def too_large_message(max_mb: int) -> str:
    return _("The photo is too large (at most %(mb)s MB).", mb=max_mb)


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, fields={"file": message})


def _size(fileobj: BinaryIO) -> int:
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def _inspect(fileobj: BinaryIO, max_bytes: int, max_mb: int) -> dict:
    """Type, size and dimensions from the content; a copy without metadata
    when the file has any. Runs in a worker thread."""
    size = _size(fileobj)
    if size == 0:
        raise _invalid(_("The photo is empty."))
    if size > max_bytes:
        raise _invalid(too_large_message(max_mb))
    try:
        image = Image.open(fileobj)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise _invalid(_("Only JPEG, PNG or WebP photos.")) from None
    if image.format not in FORMATS:
        raise _invalid(_("Only JPEG, PNG or WebP photos."))
    if max(image.size) > MAX_SIDE_PX:
        raise _invalid(_("The photo is larger than %(px)s pixels on its longest side.", px=MAX_SIDE_PX))
    content_type, ext = FORMATS[image.format]
    out: BinaryIO = fileobj
    if set(image.info) - HARMLESS_INFO or getattr(image, "text", None) or image.getexif():
        out = _without_metadata(image)
    fileobj.seek(0)
    digest, stored_size = _digest(out)
    return {"content_type": content_type, "ext": ext, "width": image.width, "height": image.height,
            "fileobj": out, "sha256": digest, "size": stored_size}


def _without_metadata(image: Image.Image) -> BinaryIO:
    """The same pixels saved again with no EXIF, XMP, ICC or text chunks."""
    try:
        image.load()
    except OSError:
        raise _invalid(_("Only JPEG, PNG or WebP photos.")) from None
    clean = ImageOps.exif_transpose(image)  # keep the picture upright once its orientation tag is gone
    clean.info = {}
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    options = {"quality": 90} if image.format in ("JPEG", "WEBP") else {}
    clean.save(out, format=image.format, **options)
    out.seek(0)
    return out


def _digest(fileobj: BinaryIO) -> tuple[str, int]:
    fileobj.seek(0)
    digest = hashlib.file_digest(fileobj, "sha256").hexdigest()
    return digest, _size(fileobj)


def _taken_at(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        parsed = None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _coordinate(value: str, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -limit <= number <= limit else None


async def _may_add(actor: Actor, visit: dict) -> None:
    await ensure_can_file(actor, await get_task(actor, visit["task"]))
    if visit["status"] != VisitStatus.submitted.value and not missing_photos(visit, await photos_of(visit["id"])):
        raise Conflict(_("This report has all its photos and is no longer open for new ones."))


async def add_photo(
    actor: Actor, visit_id: int, *, client_id: str, question_code: str, finding_ref: str, taken_at: str, latitude: str,
    longitude: str, fileobj: BinaryIO, storage: Storage, max_mb: int, now: datetime,
) -> tuple[dict, bool]:
    """Store a photo of the report; returns (photo, created). The same
    client id again returns the stored photo."""
    visit = await get_visit(actor, visit_id)
    if not valid_client_id(client_id):
        raise ValidationError(_("The client id must be 8 to 64 letters, digits or . _ : -"), fields={"client_id": _("Invalid.")})
    existing = await VisitPhoto.select().where(VisitPhoto.client_id == client_id).first()
    if existing is not None:
        if existing["visit"] != visit_id:
            raise Conflict(_("This photo was already sent with another report."))
        return existing, False
    await _may_add(actor, visit)
    checked = await anyio.to_thread.run_sync(_inspect, fileobj, max_mb * 1024 * 1024, max_mb)
    key = f"visits/{visit_id}/{client_id}.{checked['ext']}"
    try:
        await storage.put(key, checked["fileobj"])
    except StorageError as exc:
        log.error("visit photo storage write failed", extra={"error": type(exc).__name__, "visit_id": visit_id})
        raise StorageUnavailable(_("Photo storage is unavailable right now; nothing was saved. Please try again later.")) from exc
    row = VisitPhoto(
        client_id=client_id, visit=visit_id, question_code=(question_code or "")[:20], finding_ref=(finding_ref or "")[:64],
        storage_key=key, content_type=checked["content_type"], size=checked["size"], sha256=checked["sha256"],
        width=checked["width"], height=checked["height"], taken_at=_taken_at(taken_at), latitude=_coordinate(latitude, 90),
        longitude=_coordinate(longitude, 180), uploaded_by=actor.user_id, uploaded_at=now,
    )
    try:
        async with write_transaction():
            if await VisitPhoto.exists().where(VisitPhoto.client_id == client_id):
                row = None
            else:
                await row.save()
                await audit.record(actor, "visit.photo", "visit", visit_id, now=now, after={"photo": client_id, "size": checked["size"]})
    except Exception as exc:
        if not unique_violation(exc):
            raise
        row = None
    stored = await VisitPhoto.select().where(VisitPhoto.client_id == client_id).first()
    if stored is None:
        raise Conflict(_("The photo could not be stored; please send it again."))
    return stored, row is not None


async def open_photo(actor: Actor, visit_id: int, photo_id: int, *, storage: Storage) -> tuple[dict, BinaryIO]:
    """The photo and its content, if the actor may read the report."""
    await get_visit(actor, visit_id)
    photo = await VisitPhoto.select().where((VisitPhoto.id == photo_id) & (VisitPhoto.visit == visit_id)).first()
    if photo is None:
        raise NotFound(_("Photo not found."))
    try:
        return photo, await storage.open(photo["storage_key"])
    except ObjectNotFound as exc:
        raise NotFound(_("The file of this photo is missing from storage.")) from exc
    except StorageError as exc:
        raise StorageUnavailable(_("Photo storage is unavailable right now. Please try again later.")) from exc
