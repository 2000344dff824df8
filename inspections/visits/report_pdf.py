"""The berita acara kunjungan (PDF, fpdf2, DejaVu for every character
Indonesian names use): kop surat, LKS identity, date and time in WIB, team
and who was present, answers by section, findings, photo thumbnails, the
two signatures, outcome and reviewer. Only for approved reports; always in
Indonesian (a legal record)."""

from __future__ import annotations

import base64
import io

import anyio.to_thread
from PIL import Image

from inspections.findings.services import FINDING_SEVERITY_LABELS, RESPONSIBLE_LABELS
from inspections.visits.report import report_view
from inspections.visits.services import OUTCOME_LABELS
from inspections.visits.tables import VisitStatus
from inspections.visits.validation import SIGNATURE_PREFIX
from registry import regions
from registry.labels import KIND_LABELS
from sigap.audit import Actor
from sigap.errors import Conflict
from sigap.i18n import _, choice_label, format_date, format_datetime, use_locale
from sigap.pdf import OfficialDocument
from sigap.storage import Storage, StorageError

MAX_THUMBNAILS = 24
THUMB_PX = 360
THUMB_MM = 42


class BeritaAcara(OfficialDocument):
    def __init__(self) -> None:
        super().__init__()
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.cell(0, 5, f"Halaman {self.page_no()}/{{nb}}", align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("DejaVu", "B", 11)
        self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font("DejaVu", "", 9.5)

    def row(self, label: str, value: str, width: float = 46) -> None:
        self.set_font("DejaVu", "B", 9.5)
        self.cell(width, 5.5, label)
        self.set_font("DejaVu", "", 9.5)
        self.multi_cell(0, 5.5, f": {value}", new_x="LMARGIN", new_y="NEXT")


def _kop(pdf: BeritaAcara, region_name: str) -> None:
    pdf.kop_surat(region_name)
    pdf.ln(7)
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 7, "BERITA ACARA KUNJUNGAN", align="C", new_x="LMARGIN", new_y="NEXT")


def _identity(pdf: BeritaAcara, view: dict) -> None:
    visit, lks, places = view["visit"], view["lks"], view["places"]
    pdf.set_font("DejaVu", "", 9.5)
    pdf.cell(0, 5, f"Nomor laporan: {visit['id']} · Daftar periksa: {view['checklist_title']} (versi {view['checklist']['version']})",
             align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.heading("A. Identitas LKS dan kunjungan")
    pdf.row("Nama LKS", lks["name"])
    pdf.row("Jenis", choice_label(KIND_LABELS, lks["kind"]))
    pdf.row("Alamat", f"{lks['address']}, RT {lks['rt'] or '-'} / RW {lks['rw'] or '-'}")
    pdf.row("Kelurahan / Kecamatan", f"{places.get(lks['kelurahan_code'], '')} / {places.get(lks['kecamatan_code'], '')}")
    pdf.row("Pimpinan LKS", lks["head_name"] or "-")
    pdf.row("Waktu mulai", format_datetime(visit["started_at"], "long") if visit["started_at"] else "-")
    pdf.row("Waktu laporan", format_datetime(visit["submitted_at"], "long"))
    pdf.row("Pemberitahuan", "Diberitahukan lebih dulu" if visit["announced"] else "Tanpa pemberitahuan")
    distance = f"{visit['distance_m']} m dari titik terdaftar" if visit["distance_m"] is not None else "tidak tercatat"
    if visit["far_start"]:
        distance += " (JAUH dari titik terdaftar)"
    pdf.row("Posisi awal", distance)
    pdf.row("Tim", visit["team_name"] or "-")


def _present(pdf: BeritaAcara, view: dict) -> None:
    pdf.heading("B. Yang hadir")
    for person in view["visit"]["present"]:
        agency = f" ({person['agency']})" if person.get("agency") else ""
        pdf.multi_cell(0, 5.5, f"• {person['name']}{agency} — {view['present_label'](person['kind'])}", new_x="LMARGIN", new_y="NEXT")
    counts = ", ".join(f"{r['label']}: L {r['male']} / P {r['female']}" for r in view["residents"])
    pdf.multi_cell(0, 5.5, f"Penerima manfaat yang hadir ({view['residents_total']} orang): {counts}", new_x="LMARGIN", new_y="NEXT")


def _answers(pdf: BeritaAcara, view: dict) -> None:
    pdf.heading("C. Hasil pemeriksaan")
    for section in view["sections"]:
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.multi_cell(0, 6, f"{section['code']}. {section['title']}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        for item in section["items"]:
            _item(pdf, item)


def _item(pdf: BeritaAcara, item: dict) -> None:
    """One question: its code, its text (key items marked) and the answer
    (bold when a key item is answered "no")."""
    if pdf.get_y() + 12 > pdf.page_break_trigger:
        pdf.add_page()
    left, top = pdf.l_margin, pdf.get_y()
    pdf.set_font("DejaVu", "", 9)
    pdf.set_xy(left + 14, top)
    pdf.multi_cell(120, 5, item["text"] + (" [butir kunci]" if item["key"] else ""), align="L", new_x="LMARGIN", new_y="NEXT")
    bottom = pdf.get_y()
    pdf.set_xy(left, top)
    pdf.cell(14, 5, item["code"])
    pdf.set_xy(left + 136, top)
    pdf.set_font("DejaVu", "B" if item["flagged"] else "", 9)
    pdf.multi_cell(0, 5, item["answer"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(bottom, pdf.get_y()) + 0.8)


def _findings(pdf: BeritaAcara, view: dict) -> None:
    pdf.heading("D. Temuan dan tindak lanjut")
    if not view["findings"]:
        pdf.multi_cell(0, 5.5, "Tidak ada temuan.", new_x="LMARGIN", new_y="NEXT")
    for number, finding in enumerate(view["findings"], start=1):
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.multi_cell(
            0, 5.5, f"{number}. Butir {finding['question_code']} · {choice_label(FINDING_SEVERITY_LABELS, finding['severity'])}",
            new_x="LMARGIN", new_y="NEXT",
        )
        pdf.set_font("DejaVu", "", 9.5)
        pdf.multi_cell(0, 5.5, f"Temuan: {finding['description']}", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 5.5, f"Tindakan perbaikan: {finding['corrective_action']}", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(
            0, 5.5, f"Batas waktu: {format_date(finding['due_on'])} · Pelaksana: {choice_label(RESPONSIBLE_LABELS, finding['responsible'])}",
            new_x="LMARGIN", new_y="NEXT",
        )


def _thumbnails(pdf: BeritaAcara, thumbs: list[tuple[str, io.BytesIO]]) -> None:
    if not thumbs:
        return
    if pdf.get_y() + THUMB_MM + 16 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.heading("E. Foto")
    x0, per_row = pdf.l_margin, 4
    for index, (caption, image) in enumerate(thumbs):
        if index % per_row == 0:
            if pdf.get_y() + THUMB_MM + 8 > pdf.page_break_trigger:
                pdf.add_page()
            top = pdf.get_y()
        x = x0 + (index % per_row) * (THUMB_MM + 2)
        pdf.image(image, x=x, y=top, w=THUMB_MM, h=THUMB_MM * 0.75, keep_aspect_ratio=True)
        pdf.set_xy(x, top + THUMB_MM * 0.75 + 0.5)
        pdf.set_font("DejaVu", "", 7.5)
        pdf.cell(THUMB_MM, 4, caption)
        if index % per_row == per_row - 1 or index == len(thumbs) - 1:
            pdf.set_xy(x0, top + THUMB_MM * 0.75 + 6)


def _closing(pdf: BeritaAcara, view: dict, signatures: dict[str, io.BytesIO]) -> None:
    visit = view["visit"]
    pdf.heading("F. Kesimpulan")
    pdf.row("Hasil kunjungan", choice_label(OUTCOME_LABELS, visit["outcome"]))
    if visit["summary"]:
        pdf.multi_cell(0, 5.5, f"Ringkasan: {visit['summary']}", new_x="LMARGIN", new_y="NEXT")
    pdf.row("Disetujui oleh", f"{visit['reviewed_by_name'] or '-'}, {format_datetime(visit['reviewed_at'], 'long')}")
    if pdf.get_y() + 48 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(4)
    top = pdf.get_y()
    heads = {"lead": "Ketua tim", "lks_head": "Pimpinan LKS"}
    names = {
        "lead": next((p["name"] for p in visit["present"] if p["kind"] == "member"), visit["filed_by_name"] or ""),
        "lks_head": next((p["name"] for p in visit["present"] if p["kind"] == "lks_head"), view["lks"]["head_name"] or ""),
    }
    for column, who in enumerate(("lead", "lks_head")):
        x = 24 + column * 90
        pdf.set_xy(x, top)
        pdf.set_font("DejaVu", "", 9.5)
        pdf.cell(70, 5, heads[who], align="C")
        if who in signatures:
            pdf.image(signatures[who], x=x + 10, y=top + 6, w=50, h=22, keep_aspect_ratio=True)
        else:
            pdf.set_xy(x, top + 14)
            pdf.cell(70, 5, "(tidak menandatangani)", align="C")
        pdf.set_xy(x, top + 30)
        pdf.cell(70, 5, names[who] or "……………………", align="C")


def _render(view: dict, region_name: str, thumbs: list[tuple[str, io.BytesIO]], signatures: dict[str, io.BytesIO]) -> bytes:
    pdf = BeritaAcara()
    pdf.set_title(f"Berita Acara Kunjungan {view['lks']['name']}")
    pdf.set_author(f"Dinas Sosial {region_name}")
    pdf.add_page()
    _kop(pdf, region_name)
    _identity(pdf, view)
    _present(pdf, view)
    _answers(pdf, view)
    _findings(pdf, view)
    _thumbnails(pdf, thumbs)
    _closing(pdf, view, signatures)
    return bytes(pdf.output())


def _thumbnail(raw: bytes) -> io.BytesIO:
    image = Image.open(io.BytesIO(raw))
    image.thumbnail((THUMB_PX, THUMB_PX))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=80)
    out.seek(0)
    return out


async def _photo_thumbnails(photos: list[dict], storage: Storage) -> list[tuple[str, io.BytesIO]]:
    """Small copies of the report's photos (a missing one is left out)."""
    thumbs = []
    for photo in photos[:MAX_THUMBNAILS]:
        try:
            reader = await storage.open(photo["storage_key"])
            raw = await anyio.to_thread.run_sync(reader.read)
            reader.close()
        except StorageError:
            continue
        caption = f"Butir {photo['question_code']}" if photo["question_code"] else "Foto"
        thumbs.append((caption, await anyio.to_thread.run_sync(_thumbnail, raw)))
    return thumbs


def _signature_images(signatures: dict) -> dict[str, io.BytesIO]:
    return {who: io.BytesIO(base64.b64decode(url[len(SIGNATURE_PREFIX):])) for who, url in signatures.items()}


async def report_pdf(actor: Actor, visit_id: int, *, storage: Storage, region: str) -> bytes:
    """The berita acara of an approved report the actor may read."""
    with use_locale("id"):
        view = await report_view(actor, visit_id)
        if view["visit"]["status"] != VisitStatus.approved.value:
            raise Conflict(_("The berita acara exists only for an approved report."))
        names = await regions.region_names({region})
        thumbs = await _photo_thumbnails(view["photos"], storage)
        return await anyio.to_thread.run_sync(_render, view, names.get(region, region), thumbs, _signature_images(view["visit"]["signatures"]))
