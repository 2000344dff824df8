"""Planning an import, row by row: which LKS a row is about, and what would
happen to it — create, update, unchanged, skip (a blank or totals row),
reject (with the reasons, each naming its cell: ``L11``) or duplicate (an
LKS already in the file or in the register) — before anything changes.

Matching: a row whose ``id`` names an existing LKS updates it; otherwise a
row with the same name (case, accents and ``Yay.`` aside) and kelurahan as
an existing LKS updates that one; otherwise a row whose Tanda Daftar
number is an LKS's updates that one; otherwise it creates a new LKS,
unless an LKS of that name is registered in another kelurahan (then it is
a duplicate to look at, not a second record). Two rows of one file about
the same LKS: the later one is a duplicate.

A column present in the file is authoritative for the rows it updates (an
empty cell clears the value, an empty count is 0), except ``badan_hukum``
where an empty cell keeps the current value; a column absent from the file
keeps the current values. Every row goes through ``services.check_fields``,
the same validation as the form. The Tanda Daftar, its validity and the
accreditation of a sheet fill what SIGAP does not know yet (a new LKS, or
one without a certificate or accreditation); SIGAP's own are never
overwritten (the row says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry import services
from registry.services import normalize_text
from registry.tables import Lks
from registry.transfer import office
from registry.transfer.columns import (
    FIELD_COLUMNS,
    RESIDENT_COLUMNS,
    column_order,
    kind_aliases,
    service_aliases,
)
from registry.transfer.places import Places
from registry.transfer.reading import MAX_CELL, Table
from registry.transfer.rows import row_data, short
from sigap.errors import ValidationError
from sigap.i18n import _

CREATE, UPDATE, UNCHANGED, SKIP, REJECT, DUPLICATE = "create", "update", "unchanged", "skip", "reject", "duplicate"
OUTCOMES = (CREATE, UPDATE, UNCHANGED, SKIP, REJECT, DUPLICATE)
# A field's problem named at the column the office used for it.
_ALTERNATES = {"rt": office.RT_RW, "rw": office.RT_RW, "residents": office.CHILDREN_BY_SEX, "kode_kelurahan": "kelurahan"}
LEGACY_COLUMNS = {
    "certificate_number": "nomor_tanda_daftar",
    "valid_until": "berlaku_sampai",
    "registration_status": "nomor_tanda_daftar",
    "accreditation_status": office.ACCREDITATION,
    "accreditation_grade": office.ACCREDITATION,
}


@dataclass
class RowResult:
    row: int  # as the spreadsheet numbers it
    name: str
    outcome: str = CREATE
    lks_id: int | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column or "", message)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # columns that change (updates)
    cells: dict[str, str] = field(default_factory=dict)  # column → its cell on this row ("L11")
    values: dict[str, Any] = field(default_factory=dict)  # what the row holds, as SIGAP reads it

    def cell(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class ImportReport:
    file_format: str  # "csv" or "xlsx"
    rows: list[RowResult]
    notes: list[str] = field(default_factory=list)
    committed: bool = False
    header_row: int = 1
    mapping: dict[str, str] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(OUTCOMES, 0)
        for row in self.rows:
            out[row.outcome] += 1
        return out

    @property
    def applicable(self) -> int:
        """Rows a commit would write (creates and updates)."""
        counts = self.counts
        return counts[CREATE] + counts[UPDATE]


@dataclass
class Planned:
    result: RowResult
    data: dict[str, Any]
    version: int | None = None
    legacy: dict[str, Any] = field(default_factory=dict)  # registration / accreditation to write


def _same(field_name: str, old: Any, new: Any) -> bool:
    if field_name in ("latitude", "longitude"):
        if old is None or new is None:
            return old is None and new is None
        return abs(float(old) - float(new)) < 1e-5  # REAL is 4 bytes on PostgreSQL
    if field_name == "legal_entity":
        return bool(old) == bool(new)
    if field_name == "services":
        # A set: the form stores them in its own order, older rows (the demo
        # register, direct edits) in any order.
        return sorted(set(old or [])) == sorted(set(new or []))
    if field_name in ("akta_date", "valid_until") and isinstance(old, str):
        old = date.fromisoformat(old)
    if isinstance(new, str) or new is None:
        return (old if old is not None else "") == (new if new is not None else "")
    return old == new


def _changes(values: dict[str, Any], current: dict) -> list[str]:
    changed: list[str] = []
    for name, new in values.items():
        if name in ("residents_total", "kecamatan_code"):
            continue
        if name == "residents":
            old = current.get("residents") or {}
            changed += [h for h, key in RESIDENT_COLUMNS.items() if int(old.get(key) or 0) != int(new.get(key) or 0)]
        elif not _same(name, current.get(name), new):
            changed.append(FIELD_COLUMNS.get(name, name))
    return changed


def _legacy_for(legacy: dict[str, Any], current: dict | None, warnings: list[str]) -> dict[str, Any]:
    """What of the sheet's registration and accreditation is written: all of
    it for a new LKS; for a registered one only what SIGAP does not know."""
    if current is None:
        return dict(legacy)
    out: dict[str, Any] = {}
    number = legacy.get("certificate_number")
    if number:
        if not current.get("certificate_number"):
            if current.get("registration_status") in ("unregistered", "expired"):
                out.update({k: legacy[k] for k in ("certificate_number", "valid_until", "registration_status")})
            else:
                warnings.append(_("The registration of this LKS is under way in SIGAP: the sheet's Tanda Daftar was not imported."))
        elif current["certificate_number"] != number or not _same("valid_until", current.get("valid_until"), legacy.get("valid_until")):
            warnings.append(
                _("SIGAP keeps its own Tanda Daftar (%(number)s) for this LKS; the sheet's was not imported.", number=current["certificate_number"])
            )
    if "accreditation_status" in legacy:
        new = (legacy["accreditation_status"], legacy.get("accreditation_grade"))
        old = (current.get("accreditation_status") or "none", current.get("accreditation_grade"))
        if new != old:
            if old[0] == "none":
                out.update(accreditation_status=new[0], accreditation_grade=new[1])
            else:
                warnings.append(_("SIGAP keeps its own accreditation for this LKS; the sheet's was not imported."))
    return out


async def _load_current(ids: set[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        for row in await Lks.select().where(Lks.id.is_in(ordered[start : start + 500])):
            out[row["id"]] = services.decode(row)
    return out


def _cells(table: Table, number: int) -> dict[str, str]:
    out = {f: table.cell(number, f) for f in table.letters}
    for name, alternate in _ALTERNATES.items():
        if name not in out and alternate in out:
            out[name] = out[alternate]
    return out


def _skip(table: Table) -> list[Planned]:
    return [
        Planned(RowResult(row=number, name="", outcome=SKIP, errors=[("", reason)]), {}) for number, reason in table.skipped
    ]


def _match_key(name: str) -> str:
    return normalize_text(office.expand_yayasan(name))


async def plan(table: Table, *, today: date) -> list[Planned]:
    places = await Places.load()
    kinds = kind_aliases()
    service_codes = service_aliases()
    existing = await Lks.select(Lks.id, Lks.name, Lks.kelurahan_code, Lks.certificate_number)
    known_ids = {r["id"] for r in existing}
    by_key: dict[tuple[str, str], list[int]] = {}
    by_name: dict[str, list[dict]] = {}
    by_certificate = {r["certificate_number"]: r["id"] for r in existing if r["certificate_number"]}
    for r in existing:
        by_key.setdefault((_match_key(r["name"]), r["kelurahan_code"]), []).append(r["id"])
        by_name.setdefault(_match_key(r["name"]), []).append(r)

    # First pass: which LKS each row is about, and duplicates within the file.
    staged: list[tuple[RowResult, dict[str, str], dict[str, str], int | None, str]] = []
    seen_keys: dict[tuple[str, str], int] = {}
    seen_ids: dict[int, int] = {}
    seen_certificates: dict[str, int] = {}
    matched_loosely: set[int] = set()  # rows matched by name or certificate, not by id: never renamed
    for number, cells in table.rows:
        name = short(" ".join(office.expand_yayasan(cells.get("nama", "")).split()))
        result = RowResult(row=number, name=name, cells=_cells(table, number))
        errors: dict[str, str] = {}
        for (row, column), length in table.long_cells.items():
            if row == number:
                errors[column] = _(
                    "This cell holds %(len)s characters; at most %(n)s are read. Shorten it.", len=f"{length:,}".replace(",", "."), n=MAX_CELL
                )
        code, kel_column, kel_error, kel_note = places.resolve(cells)
        if kel_error:
            errors[kel_column] = kel_error
        if kel_note:
            result.warnings.append(kel_note)
        target: int | None = None
        raw_id = cells.get("id", "").strip()
        if raw_id:
            number_text = raw_id[:-2] if raw_id.endswith(".0") else raw_id
            if not number_text.isdigit() or len(number_text) > 12:
                errors["id"] = _("Not an LKS number: leave it empty for a new LKS.")
            elif int(number_text) not in known_ids:
                errors["id"] = _("There is no LKS with number %(id)s.", id=short(number_text))
            else:
                target = int(number_text)
        key = (_match_key(name), code or normalize_text(cells.get("kelurahan", "")))
        certificate = " ".join(cells.get("nomor_tanda_daftar", "").split())
        duplicate = None
        if target is None and "id" not in errors and name and code:
            matches = by_key.get(key, [])
            if len(matches) == 1:
                target = matches[0]
                matched_loosely.add(number)
            elif len(matches) > 1:
                errors["id"] = _(
                    "Several LKS with this name are registered in this kelurahan (numbers %(ids)s): write the number in the id column.",
                    ids=", ".join(map(str, sorted(matches))),
                )
        if target is None and "id" not in errors and certificate in by_certificate:
            target = by_certificate[certificate]
            matched_loosely.add(number)
            result.warnings.append(_("Found in the register by its Tanda Daftar number %(number)s.", number=short(certificate)))
        elif target is not None and certificate and by_certificate.get(certificate, target) != target:
            duplicate = _("Tanda Daftar %(number)s belongs to another LKS in the register (number %(id)s).", number=short(certificate), id=by_certificate[certificate])
        if target is None and "id" not in errors and name and not errors:
            others = by_name.get(_match_key(name), [])
            if others:
                other = others[0]
                duplicate = _(
                    "An LKS named “%(name)s” is already in the register (number %(id)s, kelurahan %(kelurahan)s): write its number in the id column to update it.",
                    name=other["name"],
                    id=other["id"],
                    kelurahan=places.village_names.get(other["kelurahan_code"], other["kelurahan_code"]),
                )
        earlier = seen_ids.get(target) if target is not None else None
        if earlier is None and name:
            earlier = seen_keys.get(key)
        if earlier is None and certificate:
            earlier = seen_certificates.get(certificate)
        if earlier is not None:
            duplicate = _("Row %(row)s of this file is already about the same LKS: this row is skipped.", row=earlier)
        if target is not None:
            seen_ids.setdefault(target, number)
        if name:
            seen_keys.setdefault(key, number)
        if certificate:
            seen_certificates.setdefault(certificate, number)
        result.lks_id = target
        if duplicate:
            result.outcome = DUPLICATE
            result.errors = [("", duplicate)]
        staged.append((result, cells, errors, target, code))

    current_rows = await _load_current({t for r, _c, _e, t, _k in staged if t is not None and r.outcome != DUPLICATE})

    # Second pass: the same checks as the form, and what would change.
    planned: list[Planned] = []
    for result, cells, errors, target, code in staged:
        if result.outcome == DUPLICATE:
            planned.append(Planned(result, {}))
            continue
        current = current_rows.get(target) if target is not None else None
        read = row_data(cells, current, code, kinds, service_codes, today=today)
        data = read.data
        for name, message in read.errors.items():
            errors.setdefault(name, message)
        result.warnings += read.warnings
        if current is not None and result.row in matched_loosely:
            # Found by its name: a different spelling (case, accents) in
            # the file does not rename it. Renaming takes the id column.
            data["name"] = current["name"]
        checked = None
        try:
            checked = await services.check_fields(data, current=current, today=today)
        except ValidationError as exc:
            for name, message in exc.fields.items():
                column = FIELD_COLUMNS.get(name, name)
                if name == "kelurahan_code":
                    column = "kode_kelurahan" if cells.get("kode_kelurahan", "").strip() or "kelurahan" not in cells else "kelurahan"
                if column not in cells and name.startswith("residents") and office.CHILDREN_BY_SEX in cells:
                    column = office.CHILDREN_BY_SEX
                if column in ("rt", "rw") and column not in cells and office.RT_RW in cells:
                    column = office.RT_RW
                errors.setdefault(column, message)
            if not exc.fields:
                errors.setdefault("", exc.message)
        legacy = _legacy_for(read.legacy, current, result.warnings) if not errors else {}
        if errors:
            result.outcome = REJECT
            result.errors = sorted(errors.items(), key=lambda item: column_order(item[0]))
        else:
            assert checked is not None
            result.warnings += checked.warnings
            result.values = _echo(checked.values, legacy, places)
            if current is None:
                result.outcome = CREATE
            else:
                result.changes = _changes(checked.values, current) + sorted({LEGACY_COLUMNS[k] for k in legacy})
                result.outcome = UPDATE if result.changes else UNCHANGED
        planned.append(Planned(result, data, current["version"] if current else None, legacy))
    planned += _skip(table)
    planned.sort(key=lambda p: p.result.row)
    return planned


def _echo(values: dict[str, Any], legacy: dict[str, Any], places: Places) -> dict[str, Any]:
    """A row's values as a report shows them (text cut to a few words)."""
    out: dict[str, Any] = {}
    for name, value in {**values, **legacy}.items():
        if name == "search_text":
            continue
        if isinstance(value, date):
            value = value.isoformat()
        out[name] = short(value) if isinstance(value, str) else value
    if values.get("kelurahan_code") in places.village_names:
        out["kelurahan"] = places.village_names[values["kelurahan_code"]]
        out["kecamatan"] = places.district_names.get(places.village_district[values["kelurahan_code"]], "")
    return out
