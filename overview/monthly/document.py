"""The monthly report's files: a PDF (kop surat of the Dinas Sosial, DejaVu,
A4) and an XLSX workbook, built from the kept figures and the previous
month's (for the change). Called inside ``use_locale("id")``: the labels are
English message ids, the documents come out in Indonesian. Counts only."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from sigap.i18n import N_, _, format_date, format_datetime
from sigap.pdf import OfficialDocument

SECTION_TITLES = {
    "snapshot": N_("Situation at the end of the month"),
    "snapshot_later": N_("Situation when the report was made"),
    "registrations": N_("Registration (Tanda Daftar LKS)"),
    "visits": N_("Monitoring visits"),
    "findings": N_("Findings of visits"),
    "incidents": N_("Incidents (numbers only)"),
    "accreditation": N_("Accreditation"),
}
PERIOD_LABELS = {
    "registrations.issued": N_("Tanda Daftar issued"),
    "registrations.issued_new": N_("of which new registrations"),
    "registrations.issued_renewal": N_("of which renewals"),
    "registrations.expired": N_("Registrations expired"),
    "visits.done": N_("Visits done"),
    "visits.overdue": N_("Visits overdue at the end of the month"),
    "findings.opened": N_("Findings recorded"),
    "findings.closed": N_("Findings closed"),
    "incidents.opened": N_("Incidents recorded"),
    "incidents.closed": N_("Incidents closed"),
    "accreditation.started": N_("Accreditation cycles started"),
    "accreditation.recommended": N_("LKS recommended to BALKS"),
    "accreditation.graded": N_("LKS accredited (grade received)"),
    "accreditation.graded_a": N_("of which grade A"),
    "accreditation.graded_b": N_("of which grade B"),
    "accreditation.graded_c": N_("of which grade C"),
    "accreditation.not_accredited": N_("LKS not accredited"),
    "accreditation.expired": N_("Accreditations expired"),
}
# The dashboard's figures the report keeps (``overview.dashboard.services.snapshot``):
# key, label, and the snapshot paths summed for it.
SNAPSHOT_FIGURES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("total_lks", N_("LKS in the register"), ("total_lks",)),
    ("registration.registered", N_("Registered (Tanda Daftar in force)"), ("registration.registered",)),
    ("registration.in_process", N_("Registration in process"),
     ("registration.applied", "registration.document_check", "registration.field_verification")),
    ("registration.suspended", N_("Registration suspended"), ("registration.suspended",)),
    ("registration.expired", N_("Registration expired"), ("registration.expired",)),
    ("registration.unregistered", N_("Not registered"), ("registration.unregistered",)),
    ("accreditation.accredited", N_("Accredited"), ("accreditation.accredited",)),
    ("grades.A", N_("of which grade A"), ("grades.A",)),
    ("grades.B", N_("of which grade B"), ("grades.B",)),
    ("grades.C", N_("of which grade C"), ("grades.C",)),
    ("accreditation.in_process", N_("Accreditation in process"), ("accreditation.in_process",)),
    ("accreditation.expired", N_("Accreditation expired"), ("accreditation.expired",)),
    ("accreditation_progress.percent", N_("Registered LKS accredited (%)"), ("accreditation_progress.percent",)),
    ("accreditation_expiring", N_("Accreditation ending within 6 months"), ("accreditation_expiring",)),
    ("risk.high", N_("High risk"), ("risk.high",)),
    ("risk.medium", N_("Medium risk"), ("risk.medium",)),
    ("open_incidents", N_("Open incidents"), ("open_incidents",)),
    ("overdue_tasks", N_("Overdue tasks"), ("overdue_tasks",)),
    ("overdue_findings", N_("Overdue findings"), ("overdue_findings",)),
    ("alerts.critical", N_("Open alerts, critical"), ("alerts.critical",)),
    ("alerts.high", N_("Open alerts, high"), ("alerts.high",)),
)
SNAPSHOT_LABELS = {key: label for key, label, _paths in SNAPSHOT_FIGURES}
SUB_ROWS = frozenset({"registrations.issued_new", "registrations.issued_renewal", "accreditation.graded_a",
                      "accreditation.graded_b", "accreditation.graded_c", "grades.A", "grades.B", "grades.C"})


# The per-kecamatan table of the snapshot: column, header.
KECAMATAN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("lks", N_("LKS")),
    ("registered", N_("Registered")),
    ("expired", N_("Expired")),
    ("accredited", N_("Accredited")),
    ("high_risk", N_("High risk")),
    ("open_incidents", N_("Open incidents")),
    ("overdue_tasks", N_("Overdue tasks")),
)


def pick_kecamatan(snapshot: dict) -> list[dict]:
    """The snapshot's per-kecamatan counts (names of places and numbers only)."""
    rows = snapshot.get("by_kecamatan") or []
    return [{"name": str(r.get("name") or r.get("code") or ""),
             **{k: int(r.get(k) or 0) for k, _label in KECAMATAN_COLUMNS}} for r in rows if isinstance(r, dict)]


def _at(snapshot: dict, path: str):
    value = snapshot
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def pick(snapshot: dict) -> list[list]:
    """The report's figures of the dashboard's snapshot as ``[key, value]``
    pairs, in the report's order (a figure the snapshot lacks is left out)."""
    out: list[list] = []
    for key, _label, paths in SNAPSHOT_FIGURES:
        values = [_at(snapshot, p) for p in paths]
        if any(v is not None for v in values):
            out.append([key, sum(v for v in values if v is not None)])
    return out


def _label(key: str, labels: dict[str, str]) -> str:
    return _(labels[key]) if key in labels else key.replace("_", " ").replace(".", " · ")


def change(value, previous) -> str:
    """"+3", "−2", "0"; "–" without a previous figure."""
    if previous is None or value is None:
        return "–"
    delta = value - previous
    if isinstance(delta, float):
        delta = round(delta, 1)
    text = str(delta).replace(".", ",")
    return f"+{text}" if delta > 0 else text.replace("-", "−")


def sections(figures: dict, previous: dict | None) -> list[dict]:
    """What both documents show: per section, rows of (label, this month,
    previous month, change, indented)."""
    prev_snapshot = dict(tuple(p) for p in (previous or {}).get("snapshot", []))
    out = [{
        "key": "snapshot", "title": _(SECTION_TITLES["snapshot" if _at_month_end(figures) else "snapshot_later"]),
        "rows": [(_label(k, SNAPSHOT_LABELS), v, prev_snapshot.get(k), change(v, prev_snapshot.get(k)), k in SUB_ROWS)
                 for k, v in figures.get("snapshot", [])],
    }]
    prev_period = (previous or {}).get("period", {})
    for section, values in figures["period"].items():
        rows = []
        for key, value in values.items():
            before = prev_period.get(section, {}).get(key)
            rows.append((_label(f"{section}.{key}", PERIOD_LABELS), value, before, change(value, before), f"{section}.{key}" in SUB_ROWS))
        out.append({"key": section, "title": _(SECTION_TITLES.get(section, section)), "rows": rows})
    return out


def month_title(month: str) -> str:
    year, number = month.split("-")
    return format_date(date(int(year), int(number), 1), "MMMM yyyy")


def _at_month_end(figures: dict) -> bool:
    """The situation figures were taken at the month's end (within a day after it)."""
    taken = datetime.fromisoformat(figures["snapshot_at"])
    end = datetime.fromisoformat(figures["month_end"])
    return end <= taken <= end + timedelta(days=1)


def as_of_text(figures: dict) -> str:
    """When the situation figures were taken: at the month's end (the job
    runs on the 1st), at a later moment (a past month built late), or so far
    (the month under way)."""
    taken = datetime.fromisoformat(figures["snapshot_at"])
    end = datetime.fromisoformat(figures["month_end"])
    if taken < end:
        return _("Month under way: figures as of %(time)s", time=format_datetime(taken))
    if _at_month_end(figures):
        return _("Situation at the end of %(month)s", month=month_title(figures["month"]))
    return _("Situation figures as of %(time)s (the report was made after the month ended)", time=format_datetime(taken))


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:,}".replace(",", ".") if isinstance(value, int) else str(value).replace(".", ",")


# --- PDF -----------------------------------------------------------------------------------------------


class ReportPdf(OfficialDocument):
    def __init__(self, footer_text: str) -> None:
        super().__init__()
        self.footer_text = footer_text
        self.set_margins(20, 16, 20)
        self.set_auto_page_break(True, margin=18)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.footer_text, align="L")
        self.cell(0, 5, _("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}"), align="R")
        self.set_text_color(0, 0, 0)


WIDTHS = (83, 30, 30, 27)
ROW_MM = 6.2


def _pdf_section(pdf: ReportPdf, number: int, section: dict, month_label: str, previous_label: str) -> None:
    if pdf.will_page_break(ROW_MM * (len(section["rows"]) + 2) + 4):
        pdf.add_page()
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 8, f"{number}. {section['title']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 8.5)
    pdf.set_fill_color(230, 236, 241)
    for width, text, align in zip(WIDTHS, (_("Item"), month_label, previous_label, _("Change")), "LRRR", strict=True):
        pdf.cell(width, ROW_MM + 0.6, text, border=1, align=align, fill=True)
    pdf.ln(ROW_MM + 0.6)
    pdf.set_font("DejaVu", "", 9.5)
    if not section["rows"]:
        pdf.cell(sum(WIDTHS), ROW_MM, _("No figures."), border=1, new_x="LMARGIN", new_y="NEXT")
    for label, value, before, delta, sub in section["rows"]:
        pdf.cell(WIDTHS[0], ROW_MM, ("      " if sub else "") + label, border=1)
        pdf.cell(WIDTHS[1], ROW_MM, _fmt(value), border=1, align="R")
        pdf.cell(WIDTHS[2], ROW_MM, _fmt(before), border=1, align="R")
        pdf.cell(WIDTHS[3], ROW_MM, delta, border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


KECAMATAN_WIDTHS = (30, 20, 20, 20, 20, 20, 20, 20)


def _pdf_kecamatan(pdf: ReportPdf, number: int, rows: list[dict]) -> None:
    if pdf.will_page_break(ROW_MM * 4 + 12):
        pdf.add_page()
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 8, f"{number}. {_('Per kecamatan')}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 7)
    pdf.set_fill_color(230, 236, 241)
    headers = [_("Kecamatan"), *(_(label) for _key, label in KECAMATAN_COLUMNS)]
    top, x, margin = pdf.get_y(), pdf.l_margin, pdf.c_margin
    pdf.c_margin = 0.6  # narrow columns: every header word on one line
    for width, text in zip(KECAMATAN_WIDTHS, headers, strict=True):
        pdf.rect(x, top, width, 8.4, style="DF")  # two lines high: "Insiden terbuka" needs them
        pdf.set_xy(x, top + 0.3)
        pdf.multi_cell(width, 3.9, text, align="L" if x == pdf.l_margin else "R", new_x="RIGHT", new_y="TOP")
        x += width
    pdf.c_margin = margin
    pdf.set_xy(pdf.l_margin, top + 8.4)
    pdf.set_font("DejaVu", "", 9)
    totals = dict.fromkeys((k for k, _label in KECAMATAN_COLUMNS), 0)
    for row in rows:
        if pdf.will_page_break(ROW_MM):
            pdf.add_page()
        pdf.cell(KECAMATAN_WIDTHS[0], ROW_MM, row["name"], border=1)
        for width, (key, _label) in zip(KECAMATAN_WIDTHS[1:], KECAMATAN_COLUMNS, strict=True):
            totals[key] += row[key]
            pdf.cell(width, ROW_MM, _fmt(row[key]), border=1, align="R")
        pdf.ln(ROW_MM)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(KECAMATAN_WIDTHS[0], ROW_MM, _("Total"), border=1)
    for width, (key, _label) in zip(KECAMATAN_WIDTHS[1:], KECAMATAN_COLUMNS, strict=True):
        pdf.cell(width, ROW_MM, _fmt(totals[key]), border=1, align="R")
    pdf.ln(ROW_MM + 3)


def render_pdf(figures: dict, previous: dict | None, region_name: str) -> bytes:
    month = figures["month"]
    built = datetime.fromisoformat(figures["built_at"])
    pdf = ReportPdf(_("Made by SIGAP on %(time)s", time=format_datetime(built)))
    pdf.set_title(f"Laporan Bulanan {month_title(month)}")
    pdf.set_author(f"Dinas Sosial {region_name}")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.kop_surat(region_name)
    pdf.ln(8)
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 7, _("MONTHLY REPORT"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10.5)
    pdf.multi_cell(0, 6, _("Registration, monitoring and accreditation of social welfare institutions (LKS)"),
                   align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, month_title(month), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9.5)
    pdf.cell(0, 6, as_of_text(figures), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font("DejaVu", "", 8)
    notes = [_("Figures of a month count what happened in it (WIB); the situation figures are taken when the report is made.")]
    if previous is None:
        notes.append(_("There is no kept report of the previous month: the change cannot be shown."))
    notes.append(_("This report holds numbers only: no names of children, victims or reporters, and no account of any incident."))
    pdf.set_text_color(70, 70, 70)
    pdf.multi_cell(0, 4.4, "\n".join(notes), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)
    prev_month = previous["month"] if previous else None
    previous_label = month_title(prev_month) if prev_month else _("Previous month")
    numbered = list(enumerate(sections(figures, previous), start=1))
    for number, section in numbered:
        _pdf_section(pdf, number, section, month_title(month), previous_label)
    if figures.get("by_kecamatan"):
        _pdf_kecamatan(pdf, len(numbered) + 1, figures["by_kecamatan"])
    return bytes(pdf.output())


# --- XLSX ----------------------------------------------------------------------------------------------


def _clean(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def render_xlsx(figures: dict, previous: dict | None, region_name: str) -> bytes:
    """One sheet "Ringkasan" with every section, and one sheet per section
    with its rows (for formulas and charts the office makes itself)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    summary = book.active
    summary.title = _("Summary")[:31]
    month = month_title(figures["month"])
    previous_label = month_title(previous["month"]) if previous else _("Previous month")
    header = [_("Item"), month, previous_label, _("Change")]
    summary.append([_clean(f"{_('MONTHLY REPORT')} — Dinas Sosial {region_name}")])
    summary.append([month, as_of_text(figures)])
    summary.append([])
    summary["A1"].font = Font(bold=True, size=13)
    for section in sections(figures, previous):
        summary.append([section["title"]])
        summary.cell(row=summary.max_row, column=1).font = Font(bold=True)
        summary.append(header)
        for cell in summary[summary.max_row]:
            cell.font = Font(bold=True)
        sheet = book.create_sheet(_clean(section["title"])[:31].replace("/", "-"))
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for label, value, before, delta, sub in section["rows"]:
            change_value = None if before is None else value - before
            row = [_clean(("   " if sub else "") + label), value, before, change_value]
            summary.append(row)
            sheet.append(row)
        summary.append([])
        sheet.column_dimensions["A"].width = 48
        for col in "BCD":
            sheet.column_dimensions[col].width = 16
    summary.column_dimensions["A"].width = 48
    for col in "BCD":
        summary.column_dimensions[col].width = 16
    if figures.get("by_kecamatan"):
        places = book.create_sheet(_("Per kecamatan")[:31])
        places.append([_("Kecamatan"), *(_(label) for _key, label in KECAMATAN_COLUMNS)])
        for cell in places[1]:
            cell.font = Font(bold=True)
        for row in figures["by_kecamatan"]:
            places.append([_clean(row["name"]), *(row[key] for key, _label in KECAMATAN_COLUMNS)])
        places.column_dimensions["A"].width = 28
    summary["B2"].alignment = Alignment(horizontal="left")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
