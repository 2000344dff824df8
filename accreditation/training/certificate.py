"""The attendance certificate (sertifikat keikutsertaan) of a training
session, in Indonesian with the Dinas Sosial letterhead (fpdf2, as the
registry's Tanda Daftar)."""

from __future__ import annotations

import anyio.to_thread
from fpdf import FPDF

from accreditation.training.services import ROLE_LABELS, TOPIC_LABELS
from registry import regions
from sigap.i18n import choice_label, format_date, use_locale


def _latin1(text: str) -> str:
    """The core fonts are Latin-1: anything else becomes '?' rather than an error."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _render(row: dict, region_name: str, topic: str, role: str) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(_latin1(f"Sertifikat {row['certificate_number']}"))
    pdf.set_author(_latin1(f"Dinas Sosial {region_name}"))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_line_width(0.8)
    pdf.rect(10, 10, 277, 190)
    pdf.set_line_width(0.2)
    pdf.rect(12, 12, 273, 186)

    pdf.set_y(22)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, _latin1(f"PEMERINTAH {region_name.upper()}"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, "DINAS SOSIAL", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_line_width(0.6)
    pdf.line(40, pdf.get_y() + 2, 257, pdf.get_y() + 2)
    pdf.ln(10)
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(0, 11, "SERTIFIKAT KEIKUTSERTAAN", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, _latin1(f"Nomor: {row['certificate_number']}"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 7, "Diberikan kepada:", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 12, _latin1(row["person_name"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 7, _latin1(f"{role}, {row['lks_name']}"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_x(30)
    pdf.multi_cell(
        237, 7,
        _latin1(
            f"atas keikutsertaannya dalam kegiatan pembinaan \"{row['title']}\" (materi: {topic}) "
            f"yang diselenggarakan oleh Dinas Sosial {region_name} pada tanggal {row['held_on_text']} "
            f"di {row['place']}, dengan narasumber {row['trainer']}."
        ),
        align="C", new_x="LMARGIN", new_y="NEXT",
    )
    pdf.set_y(160)
    pdf.set_x(185)
    pdf.multi_cell(90, 6, _latin1(f"{region_name}, {row['held_on_text']}\nKepala Dinas Sosial"), align="C")
    return bytes(pdf.output())


async def certificate_pdf(row: dict, region: str) -> bytes:
    """``row``: from :func:`accreditation.training.services.attendance_for_certificate`."""
    names = await regions.region_names({region})
    with use_locale("id"):  # an Indonesian document, whatever the reader's language
        topic = choice_label(TOPIC_LABELS, row["topic"])
        role = choice_label(ROLE_LABELS, row["person_role"])
        data = {**row, "held_on_text": format_date(row["held_on"])}
        return await anyio.to_thread.run_sync(_render, data, names.get(region, region), topic, role)
