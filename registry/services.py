"""LKS records: validation, create and edit (version-guarded), search and
filters, and what a viewer is shown of a record.

Plain async functions taking the acting user and ``now``; every change is
audited inside its own transaction. Who may see which LKS is
``registry.access``; the registration workflow is ``registry.workflow``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


from registry import documents, regions
from registry.access import get_lks, is_staff
from registry.risk_cache import lks_columns
from registry.search import SORTS, filtered, list_page, normalize_text
from registry.tables import AccreditationStatus, Lks, LksKind, RegistrationStatus, RiskLevel
from sigap import audit
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.errors import Conflict, Forbidden, ValidationError
from sigap.i18n import N_, WIB, _
from sigap.settings import get_settings

SERVICES = {
    "residential_care": N_("Residential care"),
    "family_based_care": N_("Family-based care"),
    "day_care": N_("Day care"),
    "education": N_("Education support"),
    "health": N_("Health care"),
    "vocational": N_("Vocational training"),
    "psychosocial": N_("Psychosocial support"),
    "spiritual": N_("Spiritual guidance"),
    "family_tracing": N_("Family tracing and reunification"),
    "advocacy": N_("Advocacy and referral"),
    "other": N_("Other services"),
}
AGE_BANDS = ("0_5", "6_12", "13_17", "18")
RESIDENT_KEYS = tuple(f"{sex}_{band}" for band in AGE_BANDS for sex in ("m", "f"))

# Fields an LKS's own manager may change; everything else is staff-only.
MANAGER_FIELDS = frozenset(
    {"phone", "email", "head_name", "capacity", "residents", "staff_caregivers", "staff_social_workers", "staff_other", "services"}
)
EDITABLE_FIELDS = MANAGER_FIELDS | {
    "name", "kind", "legal_entity", "yayasan_name", "akta_number", "akta_date", "sk_kemenkumham_number", "npwp",
    "address", "rt", "rw", "kelurahan_code", "latitude", "longitude",
}
# Monitoring fields an LKS's own manager must not see: a risk level or an
# incident flag would tell them an investigation (and unannounced visits)
# is under way.
STAFF_ONLY_FIELDS = frozenset({"risk_level", "open_incident"})


def search_text(row: dict) -> str:
    return normalize_text(" | ".join(str(row.get(k) or "") for k in ("name", "yayasan_name", "address", "head_name")))


# --- validation --------------------------------------------------------------


@dataclass
class Checked:
    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


MAX_COUNT = 100_000  # no LKS has more places, residents or staff than this
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: Any, name: str, errors: dict[str, str], *, max_length: int) -> str:
    """One line of text, spaces collapsed. Control characters (a stray
    ``\\x01`` breaks every spreadsheet export later) and overlong text are
    refused with a message, never cut or stored."""
    text = " ".join(str(value or "").split())
    if CONTROL_CHARS.search(text):
        errors[name] = _("Remove the invisible control characters from this text.")
    elif len(text) > max_length:
        errors[name] = _("At most %(n)s characters (this has %(len)s).", n=max_length, len=len(text))
    return text


def _int(value: Any, name: str, errors: dict[str, str], *, minimum: int = 0) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors[name] = _("Enter a whole number.")
        return 0
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[name] = _("Enter a whole number.")
        return 0
    if number < minimum:
        errors[name] = _("Must be %(n)s or more.", n=minimum)
    elif number > MAX_COUNT:
        errors[name] = _("Must be %(n)s or less.", n=MAX_COUNT)
        return 0
    return number


def _float(value: Any, name: str, errors: dict[str, str]) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        errors[name] = _("Enter a number, for example -6.2251.")
        return None


def _date(value: Any, name: str, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[name] = _("Dates must be written as YYYY-MM-DD.")
        return None


async def check_fields(data: dict[str, Any], *, current: dict | None, today: date) -> Checked:
    """Validate (and normalize) the given fields of an LKS. Missing keys keep
    the current values. Raises ValidationError listing every problem."""
    merged = dict(current or {})
    merged.update({k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    warnings: list[str] = []

    name = _text(merged.get("name"), "name", errors, max_length=200)
    if "name" not in errors and len(name) < 3:
        errors["name"] = _("Enter the LKS name (3 to 200 characters).")
    values["name"] = name

    kind = str(merged.get("kind") or "")
    if kind not in LksKind.__members__:
        errors["kind"] = _("Choose the kind of LKS.")
    values["kind"] = kind

    legal = merged.get("legal_entity", True)
    legal = legal if isinstance(legal, bool) else str(legal).lower() in {"1", "true", "on", "yes", "ya"}
    values["legal_entity"] = legal
    for key in ("yayasan_name", "akta_number", "sk_kemenkumham_number", "address", "head_name"):
        values[key] = _text(merged.get(key), key, errors, max_length=500 if key == "address" else 200)
    if legal and not values["yayasan_name"]:
        errors["yayasan_name"] = _("Enter the foundation's name, or mark the LKS as not a legal entity.")
    values["akta_date"] = _date(merged.get("akta_date"), "akta_date", errors)
    if values["akta_date"] and values["akta_date"] > today:
        errors["akta_date"] = _("The deed date cannot be in the future.")

    npwp = re.sub(r"[\s.\-]", "", str(merged.get("npwp") or ""))
    if npwp and not (npwp.isdigit() and len(npwp) in (15, 16)):
        errors["npwp"] = _("An NPWP has 15 or 16 digits.")
    values["npwp"] = npwp

    for key in ("rt", "rw"):
        raw = str(merged.get(key) or "").strip()
        if raw and not (raw.isdigit() and len(raw) <= 3):
            errors[key] = _("Up to 3 digits.")
        values[key] = raw.zfill(3) if raw.isdigit() else raw

    region = get_settings().region
    kelurahan = str(merged.get("kelurahan_code") or "").strip()
    village = await regions.village(kelurahan) if kelurahan else None
    if village is None or not kelurahan.startswith(region + "."):
        errors["kelurahan_code"] = _("Choose a kelurahan in this region.")
    values["kelurahan_code"] = kelurahan
    values["kecamatan_code"] = village["parent_code"] if village else ""

    lat = _float(merged.get("latitude"), "latitude", errors)
    lon = _float(merged.get("longitude"), "longitude", errors)
    if (lat is None) != (lon is None):
        errors["longitude" if lon is None else "latitude"] = _("Give both latitude and longitude, or neither.")
    elif lat is not None and lon is not None:
        box = regions.bounding_box(region)
        if box is not None and not box.contains(lat, lon):
            errors["latitude"] = _("These coordinates are outside the region of this office.")
    values["latitude"], values["longitude"] = lat, lon

    phone = re.sub(r"[\s\-().]", "", str(merged.get("phone") or ""))
    if phone and not re.fullmatch(r"(\+62|62|0)\d{7,13}", phone):
        errors["phone"] = _("Enter an Indonesian phone number, for example 021-5551234 or 0812 3456 7890.")
    values["phone"] = phone
    email = str(merged.get("email") or "").strip()
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        errors["email"] = _("Enter a valid e-mail address.")
    values["email"] = email

    values["capacity"] = _int(merged.get("capacity"), "capacity", errors)
    raw_residents = merged.get("residents") or {}
    if isinstance(raw_residents, str):
        try:
            raw_residents = json.loads(raw_residents or "{}")
        except ValueError:
            raw_residents = {}
    if not isinstance(raw_residents, dict):
        errors["residents"] = _("Give the residents as counts by sex and age group.")
        raw_residents = {}
    residents = {}
    for key in RESIDENT_KEYS:
        residents[key] = _int(raw_residents.get(key), f"residents_{key}", errors)
    values["residents"] = residents
    values["residents_total"] = sum(residents.values())
    for key in ("staff_caregivers", "staff_social_workers", "staff_other"):
        values[key] = _int(merged.get(key), key, errors)
    if values["capacity"] and values["residents_total"] > values["capacity"]:
        warnings.append(
            _(
                "There are more residents (%(residents)s) than the capacity (%(capacity)s).",
                residents=values["residents_total"],
                capacity=values["capacity"],
            )
        )

    services = merged.get("services") or []
    if isinstance(services, str):
        try:
            services = json.loads(services) if services.startswith("[") else [s for s in services.split(",") if s]
        except ValueError:
            services = []
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        errors["services"] = _("Choose services from the list.")
        services = []
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        errors["services"] = _("Unknown service: %(names)s.", names=", ".join(map(str, unknown)))
    values["services"] = [s for s in SERVICES if s in services]

    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    return Checked(values, warnings)


def _row_for_db(values: dict) -> dict:
    out = dict(values)
    out["residents"] = json.dumps(values["residents"])
    out["services"] = json.dumps(values["services"])
    return out


def decode(row: dict) -> dict:
    """JSON columns as Python values (Piccolo returns them as text)."""
    for key, default in (("residents", {}), ("services", [])):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key] or json.dumps(default))
    return row


# --- create and edit ---------------------------------------------------------


async def _fetch(lks_id: int) -> dict:
    return decode(await Lks.select(*lks_columns()).where(Lks.id == lks_id).first())


async def create_lks(actor: Actor, data: dict[str, Any], *, now: datetime) -> tuple[dict, list[str]]:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can register a new LKS."))
    checked = await check_fields(data, current=None, today=now.astimezone(WIB).date())
    values = _row_for_db(checked.values)
    async with write_transaction():
        lks = Lks(**values, search_text=search_text(checked.values), created_at=now, updated_at=now)
        await lks.save()
        row = await _fetch(lks.id)
        await audit.record(actor, "lks.create", "lks", lks.id, now=now, after=public_lks(row))
    return row, checked.warnings


def public_lks(row: dict, actor: Actor | None = None) -> dict:
    """A record as it is shown or audited: never its search text, and to
    anyone but staff never the monitoring fields (``STAFF_ONLY_FIELDS``)."""
    hidden = {"search_text"} | (STAFF_ONLY_FIELDS if actor is not None and not is_staff(actor) else set())
    return {k: v for k, v in row.items() if k not in hidden}


async def read_lks(actor: Actor, lks_id: int) -> dict:
    """One LKS this actor may see, its JSON columns decoded."""
    return decode(await get_lks(actor, lks_id))


def changeable(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``data`` this actor may change. The edit form sends
    every field; for a manager the staff-only ones are dropped, not refused
    (the API refuses them: ``update_lks``)."""
    if is_staff(actor):
        return dict(data)
    return {k: v for k, v in data.items() if k in MANAGER_FIELDS}


async def update_lks(actor: Actor, lks_id: int, data: dict[str, Any], *, version: int, now: datetime) -> tuple[dict, list[str]]:
    """Change fields of an LKS. A manager may change only MANAGER_FIELDS of
    their own LKS; a stale ``version`` is a conflict, never an overwrite."""
    before = await read_lks(actor, lks_id)
    fields = {k for k in data if k in EDITABLE_FIELDS}
    unknown = set(data) - EDITABLE_FIELDS - {"version"}
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(names)s.", names=", ".join(sorted(unknown))))
    if not is_staff(actor):
        forbidden = sorted(fields - MANAGER_FIELDS)
        if forbidden:
            raise Forbidden(
                _("Only Dinas Sosial staff can change: %(names)s.", names=", ".join(forbidden)),
                fields={name: _("Staff only.") for name in forbidden},
            )
    if before["version"] != version:
        raise Conflict(_("This LKS was changed by someone else in the meantime. Reload the page and apply your change again."))
    checked = await check_fields({k: data[k] for k in fields}, current=before, today=now.astimezone(WIB).date())
    values = _row_for_db(checked.values)
    async with write_transaction():
        changes = {getattr(Lks, k): v for k, v in values.items()}
        changes[Lks.search_text] = search_text(checked.values)
        changes[Lks.version] = version + 1
        changes[Lks.updated_at] = now
        updated = await Lks.update(changes).where((Lks.id == lks_id) & (Lks.version == version)).returning(Lks.id)
        if not updated:
            raise Conflict(_("This LKS was changed by someone else in the meantime. Reload the page and apply your change again."))
        after = await _fetch(lks_id)
        await audit.record(actor, "lks.update", "lks", lks_id, now=now, before=public_lks(before), after=public_lks(after))
    if set(checked.values) & {"kind", "legal_entity"}:
        await documents.refresh_completeness(lks_id, today=now.astimezone(WIB).date())
        after = await _fetch(lks_id)
    return after, checked.warnings


# --- lists -------------------------------------------------------------------

PAGE_SIZES = (25, 50, 100)
MONTH = re.compile(r"(19|20)\d\d-(0[1-9]|1[0-2])")
@dataclass
class LksFilter:
    q: str = ""
    kecamatan: str = ""
    kelurahan: str = ""
    kind: str = ""
    registration_status: str = ""
    accreditation_status: str = ""
    risk_level: str = ""
    open_incident: bool | None = None
    documents_missing: bool | None = None
    accreditation_grade: str = ""  # A / B / C
    registered_month: str = ""  # "YYYY-MM": the Tanda Daftar was issued that month (registered_on)
    valid_until_month: str = ""  # "YYYY-MM": its validity ends that month
    located: bool | None = None  # has coordinates (the map shows those; the list can show the others)

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> LksFilter:
        """The filter of a list's query string; unknown choices are ignored."""

        def choice(name: str, enum: type) -> str:
            value = params.get(name, "")
            return value if value in enum.__members__ else ""

        def flag(name: str) -> bool | None:
            return {"1": True, "true": True, "0": False, "false": False}.get((params.get(name) or "").lower())

        def month(name: str) -> str:
            value = params.get(name) or ""
            return value if MONTH.fullmatch(value) else ""

        return cls(
            q=params.get("q", "")[:200],
            kecamatan=params.get("kecamatan", ""),
            kelurahan=params.get("kelurahan", ""),
            kind=choice("kind", LksKind),
            registration_status=choice("registration_status", RegistrationStatus),
            accreditation_status=choice("accreditation_status", AccreditationStatus),
            risk_level=choice("risk_level", RiskLevel),
            open_incident=flag("open_incident"),
            documents_missing=flag("documents_missing"),
            accreditation_grade=params.get("accreditation_grade", "") if params.get("accreditation_grade") in ("A", "B", "C") else "",
            registered_month=month("registered_month"),
            valid_until_month=month("valid_until_month"),
            located=flag("located"),
        )

    @staticmethod
    def month_start(value: str) -> date | None:
        """The first day of a "YYYY-MM" month filter (for showing it)."""
        return date(int(value[:4]), int(value[5:]), 1) if value else None

    def as_query(self) -> dict[str, str]:
        out = {}
        for key, value in vars(self).items():
            if value in ("", None):
                continue
            out[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out


async def list_lks(actor: Actor, f: LksFilter, *, sort: str = "name", page: int = 1, per_page: int = 25) -> dict:
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))
    return await list_page(f, sort=sort, page=max(1, page), per_page=per_page if per_page in PAGE_SIZES else PAGE_SIZES[0])


async def iter_lks(actor: Actor, f: LksFilter, *, sort: str = "name", batch: int = 1000):
    """Every matching LKS (all columns), in batches: for exports."""
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))
    column, ascending = SORTS.get(sort, SORTS["name"])
    offset = 0
    while True:
        rows = await (
            filtered(Lks.select(*lks_columns()), f).order_by(column, ascending=ascending).order_by(Lks.id).limit(batch).offset(offset)
        )
        for row in rows:
            yield decode(row)
        if len(rows) < batch:
            return
        offset += batch
