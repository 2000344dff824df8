"""What SIGAP's official PDFs share (fpdf2): DejaVu for every character
Indonesian names use, and the Dinas Sosial's kop surat."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class OfficialDocument(FPDF):
    """A4 portrait with the DejaVu fonts registered as "DejaVu"."""

    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))

    def kop_surat(self, region_name: str) -> None:
        """The letterhead: the government and the office, over a double rule
        from margin to margin (the caller adds the space below it)."""
        self.set_font("DejaVu", "B", 13)
        self.cell(0, 6, f"PEMERINTAH {region_name.upper()}", align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font("DejaVu", "B", 15)
        self.cell(0, 7, "DINAS SOSIAL", align="C", new_x="LMARGIN", new_y="NEXT")
        left, right = self.l_margin, self.w - self.r_margin
        self.set_line_width(0.8)
        self.line(left, self.get_y() + 2, right, self.get_y() + 2)
        self.set_line_width(0.2)
        self.line(left, self.get_y() + 3.2, right, self.get_y() + 3.2)
