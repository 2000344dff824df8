"""Reading an uploaded spreadsheet: CSV (UTF-8, comma, semicolon or tab)
or XLSX (the first sheet), told apart by the content, never the file name.
Row 1 holds the column names; every refusal names the file's problem in
words the office can act on."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

import anyio.to_thread

from registry.transfer.columns import BY_HEADER, KELURAHAN_HEADERS
from sigap.errors import DomainError, ValidationError
from sigap.i18n import _

MAX_ROWS = 20_000
MAX_COLUMNS = 200


@dataclass
class Table:
    file_format: str
    headers: list[str]  # normalized; "" for a column without a header
    rows: list[tuple[int, dict[str, str]]]  # (row number, header → cell text)


def file_error(message: str) -> ValidationError:
    return ValidationError(message, fields={"file": message})


def detect_format(content: bytes) -> str:
    """"xlsx" or "csv", from the content (never the file name)."""
    if not content:
        raise file_error(_("The file is empty."))
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise file_error(_("This file is neither a CSV nor an XLSX spreadsheet. Save it as .xlsx or as CSV (UTF-8) and upload it again."))
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise file_error(_("This is an old Excel file (.xls). Save it as .xlsx or as CSV (UTF-8) and upload it again."))
    head = content[:4096]
    binary_signatures = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
    if head.startswith(binary_signatures) or b"\x00" in head:
        raise file_error(_("This file is neither a CSV nor an XLSX spreadsheet. Save it as .xlsx or as CSV (UTF-8) and upload it again."))
    return "csv"


def _header_key(value: Any) -> str:
    text = str(value if value is not None else "").replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def _check_headers(headers: list[str]) -> None:
    named = [h for h in headers if h]
    if not named:
        raise file_error(_("The file has no header row. Row 1 must hold the column names of the template."))
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
        raise file_error(message)


def _too_many_rows() -> ValidationError:
    return file_error(_("The file has more than %(n)s data rows. Split it into smaller files.", n=f"{MAX_ROWS:,}".replace(",", ".")))


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
        raise file_error(
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
        raise file_error(_("This file is neither a CSV nor an XLSX spreadsheet. Save it as .xlsx or as CSV (UTF-8) and upload it again.")) from None
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
        raise file_error(_("This XLSX file cannot be read: it may be damaged or protected with a password.")) from None
    try:
        if not workbook.worksheets:
            raise file_error(_("The file has no header row. Row 1 must hold the column names of the template."))
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
        raise file_error(_("This XLSX file cannot be read: it may be damaged or protected with a password.")) from None
    finally:
        workbook.close()
    return Table("xlsx", headers, rows)


def read_table(content: bytes) -> Table:
    """Parse a CSV or XLSX file (blocking: call it in a thread)."""
    kind = detect_format(content)
    return _read_xlsx(content) if kind == "xlsx" else _read_csv(content)


def read_limited(fileobj: BinaryIO, max_bytes: int) -> bytes:
    content = fileobj.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise file_error(_("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    return content


async def read_file(fileobj: BinaryIO, max_bytes: int) -> Table:
    """Read and parse a file object in worker threads (a storage reader, too)."""
    content = await anyio.to_thread.run_sync(read_limited, fileobj, max_bytes)
    return await anyio.to_thread.run_sync(read_table, content)
