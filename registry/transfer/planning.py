"""Planning an import, row by row: which LKS a row is about, what would be
created, updated or left unchanged, and why a row is rejected.

Matching: a row whose ``id`` names an existing LKS updates it; otherwise a
row with the same name (compared case- and accent-insensitively) and
kelurahan as an existing LKS updates that one; otherwise it creates a new
LKS. Two rows of one file naming the same LKS: the later one is rejected.

A column present in the file is authoritative for the rows it updates (an
empty cell clears the value, an empty count is 0), except ``badan_hukum``
where an empty cell keeps the current value; a column absent from the file
keeps the current values. Every row goes through ``services.check_fields``,
the same validation as the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry import regions, services
from registry.services import normalize_text
from registry.tables import Lks
from registry.transfer.columns import (
    BY_HEADER,
    FIELD_COLUMNS,
    KELURAHAN_HEADERS,
    READ_ONLY_HEADERS,
    RESIDENT_COLUMNS,
    column_order,
    kind_aliases,
    service_aliases,
)
from registry.transfer.reading import Table
from sigap.errors import ValidationError
from sigap.i18n import _
from sigap.settings import get_settings

_YES = frozenset({"ya", "y", "yes", "true", "1", "benar"})
_NO = frozenset({"tidak", "tdk", "no", "n", "false", "0", "bukan"})
_CODE_RE = re.compile(r"\d{2}(\.\d{2}){1,2}(\.\d{4})?")
_DMY_RE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")


CREATE, UPDATE, UNCHANGED, REJECTED = "create", "update", "unchanged", "rejected"
OUTCOMES = (CREATE, UPDATE, UNCHANGED, REJECTED)


@dataclass
class RowResult:
    row: int  # as the spreadsheet numbers it: the header is row 1
    name: str
    outcome: str = CREATE
    lks_id: int | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column or "", message)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # columns that change (updates)


@dataclass
class ImportReport:
    file_format: str  # "csv" or "xlsx"
    rows: list[RowResult]
    notes: list[str] = field(default_factory=list)
    committed: bool = False

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



# --- planning ------------------------------------------------------------------


class Places:
    """The kelurahan and kecamatan of the office's region, by code and name."""

    def __init__(self, villages: list[dict], districts: list[dict]) -> None:
        self.village_names = {v["code"]: v["name"] for v in villages}
        self.village_district = {v["code"]: v["parent_code"] for v in villages}
        self.district_names = {d["code"]: d["name"] for d in districts}
        self.by_name: dict[str, list[str]] = {}
        for v in villages:
            self.by_name.setdefault(self._key(v["name"]), []).append(v["code"])

    @classmethod
    async def load(cls) -> "Places":
        region = get_settings().region
        return cls(await regions.villages(region), await regions.districts(region))

    @staticmethod
    def _key(name: str) -> str:
        return re.sub(r"^(kelurahan|kel\.?|desa)\s+", "", normalize_text(name))

    def resolve(self, cells: dict[str, str]) -> tuple[str, str, str | None, str | None]:
        """(code, column it came from, error, warning) of a row's kelurahan."""
        code_cell = cells.get("kode_kelurahan", "").strip()
        name_cell = cells.get("kelurahan", "").strip()
        if code_cell:
            warning = None
            if name_cell and not _CODE_RE.fullmatch(name_cell) and code_cell in self.village_names:
                if self._key(name_cell) != self._key(self.village_names[code_cell]):
                    warning = _(
                        "The kelurahan “%(name)s” does not match code %(code)s (%(official)s); the code was used.",
                        name=name_cell,
                        code=code_cell,
                        official=self.village_names[code_cell],
                    )
            return code_cell, "kode_kelurahan", None, warning
        if not name_cell or _CODE_RE.fullmatch(name_cell):
            return name_cell, "kelurahan" if name_cell else "kode_kelurahan", None, None
        codes = self.by_name.get(self._key(name_cell), [])
        kecamatan = normalize_text(cells.get("kecamatan", ""))
        if len(codes) > 1 and kecamatan:
            narrowed = [c for c in codes if normalize_text(self.district_names.get(self.village_district[c], "")) == kecamatan]
            codes = narrowed or codes
        if not codes:
            return "", "kelurahan", _("There is no kelurahan named “%(name)s” in this region.", name=name_cell), None
        if len(codes) > 1:
            return "", "kelurahan", _(
                "Several kelurahan are named “%(name)s”: write the code instead (%(codes)s).", name=name_cell, codes=", ".join(codes)
            ), None
        return codes[0], "kelurahan", None, None


@dataclass
class Planned:
    result: RowResult
    data: dict[str, Any]
    version: int | None = None


def _parse_date(text: str) -> str:
    match = _DMY_RE.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text
    return text


def _row_data(
    cells: dict[str, str],
    current: dict | None,
    kelurahan_code: str,
    kinds: dict[str, str],
    service_codes: dict[str, str],
    errors: dict[str, str],
) -> dict[str, Any]:
    """A spreadsheet row → the fields ``services.check_fields`` takes."""
    data: dict[str, Any] = {}
    for header, value in cells.items():
        column = BY_HEADER.get(header)
        if column is None or not column.importable or column.field in (None, "residents", "kelurahan_code"):
            continue
        if column.field == "kind":
            if value:
                kind = kinds.get(normalize_text(value))
                if kind is None:
                    errors["jenis"] = _(
                        "Unknown kind “%(value)s”: write LKSA, lansia, disabilitas, rehabilitasi or lainnya.", value=value
                    )
                    continue
                value = kind
        elif column.field == "legal_entity":
            word = normalize_text(value)
            if not word:
                continue
            if word not in _YES | _NO:
                errors["badan_hukum"] = _("Write ya or tidak.")
                continue
            value = word in _YES
        elif column.field == "akta_date":
            value = _parse_date(value)
        elif column.field == "services":
            chosen = []
            for part in re.split(r"[,;\n]", value):
                if part.strip():
                    chosen.append(service_codes.get(normalize_text(part), part.strip()))
            value = chosen
        data[column.field] = value
    if any(h in cells for h in KELURAHAN_HEADERS):
        data["kelurahan_code"] = kelurahan_code
    if any(h in cells for h in RESIDENT_COLUMNS):
        residents = dict((current or {}).get("residents") or {})
        for header, key in RESIDENT_COLUMNS.items():
            if header in cells:
                residents[key] = cells[header]
        data["residents"] = residents
    return data


def _same(field_name: str, old: Any, new: Any) -> bool:
    if field_name in ("latitude", "longitude"):
        if old is None or new is None:
            return old is None and new is None
        return abs(float(old) - float(new)) < 1e-5  # REAL is 4 bytes on PostgreSQL
    if field_name == "legal_entity":
        return bool(old) == bool(new)
    if field_name == "services":
        return list(old or []) == list(new or [])
    if field_name == "akta_date" and isinstance(old, str):
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


async def _load_current(ids: set[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        for row in await Lks.select().where(Lks.id.is_in(ordered[start : start + 500])):
            out[row["id"]] = services.decode(row)
    return out


async def plan(table: Table, *, today: date) -> list[Planned]:
    places = await Places.load()
    kinds = kind_aliases()
    service_codes = service_aliases()
    existing = await Lks.select(Lks.id, Lks.name, Lks.kelurahan_code)
    known_ids = {r["id"] for r in existing}
    by_key: dict[tuple[str, str], list[int]] = {}
    for r in existing:
        by_key.setdefault((normalize_text(r["name"]), r["kelurahan_code"]), []).append(r["id"])

    # First pass: which LKS each row is about, and duplicates within the file.
    staged: list[tuple[RowResult, dict[str, str], dict[str, str], int | None, str]] = []
    seen_keys: dict[tuple[str, str], int] = {}
    seen_ids: dict[int, int] = {}
    by_name: set[int] = set()  # rows matched by name and kelurahan, not by id
    for number, cells in table.rows:
        name = " ".join(cells.get("nama", "").split())
        result = RowResult(row=number, name=name)
        errors: dict[str, str] = {}
        code, kel_column, kel_error, kel_warning = places.resolve(cells)
        if kel_error:
            errors[kel_column] = kel_error
        if kel_warning:
            result.warnings.append(kel_warning)
        target: int | None = None
        raw_id = cells.get("id", "").strip()
        if raw_id:
            number_text = raw_id[:-2] if raw_id.endswith(".0") else raw_id
            if not number_text.isdigit():
                errors["id"] = _("Not an LKS number: leave it empty for a new LKS.")
            elif int(number_text) not in known_ids:
                errors["id"] = _("There is no LKS with number %(id)s.", id=number_text)
            else:
                target = int(number_text)
        key = (normalize_text(name), code or normalize_text(cells.get("kelurahan", "")))
        if target is None and "id" not in errors and name and code:
            matches = by_key.get(key, [])
            if len(matches) == 1:
                target = matches[0]
                by_name.add(number)
            elif len(matches) > 1:
                errors["id"] = _(
                    "Several LKS with this name are registered in this kelurahan (numbers %(ids)s): write the number in the id column.",
                    ids=", ".join(map(str, sorted(matches))),
                )
        duplicate_of = seen_ids.get(target) if target is not None else None
        if duplicate_of is None and name:
            duplicate_of = seen_keys.get(key)
        if duplicate_of is not None:
            errors[""] = _("Row %(row)s of this file is already about the same LKS: this row is skipped.", row=duplicate_of)
        if target is not None:
            seen_ids.setdefault(target, number)
        if name:
            seen_keys.setdefault(key, number)
        result.lks_id = target
        staged.append((result, cells, errors, target, code))

    current_rows = await _load_current({t for _r, _c, _e, t, _k in staged if t is not None})

    # Second pass: the same checks as the form, and what would change.
    planned: list[Planned] = []
    for result, cells, errors, target, code in staged:
        current = current_rows.get(target) if target is not None else None
        data = _row_data(cells, current, code, kinds, service_codes, errors)
        if current is not None and result.row in by_name:
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
                errors.setdefault(column, message)
            if not exc.fields:
                errors.setdefault("", exc.message)
        if errors:
            result.outcome = REJECTED
            result.errors = sorted(errors.items(), key=lambda item: column_order(item[0]))
        else:
            assert checked is not None
            result.warnings += checked.warnings
            if current is None:
                result.outcome = CREATE
            else:
                result.changes = _changes(checked.values, current)
                result.outcome = UPDATE if result.changes else UNCHANGED
        planned.append(Planned(result, data, current["version"] if current else None))
    return planned


def notes(table: Table) -> list[str]:
    ignored = [h for h in table.headers if h in READ_ONLY_HEADERS]
    if ignored:
        return [_("These columns are for information only and were not imported: %(names)s.", names=", ".join(ignored))]
    return []
