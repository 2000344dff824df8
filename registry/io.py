"""Import and export of the LKS register as a spreadsheet (CSV or XLSX).

The columns carry Indonesian headers, the language of the office's own
spreadsheets. An import is *planned* row by row — create, update, unchanged
or rejected, with the reasons — by :func:`dry_run`, which changes nothing,
and applied by :func:`commit`, which plans again inside one write
transaction and sends every valid row through ``services.create_lks`` /
``services.update_lks``: the same validation (``services.check_fields``) and
the same audit events as an edit in the form. Rejected rows are skipped.

Matching: a row whose ``id`` names an existing LKS updates it; otherwise a
row with the same name (compared case- and accent-insensitively) and
kelurahan as an existing LKS updates that one; otherwise it creates a new
LKS. Two rows of one file naming the same LKS: the later one is rejected.

A column present in the file is authoritative for the rows it updates (an
empty cell clears the value, an empty count is 0), except ``badan_hukum``
where an empty cell keeps the current value; a column absent from the file
keeps the current values.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import anyio.to_thread

from registry import regions, services
from registry.services import LksFilter, normalize_text
from registry.tables import Lks, LksKind
from sigap import audit
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.errors import DomainError, Forbidden, ValidationError
from sigap.i18n import N_, WIB, _, use_locale
from sigap.settings import get_settings

MAX_ROWS = 20_000
COMMIT_BATCH = 100  # rows per write transaction of a commit
MAX_COLUMNS = 200
UPLOAD_TTL = timedelta(days=1)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024


# --- the columns -----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    help: str  # English msgid, translated where shown
    field: str | None = None  # the services field it fills, if any
    importable: bool = True  # read on import (id and kecamatan only to match)
    plain: bool = False  # numbers and codes: never formula-escaped in CSV


def _resident_header(key: str) -> str:
    sex, band = key.split("_", 1)
    return f"penghuni_{'l' if sex == 'm' else 'p'}_{band}"


RESIDENT_COLUMNS = {_resident_header(key): key for key in services.RESIDENT_KEYS}
RESIDENTS_HELP = N_(
    "Number of residents by sex (l = male, p = female) and age group (0–5, 6–12, 13–17, 18 and over). Counts only, never names."
)
READ_ONLY_HELP = N_("Exported for information only; ignored on import.")

COLUMNS: tuple[Column, ...] = (
    Column("id", N_("Number of the LKS in SIGAP. Leave it empty for a new LKS; when given, that LKS is updated."), plain=True),
    Column("nama", N_("Name of the LKS (required)."), "name"),
    Column("jenis", N_("Kind: LKSA, lansia, disabilitas, rehabilitasi or lainnya (required)."), "kind"),
    Column("badan_hukum", N_("Run by a legal entity: ya or tidak (empty: ya for a new LKS, unchanged for an existing one)."), "legal_entity"),
    Column("nama_yayasan", N_("Name of the foundation (required when badan_hukum is ya)."), "yayasan_name"),
    Column("nomor_akta", N_("Number of the deed of establishment."), "akta_number"),
    Column("tanggal_akta", N_("Date of the deed: YYYY-MM-DD or DD/MM/YYYY."), "akta_date", plain=True),
    Column("nomor_sk_kemenkumham", N_("Number of the SK Kemenkumham."), "sk_kemenkumham_number"),
    Column("npwp", N_("Tax number: 15 or 16 digits; dots and dashes are allowed."), "npwp", plain=True),
    Column("alamat", N_("Street address."), "address"),
    Column("rt", N_("Up to 3 digits."), "rt", plain=True),
    Column("rw", N_("Up to 3 digits."), "rw", plain=True),
    Column(
        "kode_kelurahan",
        N_("Kemendagri code of the kelurahan, for example 36.71.11.1005. This or the kelurahan column is required."),
        "kelurahan_code",
        plain=True,
    ),
    Column("kelurahan", N_("Name of the kelurahan in this region, used when kode_kelurahan is empty (a code may also be written here)."), "kelurahan_code"),
    Column(
        "kecamatan",
        N_("Name of the kecamatan: exported for information; on import only used to tell apart kelurahan with the same name."),
    ),
    Column("latitude", N_("Coordinates in decimal degrees, for example -6.2251 and 106.6291: both or neither."), "latitude", plain=True),
    Column("longitude", N_("Coordinates in decimal degrees, for example -6.2251 and 106.6291: both or neither."), "longitude", plain=True),
    Column("telepon", N_("Indonesian phone number, for example 021-5551234 or 0812 3456 7890."), "phone", plain=True),
    Column("email", N_("E-mail address."), "email"),
    Column("kepala", N_("Name of the head of the LKS."), "head_name"),
    Column("kapasitas", N_("Number of residents the LKS can take."), "capacity", plain=True),
    *(Column(header, RESIDENTS_HELP, "residents", plain=True) for header in RESIDENT_COLUMNS),
    Column("pengasuh", N_("Number of caregivers."), "staff_caregivers", plain=True),
    Column("pekerja_sosial", N_("Number of social workers."), "staff_social_workers", plain=True),
    Column("staf_lain", N_("Number of other staff."), "staff_other", plain=True),
    Column("layanan", N_("Services, separated by commas: the codes or names listed below."), "services"),
    Column("status_registrasi", READ_ONLY_HELP, importable=False),
    Column("nomor_tanda_daftar", READ_ONLY_HELP, importable=False),
    Column("berlaku_sampai", READ_ONLY_HELP, importable=False, plain=True),
    Column("status_akreditasi", READ_ONLY_HELP, importable=False),
    Column("peringkat_akreditasi", READ_ONLY_HELP, importable=False),
    Column("risiko", READ_ONLY_HELP, importable=False),
    Column("insiden_terbuka", READ_ONLY_HELP, importable=False),
)
HEADERS = tuple(c.header for c in COLUMNS)
BY_HEADER = {c.header: c for c in COLUMNS}
# Columns the template offers (the read-only ones make sense only in an export).
TEMPLATE_HEADERS = tuple(c.header for c in COLUMNS if c.importable or c.header == "kecamatan")
READ_ONLY_HEADERS = tuple(c.header for c in COLUMNS if not c.importable)
KELURAHAN_HEADERS = ("kode_kelurahan", "kelurahan")
# A field's errors are reported under this column.
FIELD_COLUMNS = {c.field: c.header for c in COLUMNS if c.field and c.field != "residents"}
FIELD_COLUMNS.update({f"residents_{key}": header for header, key in RESIDENT_COLUMNS.items()})
FIELD_COLUMNS["kecamatan_code"] = "kecamatan"

KIND_WORDS = {
    LksKind.lksa.value: "LKSA",
    LksKind.elderly.value: "lansia",
    LksKind.disability.value: "disabilitas",
    LksKind.rehabilitation.value: "rehabilitasi",
    LksKind.other.value: "lainnya",
}
_KIND_ALIASES = {
    LksKind.lksa.value: ("lksa", "anak", "lks anak", "panti asuhan", "lksa anak"),
    LksKind.elderly.value: ("lansia", "lanjut usia", "lks lansia"),
    LksKind.disability.value: ("disabilitas", "penyandang disabilitas", "lks disabilitas"),
    LksKind.rehabilitation.value: ("rehabilitasi", "rehabilitasi sosial", "napza", "rehabilitasi napza"),
    LksKind.other.value: ("lainnya", "lain-lain", "lain lain"),
}
_YES = frozenset({"ya", "y", "yes", "true", "1", "benar"})
_NO = frozenset({"tidak", "tdk", "no", "n", "false", "0", "bukan"})
_CODE_RE = re.compile(r"\d{2}(\.\d{2}){1,2}(\.\d{4})?")
_DMY_RE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def kind_aliases() -> dict[str, str]:
    """Normalized word → kind code: codes, Indonesian words, and the labels
    in both languages."""
    out: dict[str, str] = {}
    for code, words in _KIND_ALIASES.items():
        for word in (code, *words):
            out[normalize_text(word)] = code
        for locale in ("id", "en"):
            with use_locale(locale):
                out.setdefault(normalize_text(services.label(services.KIND_LABELS, code)), code)
    return out


def service_aliases() -> dict[str, str]:
    """Normalized code or label (both languages) → service code."""
    out: dict[str, str] = {}
    for code, label in services.SERVICES.items():
        out[normalize_text(code)] = code
        out[normalize_text(code.replace("_", " "))] = code
        for locale in ("id", "en"):
            with use_locale(locale):
                out.setdefault(normalize_text(_(label)), code)
    return out


# --- reports ---------------------------------------------------------------------

CREATE, UPDATE, UNCHANGED, REJECTED = "create", "update", "unchanged", "rejected"
OUTCOMES = (CREATE, UPDATE, UNCHANGED, REJECTED)


@dataclass
class RowResult:
    row: int  # as the spreadsheet numbers it: the header is row 1
    name: str
    outcome: str = CREATE
    lks_id: int | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column or "", message)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # columns that change (updates)


@dataclass
class ImportReport:
    file_format: str  # "csv" or "xlsx"
    rows: list[RowResult]
    notes: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(OUTCOMES, 0)
        for row in self.rows:
            out[row.outcome] += 1
        return out

    @property
    def applicable(self) -> int:
        """Rows a commit would write (creates and updates)."""
        counts = self.counts
        return counts[CREATE] + counts[UPDATE]


# --- reading a file --------------------------------------------------------------


@dataclass
class Table:
    file_format: str
    headers: list[str]  # normalized; "" for a column without a header
    rows: list[tuple[int, dict[str, str]]]  # (row number, header → cell text)


def _file_error(message: str) -> ValidationError:
    return ValidationError(message, fields={"file": message})


def detect_format(content: bytes) -> str:
    """"xlsx" or "csv", from the content (never the file name)."""
    if not content:
        raise _file_error(_("The file is empty."))
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise _file_error(_("This file is neither a CSV nor an XLSX spreadsheet. Save it as .xlsx or as CSV (UTF-8) and upload it again."))
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise _file_error(_("This is an old Excel file (.xls). Save it as .xlsx or as CSV (UTF-8) and upload it again."))
    head = content[:4096]
    binary_signatures = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
    if head.startswith(binary_signatures) or b"\x00" in head:
        raise _file_error(_("This file is neither a CSV nor an XLSX spreadsheet. Save it as .xlsx or as CSV (UTF-8) and upload it again."))
    return "csv"


def _header_key(value: Any) -> str:
    text = str(value if value is not None else "").replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def _check_headers(headers: list[str]) -> None:
    named = [h for h in headers if h]
    if not named:
        raise _file_error(_("The file has no header row. Row 1 must hold the column names of the template."))
    problems = []
    unknown = [h for h in named if h not in BY_HEADER]
    if unknown:
        problems.append(_("Unknown columns: %(names)s.", names=", ".join(unknown)))
    repeated = sorted({h for h in named if named.count(h) > 1})
    if repeated:
        problems.append(_("These columns appear more than once: %(names)s.", names=", ".join(repeated)))
    missing = [h for h in ("nama", "jenis") if h not in named]
    if not any(h in named for h in KELURAHAN_HEADERS):
        missing.append(" / ".join(KELURAHAN_HEADERS))
    if missing:
        problems.append(_("Required columns are missing: %(names)s.", names=", ".join(missing)))
    if problems:
        message = " ".join(problems) + " " + _("Use the column names of the template (row 1).")
        raise _file_error(message)


def _too_many_rows() -> ValidationError:
    return _file_error(_("The file has more than %(n)s data rows. Split it into smaller files.", n=f"{MAX_ROWS:,}".replace(",", ".")))


def _unescape(text: str) -> str:
    # Our CSV export writes a leading apostrophe before text that a
    # spreadsheet program would take for a formula.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def _read_csv(content: bytes) -> Table:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(
            _("This CSV file is not in UTF-8. Save it again choosing “CSV UTF-8” in your spreadsheet program, then upload it.")
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header_row = next(reader, [])
        headers = [_header_key(h) for h in header_row[:MAX_COLUMNS]]
        _check_headers(headers)
        rows: list[tuple[int, dict[str, str]]] = []
        for number, record in enumerate(reader, start=2):
            cells = [_unescape(c.strip()) for c in record[: len(headers)]]
            if not any(cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise _too_many_rows()
            rows.append((number, {h: v for h, v in zip(headers, cells, strict=False) if h}))
    except csv.Error:
        raise _file_error(_("This file is neither a CSV nor an XLSX spreadsheet. Save it as .xlsx or as CSV (UTF-8) and upload it again.")) from None
    return Table("csv", headers, rows)


def _xlsx_text(header: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)
        digits = str(int(value))
        # A number cell cannot keep leading zeros: give them back.
        if header == "npwp" and len(digits) < 15:
            return digits.zfill(15)
        if header == "telepon" and not digits.startswith("62"):
            return "0" + digits
        return digits
    return str(value).strip()


def _read_xlsx(content: bytes) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure to open means "cannot read it"
        raise _file_error(_("This XLSX file cannot be read: it may be damaged or protected with a password.")) from None
    try:
        if not workbook.worksheets:
            raise _file_error(_("The file has no header row. Row 1 must hold the column names of the template."))
        sheet = workbook.worksheets[0]
        header_row = next(sheet.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
        headers = [_header_key(h) for h in header_row]
        while headers and not headers[-1]:
            headers.pop()
        _check_headers(headers)
        rows: list[tuple[int, dict[str, str]]] = []
        for number, record in enumerate(sheet.iter_rows(min_row=2, max_col=len(headers), values_only=True), start=2):
            cells = [_xlsx_text(h, v) for h, v in zip(headers, record, strict=False)]
            if not any(cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise _too_many_rows()
            rows.append((number, {h: v for h, v in zip(headers, cells, strict=False) if h}))
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - a malformed sheet
        raise _file_error(_("This XLSX file cannot be read: it may be damaged or protected with a password.")) from None
    finally:
        workbook.close()
    return Table("xlsx", headers, rows)


def read_table(content: bytes) -> Table:
    """Parse a CSV or XLSX file (blocking: call it in a thread)."""
    kind = detect_format(content)
    return _read_xlsx(content) if kind == "xlsx" else _read_csv(content)


def _read_limited(fileobj: BinaryIO, max_bytes: int) -> bytes:
    content = fileobj.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise _file_error(_("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    return content


# --- planning an import ----------------------------------------------------------


class _Places:
    """The kelurahan and kecamatan of the office's region, by code and name."""

    def __init__(self, villages: list[dict], districts: list[dict]) -> None:
        self.village_names = {v["code"]: v["name"] for v in villages}
        self.village_district = {v["code"]: v["parent_code"] for v in villages}
        self.district_names = {d["code"]: d["name"] for d in districts}
        self.by_name: dict[str, list[str]] = {}
        for v in villages:
            self.by_name.setdefault(self._key(v["name"]), []).append(v["code"])

    @classmethod
    async def load(cls) -> "_Places":
        region = get_settings().region
        return cls(await regions.villages(region), await regions.districts(region))

    @staticmethod
    def _key(name: str) -> str:
        return re.sub(r"^(kelurahan|kel\.?|desa)\s+", "", normalize_text(name))

    def resolve(self, cells: dict[str, str]) -> tuple[str, str, str | None, str | None]:
        """(code, column it came from, error, warning) of a row's kelurahan."""
        code_cell = cells.get("kode_kelurahan", "").strip()
        name_cell = cells.get("kelurahan", "").strip()
        if code_cell:
            warning = None
            if name_cell and not _CODE_RE.fullmatch(name_cell) and code_cell in self.village_names:
                if self._key(name_cell) != self._key(self.village_names[code_cell]):
                    warning = _(
                        "The kelurahan “%(name)s” does not match code %(code)s (%(official)s); the code was used.",
                        name=name_cell,
                        code=code_cell,
                        official=self.village_names[code_cell],
                    )
            return code_cell, "kode_kelurahan", None, warning
        if not name_cell or _CODE_RE.fullmatch(name_cell):
            return name_cell, "kelurahan" if name_cell else "kode_kelurahan", None, None
        codes = self.by_name.get(self._key(name_cell), [])
        kecamatan = normalize_text(cells.get("kecamatan", ""))
        if len(codes) > 1 and kecamatan:
            narrowed = [c for c in codes if normalize_text(self.district_names.get(self.village_district[c], "")) == kecamatan]
            codes = narrowed or codes
        if not codes:
            return "", "kelurahan", _("There is no kelurahan named “%(name)s” in this region.", name=name_cell), None
        if len(codes) > 1:
            return "", "kelurahan", _(
                "Several kelurahan are named “%(name)s”: write the code instead (%(codes)s).", name=name_cell, codes=", ".join(codes)
            ), None
        return codes[0], "kelurahan", None, None


@dataclass
class _Planned:
    result: RowResult
    data: dict[str, Any]
    version: int | None = None


def _parse_date(text: str) -> str:
    match = _DMY_RE.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text
    return text


def _row_data(
    cells: dict[str, str],
    current: dict | None,
    kelurahan_code: str,
    kinds: dict[str, str],
    service_codes: dict[str, str],
    errors: dict[str, str],
) -> dict[str, Any]:
    """A spreadsheet row → the fields ``services.check_fields`` takes."""
    data: dict[str, Any] = {}
    for header, value in cells.items():
        column = BY_HEADER.get(header)
        if column is None or not column.importable or column.field in (None, "residents", "kelurahan_code"):
            continue
        if column.field == "kind":
            if value:
                kind = kinds.get(normalize_text(value))
                if kind is None:
                    errors["jenis"] = _(
                        "Unknown kind “%(value)s”: write LKSA, lansia, disabilitas, rehabilitasi or lainnya.", value=value
                    )
                    continue
                value = kind
        elif column.field == "legal_entity":
            word = normalize_text(value)
            if not word:
                continue
            if word not in _YES | _NO:
                errors["badan_hukum"] = _("Write ya or tidak.")
                continue
            value = word in _YES
        elif column.field == "akta_date":
            value = _parse_date(value)
        elif column.field == "services":
            chosen = []
            for part in re.split(r"[,;\n]", value):
                if part.strip():
                    chosen.append(service_codes.get(normalize_text(part), part.strip()))
            value = chosen
        data[column.field] = value
    if any(h in cells for h in KELURAHAN_HEADERS):
        data["kelurahan_code"] = kelurahan_code
    if any(h in cells for h in RESIDENT_COLUMNS):
        residents = dict((current or {}).get("residents") or {})
        for header, key in RESIDENT_COLUMNS.items():
            if header in cells:
                residents[key] = cells[header]
        data["residents"] = residents
    return data


def _same(field_name: str, old: Any, new: Any) -> bool:
    if field_name in ("latitude", "longitude"):
        if old is None or new is None:
            return old is None and new is None
        return abs(float(old) - float(new)) < 1e-5  # REAL is 4 bytes on PostgreSQL
    if field_name == "legal_entity":
        return bool(old) == bool(new)
    if field_name == "services":
        return list(old or []) == list(new or [])
    if field_name == "akta_date" and isinstance(old, str):
        old = date.fromisoformat(old)
    if isinstance(new, str) or new is None:
        return (old if old is not None else "") == (new if new is not None else "")
    return old == new


def _changes(values: dict[str, Any], current: dict) -> list[str]:
    changed: list[str] = []
    for name, new in values.items():
        if name in ("residents_total", "kecamatan_code"):
            continue
        if name == "residents":
            old = current.get("residents") or {}
            changed += [h for h, key in RESIDENT_COLUMNS.items() if int(old.get(key) or 0) != int(new.get(key) or 0)]
        elif not _same(name, current.get(name), new):
            changed.append(FIELD_COLUMNS.get(name, name))
    return changed


async def _load_current(ids: set[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        for row in await Lks.select().where(Lks.id.is_in(ordered[start : start + 500])):
            out[row["id"]] = services.decode(row)
    return out


async def _plan(table: Table, *, today: date) -> list[_Planned]:
    places = await _Places.load()
    kinds = kind_aliases()
    service_codes = service_aliases()
    existing = await Lks.select(Lks.id, Lks.name, Lks.kelurahan_code)
    known_ids = {r["id"] for r in existing}
    by_key: dict[tuple[str, str], list[int]] = {}
    for r in existing:
        by_key.setdefault((normalize_text(r["name"]), r["kelurahan_code"]), []).append(r["id"])

    # First pass: which LKS each row is about, and duplicates within the file.
    staged: list[tuple[RowResult, dict[str, str], dict[str, str], int | None, str]] = []
    seen_keys: dict[tuple[str, str], int] = {}
    seen_ids: dict[int, int] = {}
    by_name: set[int] = set()  # rows matched by name and kelurahan, not by id
    for number, cells in table.rows:
        name = " ".join(cells.get("nama", "").split())
        result = RowResult(row=number, name=name)
        errors: dict[str, str] = {}
        code, kel_column, kel_error, kel_warning = places.resolve(cells)
        if kel_error:
            errors[kel_column] = kel_error
        if kel_warning:
            result.warnings.append(kel_warning)
        target: int | None = None
        raw_id = cells.get("id", "").strip()
        if raw_id:
            number_text = raw_id[:-2] if raw_id.endswith(".0") else raw_id
            if not number_text.isdigit():
                errors["id"] = _("Not an LKS number: leave it empty for a new LKS.")
            elif int(number_text) not in known_ids:
                errors["id"] = _("There is no LKS with number %(id)s.", id=number_text)
            else:
                target = int(number_text)
        key = (normalize_text(name), code or normalize_text(cells.get("kelurahan", "")))
        if target is None and "id" not in errors and name and code:
            matches = by_key.get(key, [])
            if len(matches) == 1:
                target = matches[0]
                by_name.add(number)
            elif len(matches) > 1:
                errors["id"] = _(
                    "Several LKS with this name are registered in this kelurahan (numbers %(ids)s): write the number in the id column.",
                    ids=", ".join(map(str, sorted(matches))),
                )
        duplicate_of = seen_ids.get(target) if target is not None else None
        if duplicate_of is None and name:
            duplicate_of = seen_keys.get(key)
        if duplicate_of is not None:
            errors[""] = _("Row %(row)s of this file is already about the same LKS: this row is skipped.", row=duplicate_of)
        if target is not None:
            seen_ids.setdefault(target, number)
        if name:
            seen_keys.setdefault(key, number)
        result.lks_id = target
        staged.append((result, cells, errors, target, code))

    current_rows = await _load_current({t for _r, _c, _e, t, _k in staged if t is not None})

    # Second pass: the same checks as the form, and what would change.
    planned: list[_Planned] = []
    for result, cells, errors, target, code in staged:
        current = current_rows.get(target) if target is not None else None
        data = _row_data(cells, current, code, kinds, service_codes, errors)
        if current is not None and result.row in by_name:
            # Found by its name: a different spelling (case, accents) in
            # the file does not rename it. Renaming takes the id column.
            data["name"] = current["name"]
        checked = None
        try:
            checked = await services.check_fields(data, current=current, today=today)
        except ValidationError as exc:
            for name, message in exc.fields.items():
                column = FIELD_COLUMNS.get(name, name)
                if name == "kelurahan_code":
                    column = "kode_kelurahan" if cells.get("kode_kelurahan", "").strip() or "kelurahan" not in cells else "kelurahan"
                errors.setdefault(column, message)
            if not exc.fields:
                errors.setdefault("", exc.message)
        if errors:
            result.outcome = REJECTED
            result.errors = sorted(errors.items(), key=lambda item: _column_order(item[0]))
        else:
            assert checked is not None
            result.warnings += checked.warnings
            if current is None:
                result.outcome = CREATE
            else:
                result.changes = _changes(checked.values, current)
                result.outcome = UPDATE if result.changes else UNCHANGED
        planned.append(_Planned(result, data, current["version"] if current else None))
    return planned


def _column_order(header: str) -> int:
    return HEADERS.index(header) if header in HEADERS else -1


def _notes(table: Table) -> list[str]:
    ignored = [h for h in table.headers if h in READ_ONLY_HEADERS]
    if ignored:
        return [_("These columns are for information only and were not imported: %(names)s.", names=", ".join(ignored))]
    return []


def _ensure_staff(actor: Actor) -> None:
    if not services.is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))


async def _table_from(fileobj: BinaryIO) -> Table:
    max_bytes = get_settings().max_upload_bytes
    content = await anyio.to_thread.run_sync(_read_limited, fileobj, max_bytes)
    return await anyio.to_thread.run_sync(read_table, content)


async def dry_run(actor: Actor, fileobj: BinaryIO, *, now: datetime) -> ImportReport:
    """What an import of this file would do, row by row. Changes nothing."""
    _ensure_staff(actor)
    table = await _table_from(fileobj)
    planned = await _plan(table, today=now.astimezone(WIB).date())
    return ImportReport(table.file_format, [p.result for p in planned], notes=_notes(table))


async def commit(actor: Actor, fileobj: BinaryIO, *, now: datetime) -> ImportReport:
    """Plan again against the current register and apply every valid row;
    rejected rows are skipped.

    Rows are written in batches of :data:`COMMIT_BATCH`, one transaction
    each, so a large import never holds the database's write lock for long.
    Should it stop half-way (the database went away), importing the same
    file again finishes the job: the rows already applied are "unchanged"."""
    _ensure_staff(actor)
    table = await _table_from(fileobj)
    planned = await _plan(table, today=now.astimezone(WIB).date())
    todo = [item for item in planned if item.result.outcome in (CREATE, UPDATE)]
    for start in range(0, len(todo), COMMIT_BATCH):
        async with write_transaction():
            for item in todo[start : start + COMMIT_BATCH]:
                await _apply(actor, item, now=now)
    report = ImportReport(table.file_format, [p.result for p in planned], notes=_notes(table), committed=True)
    await audit.record(actor, "lks.import", "lks", "", now=now, after={"format": table.file_format, "rows": len(planned), **report.counts})
    return report


async def _apply(actor: Actor, item: _Planned, *, now: datetime) -> None:
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


# --- uploads kept between the dry run and the commit ------------------------------

_TOKEN_RE = re.compile(r"[0-9a-f]{32}")


def purge_uploads(folder: Path, *, now: datetime) -> None:
    """Delete uploads older than a day (never applied, or left behind)."""
    if not folder.is_dir():
        return
    limit = (now - UPLOAD_TTL).timestamp()
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def store_upload(content: bytes, folder: Path, *, now: datetime, max_bytes: int) -> str:
    """Keep an uploaded file for its commit; returns its token (blocking)."""
    if len(content) > max_bytes:
        raise _file_error(_("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    kind = detect_format(content)
    folder.mkdir(parents=True, exist_ok=True)
    purge_uploads(folder, now=now)
    token = uuid.uuid4().hex
    fd = os.open(folder / f"{token}.{kind}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    return token


def find_upload(folder: Path, token: str, *, now: datetime) -> Path | None:
    if not _TOKEN_RE.fullmatch(token or ""):
        return None
    for kind in ("csv", "xlsx"):
        path = folder / f"{token}.{kind}"
        try:
            if path.stat().st_mtime >= (now - UPLOAD_TTL).timestamp():
                return path
        except FileNotFoundError:
            continue
    return None


def claim_upload(folder: Path, token: str, *, now: datetime) -> Path | None:
    """Take an upload for its commit: only one of two concurrent commits of
    the same token gets it."""
    path = find_upload(folder, token, now=now)
    if path is None:
        return None
    claimed = path.with_name(path.name + ".applying")
    try:
        path.rename(claimed)
    except FileNotFoundError:
        return None
    return claimed


def release_upload(claimed: Path) -> None:
    """Put back a claimed upload whose commit failed (it can be retried)."""
    try:
        claimed.rename(claimed.with_name(claimed.name.removesuffix(".applying")))
    except FileNotFoundError:
        pass


# --- export ----------------------------------------------------------------------


async def _names() -> dict[str, str]:
    region = get_settings().region
    out = {v["code"]: v["name"] for v in await regions.villages(region)}
    out.update({d["code"]: d["name"] for d in await regions.districts(region)})
    return out


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def export_values(row: dict, names: dict[str, str]) -> list[Any]:
    """One LKS as the values of :data:`HEADERS` (dates as date objects)."""
    residents = row.get("residents") or {}
    with use_locale("id"):
        status = services.label(services.STATUS_LABELS, row.get("registration_status"))
        accreditation = services.label(services.ACCREDITATION_LABELS, row.get("accreditation_status"))
        risk = services.label(services.RISK_LABELS, row["risk_level"]) if row.get("risk_level") else ""
    values = {
        "id": row["id"],
        "nama": row["name"],
        "jenis": KIND_WORDS.get(row["kind"], row["kind"]),
        "badan_hukum": "ya" if row["legal_entity"] else "tidak",
        "nama_yayasan": row["yayasan_name"],
        "nomor_akta": row["akta_number"],
        "tanggal_akta": row["akta_date"],
        "nomor_sk_kemenkumham": row["sk_kemenkumham_number"],
        "npwp": row["npwp"],
        "alamat": row["address"],
        "rt": row["rt"],
        "rw": row["rw"],
        "kode_kelurahan": row["kelurahan_code"],
        "kelurahan": names.get(row["kelurahan_code"], ""),
        "kecamatan": names.get(row["kecamatan_code"], ""),
        "latitude": _number(row["latitude"]),
        "longitude": _number(row["longitude"]),
        "telepon": row["phone"],
        "email": row["email"],
        "kepala": row["head_name"],
        "kapasitas": row["capacity"],
        **{header: int(residents.get(key) or 0) for header, key in RESIDENT_COLUMNS.items()},
        "pengasuh": row["staff_caregivers"],
        "pekerja_sosial": row["staff_social_workers"],
        "staf_lain": row["staff_other"],
        "layanan": ", ".join(row.get("services") or []),
        "status_registrasi": status,
        "nomor_tanda_daftar": row.get("certificate_number") or "",
        "berlaku_sampai": row.get("valid_until"),
        "status_akreditasi": accreditation,
        "peringkat_akreditasi": row.get("accreditation_grade") or "",
        "risiko": risk,
        "insiden_terbuka": "ya" if row.get("open_incident") else "tidak",
    }
    return [values[h] for h in HEADERS]


def _csv_text(header: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if not BY_HEADER[header].plain and text.startswith(_FORMULA_START):
        return "'" + text  # a spreadsheet program must not run it as a formula
    return text


def export_filename(extension: str, *, now: datetime) -> str:
    return f"lks-{now.astimezone(WIB).date().isoformat()}.{extension}"


async def _record_export(actor: Actor, file_format: str, flt: LksFilter, sort: str, now: datetime) -> None:
    await audit.record(actor, "lks.export", "lks", "", now=now, after={"format": file_format, "filter": flt.as_query(), "sort": sort})


async def export_csv(actor: Actor, flt: LksFilter, sort: str = "name", *, now: datetime) -> AsyncIterator[bytes]:
    """Every LKS matching ``flt`` as CSV (UTF-8 with BOM, comma-separated),
    an async iterator of encoded chunks read from the database in batches."""
    _ensure_staff(actor)
    names = await _names()
    await _record_export(actor, "csv", flt, sort, now)

    async def chunks() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write("\ufeff")
        writer.writerow(HEADERS)
        async for row in services.iter_lks(actor, flt, sort=sort):
            writer.writerow([_csv_text(h, v) for h, v in zip(HEADERS, export_values(row, names), strict=True)])
            if buffer.tell() >= CHUNK:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode("utf-8")

    return chunks()


def _xlsx_cells(sheet, values: list[Any]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell

    out = []
    for value in values:
        if isinstance(value, date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = "yyyy-mm-dd"
            out.append(cell)
        elif isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text, never a formula
            out.append(cell)
        else:
            out.append(None if value == "" else value)
    return out


def _xlsx_header(sheet, headers: tuple[str, ...]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _append_rows(sheet, rows: list[list[Any]]) -> None:
    for values in rows:
        sheet.append(_xlsx_cells(sheet, values))


async def _stream_file(fh) -> AsyncIterator[bytes]:
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(fh.read, CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        fh.close()


async def export_xlsx(actor: Actor, flt: LksFilter, sort: str = "name", *, now: datetime) -> AsyncIterator[bytes]:
    """Every LKS matching ``flt`` as an XLSX workbook: written row by row
    (openpyxl's write-only mode) into a temporary file, then streamed."""
    from openpyxl import Workbook

    _ensure_staff(actor)
    names = await _names()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("LKS")
    sheet.freeze_panes = "A2"
    sheet.append(_xlsx_header(sheet, HEADERS))
    batch: list[list[Any]] = []
    async for row in services.iter_lks(actor, flt, sort=sort):
        batch.append(export_values(row, names))
        if len(batch) >= 500:
            await anyio.to_thread.run_sync(_append_rows, sheet, batch)
            batch = []
    await anyio.to_thread.run_sync(_append_rows, sheet, batch)
    fh = tempfile.TemporaryFile()  # no name: nothing to clean up whatever happens
    try:
        await anyio.to_thread.run_sync(workbook.save, fh)
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    await _record_export(actor, "xlsx", flt, sort, now)
    return _stream_file(fh)


async def template_xlsx() -> bytes:
    """An empty import sheet with one example row, and sheets listing the
    columns, the kelurahan codes and the services."""
    from openpyxl import Workbook

    places = await _Places.load()
    first = next(iter(sorted(places.village_names)), "")
    box = regions.bounding_box(get_settings().region)
    example = {
        "nama": "Panti Asuhan Contoh Kasih",
        "jenis": "LKSA",
        "badan_hukum": "ya",
        "nama_yayasan": "Yayasan Contoh Kasih",
        "nomor_akta": "12",
        "tanggal_akta": date(2015, 3, 12),
        "nomor_sk_kemenkumham": "AHU-0012345.AH.01.04.Tahun 2015",
        "npwp": "012345678901000",
        "alamat": "Jl. Contoh No. 1",
        "rt": "001",
        "rw": "002",
        "kode_kelurahan": first,
        "kelurahan": places.village_names.get(first, ""),
        "kecamatan": places.district_names.get(places.village_district.get(first, ""), ""),
        "latitude": round((box.min_lat + box.max_lat) / 2, 4) if box else None,
        "longitude": round((box.min_lon + box.max_lon) / 2, 4) if box else None,
        "telepon": "021-5551234",
        "email": "pengurus@contoh.or.id",
        "kepala": "Siti Contoh",
        "kapasitas": 30,
        "penghuni_l_6_12": 8,
        "penghuni_p_6_12": 7,
        "penghuni_l_13_17": 5,
        "penghuni_p_13_17": 6,
        "pengasuh": 4,
        "pekerja_sosial": 1,
        "staf_lain": 2,
        "layanan": "residential_care, education",
    }

    def build() -> bytes:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("LKS")
        sheet.freeze_panes = "A2"
        sheet.append(_xlsx_header(sheet, TEMPLATE_HEADERS))
        sheet.append(_xlsx_cells(sheet, [example.get(h, 0 if h in RESIDENT_COLUMNS else "") for h in TEMPLATE_HEADERS]))
        help_sheet = workbook.create_sheet("Petunjuk")
        help_sheet.append(_xlsx_header(help_sheet, ("kolom", "keterangan")))
        for header in TEMPLATE_HEADERS:
            help_sheet.append([header, _(BY_HEADER[header].help)])
        places_sheet = workbook.create_sheet("Kelurahan")
        places_sheet.append(_xlsx_header(places_sheet, ("kode_kelurahan", "kelurahan", "kecamatan")))
        for code, name in sorted(places.village_names.items()):
            places_sheet.append([code, name, places.district_names.get(places.village_district[code], "")])
        services_sheet = workbook.create_sheet("Layanan")
        services_sheet.append(_xlsx_header(services_sheet, ("kode", "layanan")))
        for code, label in services.SERVICES.items():
            services_sheet.append([code, _(label)])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    return await anyio.to_thread.run_sync(build)


# What the report pages call each outcome, before and after the commit.
PLANNED_LABELS = {
    CREATE: N_("Will be created"),
    UPDATE: N_("Will be updated"),
    UNCHANGED: N_("No change"),
    REJECTED: N_("Rejected"),
}
DONE_LABELS = {
    CREATE: N_("Created"),
    UPDATE: N_("Updated"),
    UNCHANGED: N_("No change"),
    REJECTED: N_("Rejected (skipped)"),
}
