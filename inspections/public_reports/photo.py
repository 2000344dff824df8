"""The optional photo of a public report: checked by content (JPEG, PNG or
WebP, not empty, within the size limit), turned upright, downscaled to at
most 1600 px and saved again without any metadata (no place, time or
device), whatever the phone sent. Runs in a worker thread."""

from __future__ import annotations

import io
import tempfile
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from sigap.errors import ValidationError
from sigap.i18n import _

MAX_SIDE_PX = 1600
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, fields={"photo": message})


def clean_photo(fileobj: BinaryIO, max_bytes: int) -> dict:
    """``{"fileobj", "content_type", "ext", "size"}`` of the cleaned copy."""
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    if size == 0:
        raise _invalid(_("The photo is empty."))
    if size > max_bytes:
        raise _invalid(_("The photo is too large (at most %(mb)s MB).", mb=max_bytes // (1024 * 1024)))
    try:
        image = Image.open(fileobj)
        if image.format not in FORMATS:
            raise _invalid(_("Only JPEG, PNG or WebP photos."))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise _invalid(_("Only JPEG, PNG or WebP photos.")) from None
    content_type, ext = FORMATS[image.format]
    fmt = image.format
    clean = ImageOps.exif_transpose(image)
    clean.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    clean.info = {}
    if fmt == "JPEG" and clean.mode not in ("RGB", "L"):
        clean = clean.convert("RGB")
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    clean.save(out, format=fmt, **({"quality": 85} if fmt in ("JPEG", "WEBP") else {}))
    stored = out.tell()
    out.seek(0)
    return {"fileobj": out, "content_type": content_type, "ext": ext, "size": stored}
