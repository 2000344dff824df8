"""The printable Tanda Daftar LKS (PDF), made with fpdf2."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import anyio.to_thread
import segno
from fpdf import FPDF

from registry import regions
from registry.labels import KIND_LABELS
from registry.public.services import code_for_certificate, display_code
from registry.tables import RegistrationStatus
from sigap.errors import Conflict
from sigap.i18n import _, choice_label, format_date, use_locale
from sigap.settings import get_settings


def _check_block(pdf: FPDF, code: str, base_url: str) -> None:
    """The QR code (the check page's address) and, under it, the short code
    to type at ``/verify`` when there is nothing to scan with."""
    url = f"{base_url}/verify/{code}"
    png = io.BytesIO()
    segno.make(url, error="m").save(png, kind="png", scale=8, border=4)
    png.seek(0)
    pdf.image(png, x=26, y=214, w=36, h=36)
    pdf.set_xy(28, 251)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(80, 6, f"Kode cek: {display_code(code)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(28)
    pdf.set_font("Helvetica", "", 8)
    pdf.cell(90, 5, url, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(28)
    pdf.cell(90, 5, f"atau buka {base_url}/verify dan ketik kodenya", new_x="LMARGIN", new_y="NEXT")


def _render(lks: dict, names: dict[str, str], region_name: str, code: str, base_url: str) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"Tanda Daftar LKS {lks['certificate_number']}")
    pdf.set_author(f"Dinas Sosial {region_name}")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_line_width(0.8)
    pdf.rect(12, 12, 186, 273)
    pdf.set_line_width(0.2)
    pdf.rect(14, 14, 182, 269)

    pdf.set_y(28)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, f"PEMERINTAH {region_name.upper()}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, "DINAS SOSIAL", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, "TANDA DAFTAR", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 10, "LEMBAGA KESEJAHTERAAN SOSIAL", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 8, f"Nomor: {lks['certificate_number']}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)

    rows = [
        ("Nama LKS", lks["name"]),
        ("Jenis", choice_label(KIND_LABELS, lks["kind"])),
        ("Penyelenggara", lks["yayasan_name"] if lks["legal_entity"] else "Bukan badan hukum"),
        ("Alamat", lks["address"]),
        ("RT / RW", f"{lks['rt'] or '-'} / {lks['rw'] or '-'}"),
        ("Kelurahan", names.get(lks["kelurahan_code"], lks["kelurahan_code"])),
        ("Kecamatan", names.get(lks["kecamatan_code"], lks["kecamatan_code"])),
        ("Ketua / pimpinan", lks["head_name"] or "-"),
        ("Tanggal terbit", format_date(lks["registered_on"])),
        ("Berlaku sampai", format_date(lks["valid_until"])),
    ]
    pdf.set_left_margin(28)
    for key, value in rows:
        pdf.set_x(28)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(48, 8, key)
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(126, 8, f": {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_x(28)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        154,
        6,
        "Tanda Daftar ini diterbitkan berdasarkan Peraturan Menteri Sosial Nomor 5 Tahun 2024 dan wajib "
        "diperbarui sebelum masa berlakunya berakhir. Keaslian dan masa berlakunya dapat diperiksa siapa pun "
        "dengan memindai kode QR di bawah ini atau mengetik kode ceknya.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_y(228)
    pdf.set_x(118)
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(70, 6, f"{region_name}, {format_date(lks['registered_on'])}\nKepala Dinas Sosial", align="C")
    _check_block(pdf, code, base_url)
    return bytes(pdf.output())


async def certificate_pdf(lks: dict, region: str, *, now: datetime | None = None) -> bytes:
    if lks["registration_status"] not in (RegistrationStatus.registered.value, RegistrationStatus.suspended.value) or not lks["certificate_number"]:
        raise Conflict(_("A Tanda Daftar exists only for a registered LKS."))
    names = await regions.region_names({lks["kelurahan_code"], lks["kecamatan_code"], region})
    code = await code_for_certificate(lks, now=now or datetime.now(timezone.utc))
    base_url = get_settings().base_url
    with use_locale("id"):  # the certificate is an Indonesian legal document
        return await anyio.to_thread.run_sync(_render, lks, names, names.get(region, region), code, base_url)
