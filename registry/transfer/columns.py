"""The columns of the register's spreadsheet, with Indonesian headers (the
language of the office's own spreadsheets): what each one holds, which
field of an LKS it fills, and the words a cell may use for a kind or a
service."""

from __future__ import annotations

from dataclasses import dataclass

from registry import services
from registry.labels import KIND_LABELS
from registry.services import normalize_text
from registry.tables import LksKind
from sigap.i18n import N_, _, choice_label, use_locale


@dataclass(frozen=True)
class Column:
    header: str
    help: str  # English msgid, translated where shown
    field: str | None = None  # the services field it fills, if any
    importable: bool = True  # read on import (id and kecamatan only to match)
    plain: bool = False  # numbers and codes: never formula-escaped in CSV


def _resident_header(key: str) -> str:
    sex, band = key.split("_", 1)
    return f"penghuni_{'l' if sex == 'm' else 'p'}_{band}"


RESIDENT_COLUMNS = {_resident_header(key): key for key in services.RESIDENT_KEYS}
RESIDENTS_HELP = N_(
    "Number of residents by sex (l = male, p = female) and age group (0–5, 6–12, 13–17, 18 and over). Counts only, never names."
)
READ_ONLY_HELP = N_("Exported for information only; ignored on import.")

COLUMNS: tuple[Column, ...] = (
    Column("id", N_("Number of the LKS in SIGAP. Leave it empty for a new LKS; when given, that LKS is updated."), plain=True),
    Column("nama", N_("Name of the LKS (required)."), "name"),
    Column("jenis", N_("Kind: LKSA, lansia, disabilitas, rehabilitasi or lainnya (required)."), "kind"),
    Column("badan_hukum", N_("Run by a legal entity: ya or tidak (empty: ya for a new LKS, unchanged for an existing one)."), "legal_entity"),
    Column("nama_yayasan", N_("Name of the foundation (required when badan_hukum is ya)."), "yayasan_name"),
    Column("nomor_akta", N_("Number of the deed of establishment."), "akta_number"),
    Column("tanggal_akta", N_("Date of the deed: YYYY-MM-DD or DD/MM/YYYY."), "akta_date", plain=True),
    Column("nomor_sk_kemenkumham", N_("Number of the SK Kemenkumham."), "sk_kemenkumham_number"),
    Column("npwp", N_("Tax number: 15 or 16 digits; dots and dashes are allowed."), "npwp", plain=True),
    Column("alamat", N_("Street address."), "address"),
    Column("rt", N_("Up to 3 digits."), "rt", plain=True),
    Column("rw", N_("Up to 3 digits."), "rw", plain=True),
    Column(
        "kode_kelurahan",
        N_("Kemendagri code of the kelurahan, for example 36.71.11.1005. This or the kelurahan column is required."),
        "kelurahan_code",
        plain=True,
    ),
    Column("kelurahan", N_("Name of the kelurahan in this region, used when kode_kelurahan is empty (a code may also be written here)."), "kelurahan_code"),
    Column(
        "kecamatan",
        N_("Name of the kecamatan: exported for information; on import only used to tell apart kelurahan with the same name."),
    ),
    Column("latitude", N_("Coordinates in decimal degrees, for example -6.2251 and 106.6291: both or neither."), "latitude", plain=True),
    Column("longitude", N_("Coordinates in decimal degrees, for example -6.2251 and 106.6291: both or neither."), "longitude", plain=True),
    Column("telepon", N_("Indonesian phone number, for example 021-5551234 or 0812 3456 7890."), "phone", plain=True),
    Column("email", N_("E-mail address."), "email"),
    Column("kepala", N_("Name of the head of the LKS."), "head_name"),
    Column("kapasitas", N_("Number of residents the LKS can take."), "capacity", plain=True),
    *(Column(header, RESIDENTS_HELP, "residents", plain=True) for header in RESIDENT_COLUMNS),
    Column("pengasuh", N_("Number of caregivers."), "staff_caregivers", plain=True),
    Column("pekerja_sosial", N_("Number of social workers."), "staff_social_workers", plain=True),
    Column("staf_lain", N_("Number of other staff."), "staff_other", plain=True),
    Column("layanan", N_("Services, separated by commas: the codes or names listed below."), "services"),
    Column("status_registrasi", READ_ONLY_HELP, importable=False),
    Column("nomor_tanda_daftar", READ_ONLY_HELP, importable=False),
    Column("berlaku_sampai", READ_ONLY_HELP, importable=False, plain=True),
    Column("status_akreditasi", READ_ONLY_HELP, importable=False),
    Column("peringkat_akreditasi", READ_ONLY_HELP, importable=False),
    Column("risiko", READ_ONLY_HELP, importable=False),
    Column("insiden_terbuka", READ_ONLY_HELP, importable=False),
)
HEADERS = tuple(c.header for c in COLUMNS)
BY_HEADER = {c.header: c for c in COLUMNS}
# Columns the template offers (the read-only ones make sense only in an export).
TEMPLATE_HEADERS = tuple(c.header for c in COLUMNS if c.importable or c.header == "kecamatan")
READ_ONLY_HEADERS = tuple(c.header for c in COLUMNS if not c.importable)
KELURAHAN_HEADERS = ("kode_kelurahan", "kelurahan")
# A field's errors are reported under this column.
FIELD_COLUMNS = {c.field: c.header for c in COLUMNS if c.field and c.field != "residents"}
FIELD_COLUMNS.update({f"residents_{key}": header for header, key in RESIDENT_COLUMNS.items()})
FIELD_COLUMNS["kecamatan_code"] = "kecamatan"

KIND_WORDS = {
    LksKind.lksa.value: "LKSA",
    LksKind.elderly.value: "lansia",
    LksKind.disability.value: "disabilitas",
    LksKind.rehabilitation.value: "rehabilitasi",
    LksKind.other.value: "lainnya",
}
_KIND_ALIASES = {
    LksKind.lksa.value: ("lksa", "anak", "lks anak", "panti asuhan", "lksa anak"),
    LksKind.elderly.value: ("lansia", "lanjut usia", "lks lansia"),
    LksKind.disability.value: ("disabilitas", "penyandang disabilitas", "lks disabilitas"),
    LksKind.rehabilitation.value: ("rehabilitasi", "rehabilitasi sosial", "napza", "rehabilitasi napza"),
    LksKind.other.value: ("lainnya", "lain-lain", "lain lain"),
}


def kind_aliases() -> dict[str, str]:
    """Normalized word → kind code: codes, Indonesian words, and the labels
    in both languages."""
    out: dict[str, str] = {}
    for code, words in _KIND_ALIASES.items():
        for word in (code, *words):
            out[normalize_text(word)] = code
        for locale in ("id", "en"):
            with use_locale(locale):
                out.setdefault(normalize_text(choice_label(KIND_LABELS, code)), code)
    return out


def service_aliases() -> dict[str, str]:
    """Normalized code or label (both languages) → service code."""
    out: dict[str, str] = {}
    for code, label in services.SERVICES.items():
        out[normalize_text(code)] = code
        out[normalize_text(code.replace("_", " "))] = code
        for locale in ("id", "en"):
            with use_locale(locale):
                out.setdefault(normalize_text(_(label)), code)
    return out


def column_order(header: str) -> int:
    """Where a column stands in an export (a row's reasons are listed in this order)."""
    return HEADERS.index(header) if header in HEADERS else -1
