"""One spreadsheet row → the fields of an LKS: kinds, yes/no, services and
counts as the template writes them, and the office's own habits
(``office``): RT/RW and children by sex in one cell, dates in every
Indonesian habit, ``Yay.`` for Yayasan, the Tanda Daftar and its validity
(whence the registration status), the accreditation grade."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.services import normalize_text
from registry.transfer import office
from registry.transfer.columns import BY_HEADER, KELURAHAN_HEADERS, RESIDENT_COLUMNS
from sigap.i18n import _

_YES = frozenset({"ya", "y", "yes", "true", "1", "benar", "ada"})
_NO = frozenset({"tidak", "tdk", "no", "n", "false", "0", "bukan", "tidak ada"})
ECHO = 120  # characters of a cell a message or report repeats


def short(text: Any) -> str:
    """A cell as a message repeats it: at most :data:`ECHO` characters."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= ECHO else text[: ECHO - 1] + "…"


@dataclass
class RowData:
    data: dict[str, Any]  # fields for services.check_fields
    legacy: dict[str, Any] = field(default_factory=dict)  # registration and accreditation from the sheet
    errors: dict[str, str] = field(default_factory=dict)  # import field → message
    warnings: list[str] = field(default_factory=list)


def bad_date(value: str) -> str:
    return _(
        "“%(value)s” is not a date: write it as 31/12/2025, 12 Januari 2026 or 2025-12-31.", value=short(value)
    )


def _date(out: RowData, name: str, value: str) -> date | None:
    try:
        return office.parse_date(value)
    except office.BadDate:
        out.errors[name] = bad_date(value)
        return None


def _children(out: RowData, value: str, kind: str, current: dict | None) -> None:
    if not value.strip():
        return
    counts = office.split_counts(value)
    if counts is None:
        out.errors[office.CHILDREN_BY_SEX] = _(
            "“%(value)s” is not a count by sex: write it as 12/9 or L: 4, P: 6 (boys or men first).", value=short(value)
        )
        return
    male, female = counts
    old = (current or {}).get("residents") or {}
    old_male = sum(int(v or 0) for k, v in old.items() if k.startswith("m_"))
    old_female = sum(int(v or 0) for k, v in old.items() if k.startswith("f_"))
    if current is not None and (old_male, old_female) == (male, female):
        return  # the same totals: the age groups SIGAP knows stay
    band = "6_12" if kind == "lksa" else "18"
    out.data["residents"] = {f"m_{band}": male, f"f_{band}": female}
    out.warnings.append(
        _(
            "The sheet gives no age groups: %(male)s male and %(female)s female residents were counted in the %(band)s group; correct them on the LKS page.",
            male=male,
            female=female,
            band=band.replace("_", "–") if band != "18" else "18+",
        )
    )


def _registration(out: RowData, cells: dict[str, str], today: date) -> None:
    number = " ".join(cells.get("nomor_tanda_daftar", "").split())
    valid_until = _date(out, "berlaku_sampai", cells.get("berlaku_sampai", "")) if "berlaku_sampai" in cells else None
    if "berlaku_sampai" in out.errors:
        return
    if not number:
        if valid_until:
            out.warnings.append(_("A validity date without a Tanda Daftar number was not imported."))
        return
    if len(number) > 64:
        out.errors["nomor_tanda_daftar"] = _("At most %(n)s characters (this has %(len)s).", n=64, len=len(number))
        return
    status = "expired" if valid_until and valid_until < today else "registered"
    if not valid_until:
        out.warnings.append(_("The Tanda Daftar has no validity date: add it on the LKS page."))
    out.legacy.update(certificate_number=number, valid_until=valid_until, registration_status=status)


def _accreditation(out: RowData, value: str) -> None:
    if not value.strip():
        return
    read = office.accreditation(value)
    if read is None:
        out.errors[office.ACCREDITATION] = _(
            "Unknown accreditation “%(value)s”: write A, B, C, Belum or proses.", value=short(value)
        )
        return
    out.legacy.update(accreditation_status=read[0], accreditation_grade=read[1])


def row_data(
    cells: dict[str, str],
    current: dict | None,
    kelurahan_code: str,
    kinds: dict[str, str],
    service_codes: dict[str, str],
    *,
    today: date,
) -> RowData:
    """A spreadsheet row → the fields ``services.check_fields`` takes, and
    the registration and accreditation it states."""
    out = RowData({})
    data = out.data
    for header, value in cells.items():
        column = BY_HEADER.get(header)
        if column is None or not column.importable or column.field in (None, "residents", "kelurahan_code"):
            continue
        if column.field == "kind":
            if value:
                kind = kinds.get(normalize_text(value))
                if kind is None:
                    out.errors["jenis"] = _(
                        "Unknown kind “%(value)s”: write LKSA, lansia, disabilitas, rehabilitasi or lainnya.", value=short(value)
                    )
                    continue
                value = kind
        elif column.field == "legal_entity":
            word = normalize_text(value)
            if not word:
                continue
            if word not in _YES | _NO:
                out.errors["badan_hukum"] = _("Write ya or tidak.")
                continue
            value = word in _YES
        elif column.field == "akta_date":
            parsed = _date(out, header, value)
            value = parsed.isoformat() if parsed else ""
        elif column.field in ("name", "yayasan_name"):
            value = office.expand_yayasan(value)
        elif column.field == "services":
            chosen = []
            for part in re.split(r"[,;\n]", value):
                if part.strip():
                    chosen.append(service_codes.get(normalize_text(part), short(part.strip())))
            value = chosen
        data[column.field] = value
    if office.RT_RW in cells and cells[office.RT_RW].strip():
        pair = office.split_rt_rw(cells[office.RT_RW])
        if pair is None:
            out.errors[office.RT_RW] = _(
                "“%(value)s” is not an RT/RW: write two numbers, for example 003/005.", value=short(cells[office.RT_RW])
            )
        else:
            data["rt"], data["rw"] = pair
    if any(h in cells for h in KELURAHAN_HEADERS):
        data["kelurahan_code"] = kelurahan_code
    if any(h in cells for h in RESIDENT_COLUMNS):
        residents = dict((current or {}).get("residents") or {})
        for header, key in RESIDENT_COLUMNS.items():
            if header in cells:
                residents[key] = cells[header]
        data["residents"] = residents
    if office.CHILDREN_BY_SEX in cells:
        _children(out, cells[office.CHILDREN_BY_SEX], str(data.get("kind") or (current or {}).get("kind") or ""), current)
    if "nomor_tanda_daftar" in cells or "berlaku_sampai" in cells:
        _registration(out, cells, today)
    if office.ACCREDITATION in cells:
        _accreditation(out, cells[office.ACCREDITATION])
    return out
