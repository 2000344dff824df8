"""Translations and WIB date formatting.

Message ids are English; the Indonesian catalog (``locale/id``) translates
every one of them and is the default language. The locale of the current
request (or CLI run) lives in a context variable, so domain services can
produce translated messages without knowing about HTTP.
"""

from __future__ import annotations

import functools

import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
LOCALE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
WIB = ZoneInfo("Asia/Jakarta")
LOCALE_DIR = Path(__file__).parent / "locale"

_current_locale: ContextVar[str] = ContextVar("sigap_locale", default=DEFAULT_LOCALE)


def normalize_locale(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower().replace("_", "-").split("-")[0]
    return value if value in LOCALES else None


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``locale``, built from its .po file once."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return _gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def get_locale() -> str:
    return _current_locale.get()


def set_locale(locale: str) -> None:
    _current_locale.set(normalize_locale(locale) or DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current_locale.set(normalize_locale(locale) or DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def gettext(msgid: str, /, **params: object) -> str:
    text = translations(get_locale()).gettext(msgid)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> str:
    text = translations(get_locale()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def choice_label(mapping: dict, value: object) -> str:
    """The translated label of ``value`` in a {choice: msgid} mapping whose
    keys are enum members or plain strings; the value itself if unknown."""
    for key, msgid in mapping.items():
        if key == value or getattr(key, "value", None) == value:
            return gettext(msgid)
    return str(value or "")


def labeller(mapping: dict):
    """``labeller(LABELS)(value)`` is ``choice_label(LABELS, value)``: the
    template globals that show a translated choice (a list page calls them
    a hundred times: a string value is looked up, not searched for)."""
    by_value: dict[str, str] = {}
    for key, msgid in mapping.items():
        plain = getattr(key, "value", key)
        if isinstance(plain, str):
            by_value.setdefault(plain, msgid)

    def label(value: object) -> str:
        if type(value) is not str:
            return choice_label(mapping, value)
        msgid = by_value.get(value)
        if msgid is None:
            return choice_label(mapping, value)  # a key of another kind that compares equal
        return gettext(msgid)

    return label


def choices(mapping: dict) -> list[tuple[str, str]]:
    """(value, translated label) pairs for a <select>."""
    return [(getattr(k, "value", k), gettext(v)) for k, v in mapping.items()]


def to_wib(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(WIB)


def format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A UTC instant shown in WIB, in the current language."""
    if value is None:
        return ""
    return _formatted_datetime(value, fmt, get_locale())


def format_date(value: date | datetime | None, fmt: str = "d MMMM yyyy") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_wib(value).date()
    return _formatted_date(value, fmt, get_locale())


# Babel takes tens of microseconds per date; a list page shows dozens, the
# same ones on every view: keep the recent results (exactly Babel's text).
@functools.lru_cache(maxsize=4096)
def _formatted_datetime(value: datetime, fmt: str, locale: str) -> str:
    pattern = {"medium": "d MMM yyyy, HH.mm", "long": "d MMMM yyyy, HH.mm.ss"}.get(fmt, fmt)
    return f"{_babel_format_datetime(to_wib(value), pattern, locale=locale)} WIB"


@functools.lru_cache(maxsize=4096)
def _formatted_date(value: date, fmt: str, locale: str) -> str:
    return _babel_format_date(value, fmt, locale=locale)
