"""The recommendation letter (PDF, fpdf2, DejaVu for every character
Indonesian names use): kop surat of the Dinas Sosial, number, the LKS's
identity and registration, the reviewed self-assessment per aspect, and the
recommendation to BALKS. Always in Indonesian (an official letter); only
for a recommended self-assessment."""

from __future__ import annotations

import anyio.to_thread

from accreditation.assessments import services
from accreditation.instruments.services import text_in
from registry import regions
from registry.labels import KIND_LABELS
from registry.tables import Lks
from sigap.audit import Actor
from sigap.errors import Conflict
from sigap.i18n import _, choice_label, format_date, to_wib, use_locale
from sigap.pdf import OfficialDocument

def _decimal(value: float | None) -> str:
    """One decimal with the Indonesian decimal comma."""
    return "-" if value is None else f"{value:.1f}".replace(".", ",")


class Letter(OfficialDocument):
    def __init__(self) -> None:
        super().__init__()
        self.set_margins(22, 16, 20)
        self.set_auto_page_break(True, margin=18)

    def row(self, label: str, value: str, width: float = 48) -> None:
        self.set_font("DejaVu", "", 10.5)
        self.cell(width, 6, label)
        self.multi_cell(0, 6, f": {value}", new_x="LMARGIN", new_y="NEXT")

    def para(self, text: str) -> None:
        self.set_font("DejaVu", "", 10.5)
        self.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)


def _render(a: dict, lks: dict, names: dict[str, str], region_name: str) -> bytes:
    pdf = Letter()
    pdf.set_title(f"Surat Rekomendasi Akreditasi {a['letter_number']}")
    pdf.set_author(f"Dinas Sosial {region_name}")
    pdf.add_page()
    pdf.kop_surat(region_name)
    pdf.ln(9)
    issued = to_wib(a["recommended_at"]).date()
    pdf.set_font("DejaVu", "", 10.5)
    pdf.cell(0, 6, f"{region_name}, {format_date(issued)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.row("Nomor", a["letter_number"], 24)
    pdf.row("Lampiran", "1 (satu) berkas penilaian mandiri", 24)
    pdf.row("Perihal", "Rekomendasi Akreditasi Lembaga Kesejahteraan Sosial", 24)
    pdf.ln(4)
    pdf.para("Yth. Ketua Badan Akreditasi Lembaga Kesejahteraan Sosial (BALKS)\ndi tempat")
    pdf.para(
        "Berdasarkan Peraturan Menteri Sosial Nomor 8 Tahun 2025 tentang Akreditasi Lembaga Kesejahteraan Sosial, "
        "dan setelah memeriksa berkas penilaian mandiri beserta bukti pendukungnya, Dinas Sosial "
        f"{region_name} merekomendasikan lembaga berikut untuk diakreditasi:"
    )
    pdf.row("Nama LKS", lks["name"])
    pdf.row("Jenis", choice_label(KIND_LABELS, lks["kind"]))
    pdf.row("Penyelenggara", lks["yayasan_name"] if lks["legal_entity"] else "Bukan badan hukum")
    pdf.row("Alamat", lks["address"] or "-")
    pdf.row("Kelurahan / Kecamatan", f"{names.get(lks['kelurahan_code'], lks['kelurahan_code'])} / "
            f"{names.get(lks['kecamatan_code'], lks['kecamatan_code'])}")
    if lks["certificate_number"]:
        pdf.row("Tanda Daftar LKS", f"{lks['certificate_number']}, berlaku sampai {format_date(lks['valid_until'])}")
    pdf.ln(3)
    pdf.para("Ringkasan hasil penilaian mandiri yang telah diperiksa:")
    result = a["result"]
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(110, 7, "Aspek", border=1)
    pdf.cell(22, 7, "Bobot", border=1, align="C")
    pdf.cell(36, 7, "Nilai (0–100)", border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    for aspect in result.aspects:
        pdf.cell(110, 7, text_in(aspect.title, "id"), border=1)
        pdf.cell(22, 7, str(aspect.weight), border=1, align="C")
        pdf.cell(36, 7, _decimal(aspect.display), border=1, align="C",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(132, 7, "Nilai keseluruhan", border=1)
    pdf.cell(36, 7, _decimal(result.display), border=1, align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.para(
        "Nilai di atas adalah hasil penilaian mandiri lembaga menurut instrumen persiapan SIGAP (versi "
        f"{a['instrument_row']['version']}) dan bukan peringkat akreditasi; peringkat ditetapkan oleh BALKS "
        "setelah visitasi asesor. Demikian rekomendasi ini disampaikan untuk dipergunakan sebagaimana mestinya."
    )
    pdf.ln(8)
    pdf.set_x(118)
    pdf.multi_cell(70, 6, f"Kepala Dinas Sosial\n{region_name}\n\n\n\n(..............................)", align="C")
    return bytes(pdf.output())


async def recommendation_pdf(actor: Actor, assessment_id: int, region: str) -> tuple[bytes, str]:
    """The letter and its file name; only once the recommendation is issued."""
    a = await services.detail(actor, assessment_id)
    if a["status"] != "recommended" or not a["letter_number"]:
        raise Conflict(_("The recommendation letter exists once Dinas Sosial has recommended this LKS."))
    lks = await Lks.select().where(Lks.id == a["lks"]).first()
    names = await regions.region_names({lks["kelurahan_code"], lks["kecamatan_code"], region})
    with use_locale("id"):
        pdf = await anyio.to_thread.run_sync(_render, a, lks, names, names.get(region, region))
    return pdf, f"rekomendasi-akreditasi-{a['lks']}-{a['id']}.pdf"
