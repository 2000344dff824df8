"""Reading an uploaded spreadsheet: CSV (UTF-8 or Windows-1252; comma,
semicolon or tab) or XLSX (the first sheet), told apart by the content,
never the file name. The header row is found by itself below any title
rows (``office.find_header``); a *mapping* (sheet header → import field)
says which column fills which field. Every refusal names the file's
problem in words the office can act on; a cell longer than
:data:`MAX_CELL` is cut and its row rejected, never echoed whole."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

import anyio.to_thread
from openpyxl.utils import get_column_letter

from registry.transfer import office
from registry.transfer.columns import KELURAHAN_HEADERS, READ_ONLY_HEADERS
from sigap.errors import DomainError, ValidationError
from sigap.i18n import _

MAX_ROWS = 20_000
MAX_COLUMNS = 200
MAX_CELL = 1_000  # characters kept of one cell; a longer one rejects its row
MAX_XLSX_UNPACKED = 80 * 1024 * 1024  # what an XLSX may unpack to (a 100 MB cell compresses to little)
REQUIRED = ("nama", "jenis")


@dataclass
class Sheet:
    """The cells of a file, before the header is known."""

    file_format: str
    rows: list[tuple[int, list[Any]]]  # (row number, cell values), up to the last written row
    long_cells: dict[tuple[int, int], int] = field(default_factory=dict)  # (row, column index) → characters

    def header_index(self) -> int:
        return office.find_header([[_plain(v) for v in cells] for _n, cells in self.rows[: office.HEADER_SCAN_ROWS]])

    def headers(self) -> tuple[int, list[str]]:
        """(sheet row number of the header, its cells as text)."""
        if not self.rows:
            raise file_error(_("The file has no header row. Row 1 must hold the column names of the template."))
        index = self.header_index()
        number, cells = self.rows[index]
        texts = [" ".join(_plain(c).split()) for c in cells[:MAX_COLUMNS]]
        while texts and not texts[-1]:
            texts.pop()
        return number, texts


@dataclass
class Table:
    file_format: str
    headers: list[str]  # the field each column fills; "" for a column not imported
    rows: list[tuple[int, dict[str, str]]]  # (row number, field → cell text)
    header_row: int = 1
    source_headers: list[str] = field(default_factory=list)  # the sheet's own header texts
    mapping: dict[str, str] = field(default_factory=dict)  # sheet header → field ("" = not imported)
    letters: dict[str, str] = field(default_factory=dict)  # field → column letter
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row number, why)
    long_cells: dict[tuple[int, str], int] = field(default_factory=dict)  # (row, field) → characters

    def cell(self, row: int, name: str) -> str:
        """``L11``: the cell of a field on a row ("" when the field has no column)."""
        letter = self.letters.get(name)
        return f"{letter}{row}" if letter else ""


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
                    if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                        raise file_error(
                            _(
                                "This XLSX file unpacks to more than %(mb)s MB: a cell holds far more text than a register needs. Remove it and upload the file again.",
                                mb=MAX_XLSX_UNPACKED // (1024 * 1024),
                            )
                        )
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


def _plain(value: Any) -> str:
    return str(value if value is not None else "").replace("\ufeff", "").strip()


def _too_many_rows() -> ValidationError:
    return file_error(_("The file has more than %(n)s data rows. Split it into smaller files.", n=f"{MAX_ROWS:,}".replace(",", ".")))


def _unescape(text: str) -> str:
    # Our CSV export writes a leading apostrophe before text that a
    # spreadsheet program would take for a formula.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def _capped(values: list[Any], number: int, long_cells: dict[tuple[int, int], int]) -> list[Any]:
    out = []
    for index, value in enumerate(values[:MAX_COLUMNS]):
        if isinstance(value, str) and len(value) > MAX_CELL:
            long_cells[(number, index)] = len(value)
            value = value[:MAX_CELL]
        out.append(value)
    return out


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")  # "CSV" as Excel saves it on an Indonesian Windows
    except UnicodeDecodeError:
        raise file_error(
            _("This CSV file is not in UTF-8. Save it again choosing “CSV UTF-8” in your spreadsheet program, then upload it.")
        ) from None


def _read_csv(content: bytes) -> Sheet:
    text = _decode(content)
    sample = text[:65536].splitlines()[: office.HEADER_SCAN_ROWS]
    delimiter = max((",", ";", "\t"), key=lambda d: sum(line.count(d) for line in sample))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    sheet = Sheet("csv", [])
    try:
        for number, record in enumerate(reader, start=1):
            if len(sheet.rows) > MAX_ROWS + office.HEADER_SCAN_ROWS:
                raise _too_many_rows()
            sheet.rows.append((number, _capped([_unescape(c.strip()) for c in record], number, sheet.long_cells)))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise file_error(
                _(
                    "Row %(row)s holds a cell with far more text than a register needs (more than %(n)s characters). Shorten it and upload the file again.",
                    row=reader.line_num,
                    n=f"{csv.field_size_limit():,}".replace(",", "."),
                )
            ) from None
        raise file_error(_("This file is neither a CSV nor an XLSX spreadsheet. Save it as .xlsx or as CSV (UTF-8) and upload it again.")) from None
    return sheet


def _read_xlsx(content: bytes) -> Sheet:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure to open means "cannot read it"
        raise file_error(_("This XLSX file cannot be read: it may be damaged or protected with a password.")) from None
    sheet = Sheet("xlsx", [])
    try:
        if not workbook.worksheets:
            raise file_error(_("The file has no header row. Row 1 must hold the column names of the template."))
        for number, record in enumerate(workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if len(sheet.rows) > MAX_ROWS + office.HEADER_SCAN_ROWS:
                raise _too_many_rows()
            values = [v.strip() if isinstance(v, str) else v for v in record]
            sheet.rows.append((number, _capped(values, number, sheet.long_cells)))
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - a malformed sheet
        raise file_error(_("This XLSX file cannot be read: it may be damaged or protected with a password.")) from None
    finally:
        workbook.close()
    while sheet.rows and not any(_plain(v) for v in sheet.rows[-1][1]):
        sheet.rows.pop()
    return sheet


def read_sheet(content: bytes) -> Sheet:
    """Parse a CSV or XLSX file into its cells (blocking: call it in a thread)."""
    return _read_xlsx(content) if detect_format(content) == "xlsx" else _read_csv(content)


def cell_text(name: str, value: Any) -> str:
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
        if name == "npwp" and len(digits) < 15:
            return digits.zfill(15)
        if name == "telepon" and not digits.startswith("62"):
            return "0" + digits
        return digits
    return str(value).strip()


def check_mapping(headers: list[str], mapping: dict[str, str]) -> None:
    """Each field from one column at most; the required fields mapped."""
    fields: dict[str, str] = {}
    problems: dict[str, str] = {}
    for header, target in mapping.items():
        if header not in headers:
            problems[header] = _("There is no column “%(name)s” in this file.", name=header)
        elif target and target not in office.TARGETS:
            problems[header] = _("Unknown field “%(name)s”.", name=target)
        elif target and target in fields:
            problems[header] = _("The field %(field)s is already filled from column “%(column)s”.", field=target, column=fields[target])
        elif target:
            fields[target] = header
    missing = [h for h in REQUIRED if h not in fields]
    if not any(h in fields for h in KELURAHAN_HEADERS):
        missing.append(" / ".join(KELURAHAN_HEADERS))
    message = ""
    if missing:
        message = _("Required columns are missing: %(names)s.", names=", ".join(missing))
        unknown = [h for h in headers if h and not mapping.get(h)]
        if unknown:
            message += " " + _("Unknown columns: %(names)s.", names=", ".join(unknown))
        message += " " + _("Choose which column of the file holds each of them.")
        problems.setdefault("mapping", message)
    if problems:
        raise ValidationError(message or _("Please correct the marked fields."), fields=problems)


def to_table(sheet: Sheet, mapping: dict[str, str] | None = None) -> Table:
    """The rows below the header as fields, through ``mapping`` (sheet
    header → field; proposed from the header words when None). Blank and
    totals rows are left out and listed in ``skipped``."""
    header_row, headers = sheet.headers()
    if not any(headers):
        raise file_error(_("The file has no header row. Row 1 must hold the column names of the template."))
    repeated = sorted({h for h in headers if h and headers.count(h) > 1})
    if mapping is None:
        mapping = office.propose(headers)
    mapping = {h: t for h, t in mapping.items() if h}
    if any(mapping.get(h) for h in repeated):
        raise file_error(_("These columns appear more than once: %(names)s.", names=", ".join(repeated)))
    check_mapping(headers, mapping)
    fields = [mapping.get(h, "") if h else "" for h in headers]
    table = Table(sheet.file_format, fields, [], header_row=header_row, source_headers=headers, mapping=mapping)
    table.letters = {f: get_column_letter(i + 1) for i, f in enumerate(fields) if f}
    pending_blank: list[int] = []
    index = next(i for i, (n, _c) in enumerate(sheet.rows) if n == header_row)
    for number, values in sheet.rows[index + 1 :]:
        texts = [cell_text(f, v) for f, v in zip(fields, values, strict=False)]
        if not any(_plain(v) for v in values):
            pending_blank.append(number)
            continue
        table.skipped += [(n, _("Blank row: skipped.")) for n in pending_blank]
        pending_blank = []
        if office.is_total_row([_plain(v) for v in values]):
            table.skipped.append((number, _("Totals row (JUMLAH / TOTAL): skipped.")))
            continue
        if not any(texts):
            table.skipped.append((number, _("Nothing in the imported columns: skipped.")))
            continue
        if len(table.rows) >= MAX_ROWS:
            raise _too_many_rows()
        for (row, col), length in sheet.long_cells.items():
            if row == number and col < len(fields) and fields[col]:
                table.long_cells[(number, fields[col])] = length
        table.rows.append((number, {f: t for f, t in zip(fields, texts, strict=False) if f}))
    return table


def notes(table: Table) -> list[str]:
    """What the report says about the columns themselves."""
    out = []
    ignored = [h for h in table.source_headers if h and not table.mapping.get(h)]
    read_only = [h for h in ignored if h.lower() in READ_ONLY_HEADERS]
    if read_only:
        out.append(_("These columns are for information only and were not imported: %(names)s.", names=", ".join(read_only)))
    others = [h for h in ignored if h.lower() not in READ_ONLY_HEADERS]
    if others:
        out.append(_("These columns were not imported: %(names)s.", names=", ".join(others)))
    if table.header_row != 1:
        out.append(_("The column names were found on row %(row)s; the rows above it were left out.", row=table.header_row))
    return out


def read_table(content: bytes, mapping: dict[str, str] | None = None) -> Table:
    """Parse a CSV or XLSX file (blocking: call it in a thread)."""
    return to_table(read_sheet(content), mapping)


def read_limited(fileobj: BinaryIO, max_bytes: int) -> bytes:
    content = fileobj.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise file_error(_("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    return content


async def read_file(fileobj: BinaryIO, max_bytes: int) -> Sheet:
    """Read and parse a file object in worker threads (a storage reader, too)."""
    content = await anyio.to_thread.run_sync(read_limited, fileobj, max_bytes)
    return await anyio.to_thread.run_sync(read_sheet, content)
