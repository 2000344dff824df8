"""The office's own spreadsheet habits: its header words (``NAMA LKS``,
``KELURAHAN``, ``JML ANAK ASUH (L/P)``...), where the header row is (title
rows above it), the mapping of its columns to SIGAP's import columns, and
the cells it types by hand: combined RT/RW and counts, dates in every
Indonesian habit, ``Yay.`` for Yayasan, accreditation words.

Pure functions, no database: ``planning`` and ``reading`` call them."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from typing import Any

from registry.services import normalize_text
from registry.transfer.columns import BY_HEADER, HEADERS
from sigap.i18n import N_

# Mapping targets beyond the template's columns: cells the office combines.
RT_RW = "rt_rw"
CHILDREN_BY_SEX = "anak_l_p"  # "12/9", "8 / 7", "L: 4, P: 6"
ACCREDITATION = "akreditasi"  # A, B, C, Belum, proses
IGNORE = ""  # a column not imported (the running number, notes...)
EXTRA_FIELDS = (RT_RW, CHILDREN_BY_SEX, ACCREDITATION)
# Every field a sheet column can be mapped to, in the order the mapping page lists them.
TARGETS = tuple(h for h in HEADERS if BY_HEADER[h].importable or h in ("nomor_tanda_daftar", "berlaku_sampai")) + EXTRA_FIELDS

# The office's words (normalized: lower-case, no punctuation) → a target.
_WORDS: dict[str, str] = {
    "no": IGNORE, "nomor": IGNORE, "no urut": IGNORE, "nmr": IGNORE,
    "nama lks": "nama", "nama lembaga": "nama", "nama panti": "nama", "nama lksa": "nama", "lks": "nama", "nama": "nama",
    "nama yayasan": "nama_yayasan", "yayasan": "nama_yayasan", "badan hukum yayasan": "nama_yayasan",
    "kelurahan": "kelurahan", "kel": "kelurahan", "desa kelurahan": "kelurahan", "kelurahan desa": "kelurahan",
    "kecamatan": "kecamatan", "kec": "kecamatan",
    "alamat": "alamat", "alamat lengkap": "alamat", "alamat lks": "alamat",
    "rt rw": RT_RW, "rt": "rt", "rw": "rw",
    "no telp hp": "telepon", "no telp": "telepon", "no hp": "telepon", "telepon": "telepon", "telp": "telepon",
    "no telepon": "telepon", "telp hp": "telepon", "kontak": "telepon",
    "ketua pimpinan": "kepala", "ketua": "kepala", "pimpinan": "kepala", "kepala": "kepala", "nama ketua": "kepala",
    "nama pimpinan": "kepala", "pengurus": "kepala",
    "jml anak asuh l p": CHILDREN_BY_SEX, "jumlah anak asuh l p": CHILDREN_BY_SEX, "jml anak asuh": CHILDREN_BY_SEX,
    "jumlah anak asuh": CHILDREN_BY_SEX, "anak asuh l p": CHILDREN_BY_SEX, "jml penghuni l p": CHILDREN_BY_SEX,
    "jumlah penghuni l p": CHILDREN_BY_SEX, "jml klien l p": CHILDREN_BY_SEX,
    "no tanda daftar": "nomor_tanda_daftar", "nomor tanda daftar": "nomor_tanda_daftar", "tanda daftar": "nomor_tanda_daftar",
    "no tanda daftar lks": "nomor_tanda_daftar", "no registrasi": "nomor_tanda_daftar",
    "masa berlaku s d": "berlaku_sampai", "masa berlaku": "berlaku_sampai", "berlaku s d": "berlaku_sampai",
    "berlaku sampai": "berlaku_sampai", "masa berlaku tanda daftar": "berlaku_sampai",
    "akreditasi": ACCREDITATION, "status akreditasi": ACCREDITATION, "akreditasi balks": ACCREDITATION,
    "jenis": "jenis", "jenis lks": "jenis", "jenis layanan lks": "jenis", "kategori": "jenis",
    "kapasitas": "kapasitas", "daya tampung": "kapasitas",
    "email": "email", "e mail": "email", "npwp": "npwp", "layanan": "layanan",
    "no akta": "nomor_akta", "nomor akta": "nomor_akta", "tgl akta": "tanggal_akta", "tanggal akta": "tanggal_akta",
    "sk kemenkumham": "nomor_sk_kemenkumham", "no sk kemenkumham": "nomor_sk_kemenkumham",
    "kode kelurahan": "kode_kelurahan", "kode wilayah": "kode_kelurahan",
    "pengasuh": "pengasuh", "jml pengasuh": "pengasuh", "pekerja sosial": "pekerja_sosial", "peksos": "pekerja_sosial",
}
_TOTAL_WORDS = frozenset({"jumlah", "total", "jumlah total", "total keseluruhan", "jumlah keseluruhan", "grand total"})
HEADER_SCAN_ROWS = 30  # title rows above the header: at most this many rows are looked at


def words(text: Any) -> str:
    """A header or cell in plain words: lower-case, punctuation as spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", normalize_text(str(text or ""))).split())


def target_of(header: Any) -> str | None:
    """The import field a sheet's header names, or None when unknown
    (IGNORE, "", for the running number)."""
    key = words(header)
    if not key:
        return None
    template = str(header).strip().lower().replace(" ", "_").replace("-", "_")
    if template in BY_HEADER:
        return template if template in TARGETS else IGNORE
    return _WORDS.get(key)


def find_header(rows: list[list[str]]) -> int:
    """Index (in ``rows``) of the header row: among the first rows, the one
    naming the most known columns (ties: the first). 0 when none does."""
    best, best_score = 0, 0
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = sum(1 for c in cells if target_of(c))
        if score > best_score:
            best, best_score = index, score
    return best


def propose(headers: list[str]) -> dict[str, str]:
    """Sheet header → field for every named column (IGNORE when unknown); a
    field goes to its first column only."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        if not header or header in out:
            continue
        target = target_of(header) or IGNORE
        if target and target in taken:
            target = IGNORE
        taken.add(target)
        out[header] = target
    return out


def signature(headers: list[str]) -> str:
    """The same header (case, spaces and punctuation aside) → the same key."""
    return hashlib.sha256("|".join(words(h) for h in headers).encode()).hexdigest()


def is_total_row(cells: list[str]) -> bool:
    """A totals row: its first written cells say JUMLAH or TOTAL."""
    written = [words(c) for c in cells if str(c).strip()]
    return bool(written) and any(w in _TOTAL_WORDS for w in written[:2])


# --- cells ---------------------------------------------------------------------

_MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "pebruari": 2, "feb": 2, "peb": 2, "maret": 3, "mar": 3, "april": 4, "apr": 4,
    "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "agustus": 8, "agu": 8, "agt": 8, "agus": 8, "ags": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "nopember": 11,
    "nop": 11, "desember": 12, "des": 12, "dec": 12, "may": 5, "june": 6, "july": 7, "august": 8, "october": 10,
    "december": 12, "january": 1, "february": 2, "march": 3,
}
_DMY = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_D_MONTH_Y = re.compile(r"(\d{1,2})[\s\-.]+([a-z]+)\.?[\s\-.]+(\d{4})")
_EXCEL_EPOCH = date(1899, 12, 30)


class BadDate(ValueError):
    pass


def parse_date(value: Any) -> date | None:
    """A date in any of the office's habits: ``12 Januari 2026``, ``12 Jan
    2026``, ``31/12/2025``, ``31-12-2025``, ``2024-06-30``, a date cell, an
    Excel serial number. None for an empty cell; :class:`BadDate` for text
    that is no date (``30-02-2026``)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = normalize_text(str(value)).strip()
    try:
        if re.fullmatch(r"\d{5}(\.0+)?", text):  # an Excel serial number typed or exported as a number
            serial = int(float(text))
            if 20000 <= serial <= 80000:  # 1954 .. 2118
                return _EXCEL_EPOCH + timedelta(days=serial)
        if match := _YMD.fullmatch(text):
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _DMY.fullmatch(text):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _D_MONTH_Y.fullmatch(text):
            month = _MONTHS.get(match.group(2))
            if month:
                return date(int(match.group(3)), month, int(match.group(1)))
    except ValueError:
        raise BadDate(text) from None
    raise BadDate(text)


def split_rt_rw(text: str) -> tuple[str, str] | None:
    """``003/005``, ``3 / 5``, ``RT 03 RW 05`` → (rt, rw); None when not two numbers."""
    numbers = re.findall(r"\d+", text or "")
    if len(numbers) != 2:
        return None
    return numbers[0], numbers[1]


def split_counts(text: str) -> tuple[int, int] | None:
    """``12/9``, ``8 / 7``, ``L: 4, P: 6``, ``P 6 L 4`` → (male, female); a
    lone number is not split (None)."""
    plain = normalize_text(text or "")
    labelled = dict(re.findall(r"\b([lp])\s*[:=]?\s*(\d+)", plain))
    if set(labelled) == {"l", "p"}:
        return int(labelled["l"]), int(labelled["p"])
    match = re.fullmatch(r"(\d+)\s*[/\-,;]\s*(\d+)", plain)
    if match:
        return int(match.group(1)), int(match.group(2))
    return None


def expand_yayasan(name: str) -> str:
    """``Yay. Kasih`` / ``YYS Kasih`` → ``Yayasan Kasih``."""
    return re.sub(r"^\s*(yay|yys|yyasan)\b\.?\s*", "Yayasan ", name or "", flags=re.IGNORECASE).strip()


def accreditation(text: str) -> tuple[str, str | None] | None:
    """(status, grade) from ``A``/``B``/``C``/``Terakreditasi B``/``Belum``/``proses``;
    None when the word is unknown."""
    key = words(text)
    if not key or key in ("belum", "belum terakreditasi", "tidak", "tidak ada", "blm", "belum akreditasi"):
        return "none", None
    if key in ("proses", "dalam proses", "sedang proses", "on proses", "diproses"):
        return "in_process", None
    match = re.fullmatch(r"(?:terakreditasi |akreditasi |peringkat )?([abc])", key)
    if match:
        return "accredited", match.group(1).upper()
    return None


# What the mapping page calls each field (English msgids, translated where shown).
TARGET_LABELS = {
    "id": N_("SIGAP number of the LKS"),
    "nama": N_("Name of the LKS"),
    "jenis": N_("Kind of LKS"),
    "badan_hukum": N_("Legal entity (ya/tidak)"),
    "nama_yayasan": N_("Foundation (yayasan)"),
    "nomor_akta": N_("Deed number"),
    "tanggal_akta": N_("Deed date"),
    "nomor_sk_kemenkumham": N_("SK Kemenkumham number"),
    "npwp": N_("NPWP"),
    "alamat": N_("Street address"),
    "rt": N_("RT"),
    "rw": N_("RW"),
    RT_RW: N_("RT/RW in one cell (003/005)"),
    "kode_kelurahan": N_("Kelurahan code"),
    "kelurahan": N_("Kelurahan"),
    "kecamatan": N_("Kecamatan"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "telepon": N_("Phone"),
    "email": N_("E-mail"),
    "kepala": N_("Head of the LKS"),
    "kapasitas": N_("Capacity"),
    CHILDREN_BY_SEX: N_("Residents male/female in one cell (12/9)"),
    "pengasuh": N_("Caregivers"),
    "pekerja_sosial": N_("Social workers"),
    "staf_lain": N_("Other staff"),
    "layanan": N_("Services"),
    "nomor_tanda_daftar": N_("Tanda Daftar number"),
    "berlaku_sampai": N_("Tanda Daftar valid until"),
    ACCREDITATION: N_("Accreditation (A, B, C, Belum, proses)"),
}
