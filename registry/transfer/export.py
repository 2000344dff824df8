"""Writing the register as a spreadsheet: one LKS as the values of the
columns, a CSV streamed in chunks, an XLSX written row by row into a
temporary file and streamed, and the import template with its example row.
Text a spreadsheet program would run as a formula is written as text."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from datetime import date, datetime
from typing import Any

import anyio.to_thread

from registry import regions, services
from registry.labels import ACCREDITATION_LABELS, RISK_LABELS, STATUS_LABELS
from registry.regions import BoundingBox
from registry.transfer.columns import (
    BY_HEADER,
    HEADERS,
    KIND_WORDS,
    RESIDENT_COLUMNS,
    TEMPLATE_HEADERS,
)
from registry.transfer.places import Places
from sigap.i18n import WIB, _, choice_label, use_locale

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024
XLSX_BATCH = 500  # rows handed to the writer thread at a time
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def place_names(region: str) -> dict[str, str]:
    """Kelurahan and kecamatan names of the region, by code."""
    out = {v["code"]: v["name"] for v in await regions.villages(region)}
    out.update({d["code"]: d["name"] for d in await regions.districts(region)})
    return out


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def export_values(row: dict, names: dict[str, str]) -> list[Any]:
    """One LKS as the values of :data:`HEADERS` (dates as date objects)."""
    residents = row.get("residents") or {}
    with use_locale("id"):
        status = choice_label(STATUS_LABELS, row.get("registration_status"))
        accreditation = choice_label(ACCREDITATION_LABELS, row.get("accreditation_status"))
        risk = choice_label(RISK_LABELS, row["risk_level"]) if row.get("risk_level") else ""
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


async def csv_chunks(rows: AsyncIterable[dict], names: dict[str, str]) -> AsyncIterator[bytes]:
    """The rows as CSV (UTF-8 with BOM, comma-separated), in encoded chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(HEADERS)
    async for row in rows:
        writer.writerow([_csv_text(h, v) for h, v in zip(HEADERS, export_values(row, names), strict=True)])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _xlsx_cells(sheet, values: list[Any]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = []
    for value in values:
        if isinstance(value, str):
            # Input refuses control characters; rows stored before that rule
            # (or by hand) must still not break the office's whole export.
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
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


async def write_xlsx(rows: AsyncIterable[dict], names: dict[str, str]) -> AsyncIterator[bytes]:
    """The rows as an XLSX workbook: written row by row (openpyxl's
    write-only mode) into a temporary file, then streamed from it. Returns
    once the file is complete, so a failure is an error, not a broken download."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("LKS")
    sheet.freeze_panes = "A2"
    sheet.append(_xlsx_header(sheet, HEADERS))
    batch: list[list[Any]] = []
    async for row in rows:
        batch.append(export_values(row, names))
        if len(batch) >= XLSX_BATCH:
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
    return _stream_file(fh)


def template_workbook(places: Places, box: BoundingBox | None) -> bytes:
    """An empty import sheet with one example row, and sheets listing the
    columns, the kelurahan codes and the services (blocking)."""
    from openpyxl import Workbook

    first = next(iter(sorted(places.village_names)), "")
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
