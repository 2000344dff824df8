"""LKS records: validation, create and edit (version-guarded), access by
role, search and filters, and the registration workflow.

Plain async functions taking the acting user and ``now``; every change is
audited inside its own transaction."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from registry import regions
from registry.access import STAFF_ROLES, ensure_can_see, get_lks, is_staff, lks_exists  # noqa: F401  (re-exported for callers of services)
from registry.tables import (
    AccreditationStatus,
    Application,
    ApplicationKind,
    ApplicationStep,
    Lks,
    LksKind,
    RegistrationStatus,
    RiskLevel,
    StatusChange,
)
from sigap import audit
from sigap.audit import Actor
from sigap.db import is_sqlite, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, WIB, _, choice_label
from sigap.settings import get_settings
from sigap.tables import Role

KIND_LABELS = {
    LksKind.lksa: N_("LKSA (children)"),
    LksKind.elderly: N_("Elderly"),
    LksKind.disability: N_("Persons with disabilities"),
    LksKind.rehabilitation: N_("Social rehabilitation / NAPZA"),
    LksKind.other: N_("Other"),
}
STATUS_LABELS = {
    RegistrationStatus.unregistered: N_("Unregistered"),
    RegistrationStatus.applied: N_("Applied"),
    RegistrationStatus.document_check: N_("Document check"),
    RegistrationStatus.field_verification: N_("Field verification"),
    RegistrationStatus.registered: N_("Registered"),
    RegistrationStatus.expired: N_("Expired"),
    RegistrationStatus.suspended: N_("Suspended"),
    RegistrationStatus.revoked: N_("Revoked"),
    RegistrationStatus.closed: N_("Closed"),
}
ACCREDITATION_LABELS = {
    AccreditationStatus.none: N_("Not accredited"),
    AccreditationStatus.in_process: N_("Accreditation in process"),
    AccreditationStatus.accredited: N_("Accredited"),
    AccreditationStatus.expired: N_("Accreditation expired"),
}
RISK_LABELS = {RiskLevel.high: N_("High risk"), RiskLevel.medium: N_("Medium risk"), RiskLevel.low: N_("Low risk")}
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


label = choice_label


def normalize_text(value: str) -> str:
    """Lower-case, accents removed, spaces collapsed: for search."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def search_text(row: dict) -> str:
    return normalize_text(" | ".join(str(row.get(k) or "") for k in ("name", "yayasan_name", "address", "head_name")))


# --- validation --------------------------------------------------------------


@dataclass
class Checked:
    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _int(value: Any, name: str, errors: dict[str, str], *, minimum: int = 0) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[name] = _("Enter a whole number.")
        return 0
    if number < minimum:
        errors[name] = _("Must be %(n)s or more.", n=minimum)
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

    name = " ".join(str(merged.get("name") or "").split())
    if not 3 <= len(name) <= 200:
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
        values[key] = " ".join(str(merged.get(key) or "").split())[:200 if key != "address" else 500]
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
        import json

        try:
            raw_residents = json.loads(raw_residents or "{}")
        except ValueError:
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
        import json

        try:
            services = json.loads(services) if services.startswith("[") else [s for s in services.split(",") if s]
        except ValueError:
            services = []
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        errors["services"] = _("Unknown service: %(names)s.", names=", ".join(map(str, unknown)))
    values["services"] = [s for s in SERVICES if s in services]

    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    return Checked(values, warnings)


def _row_for_db(values: dict) -> dict:
    import json

    out = dict(values)
    out["residents"] = json.dumps(values["residents"])
    out["services"] = json.dumps(values["services"])
    return out


def decode(row: dict) -> dict:
    """JSON columns as Python values (Piccolo returns them as text)."""
    import json

    for key, default in (("residents", {}), ("services", [])):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key] or json.dumps(default))
    return row


# --- create and edit ---------------------------------------------------------


async def create_lks(actor: Actor, data: dict[str, Any], *, now: datetime) -> tuple[dict, list[str]]:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can register a new LKS."))
    checked = await check_fields(data, current=None, today=now.astimezone(WIB).date())
    values = _row_for_db(checked.values)
    async with write_transaction():
        lks = Lks(**values, search_text=search_text(checked.values), created_at=now, updated_at=now)
        await lks.save()
        row = decode(await Lks.select().where(Lks.id == lks.id).first())
        await audit.record(actor, "lks.create", "lks", lks.id, now=now, after=_public(row))
    return row, checked.warnings


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "search_text"}


async def update_lks(actor: Actor, lks_id: int, data: dict[str, Any], *, version: int, now: datetime) -> tuple[dict, list[str]]:
    """Change fields of an LKS. A manager may change only MANAGER_FIELDS of
    their own LKS; a stale ``version`` is a conflict, never an overwrite."""
    before = decode(await get_lks(actor, lks_id))
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
        after = decode(await Lks.select().where(Lks.id == lks_id).first())
        await audit.record(actor, "lks.update", "lks", lks_id, now=now, before=_public(before), after=_public(after))
    if set(checked.values) & {"kind", "legal_entity"}:
        from registry import documents

        await documents.refresh_completeness(lks_id)
        after = decode(await Lks.select().where(Lks.id == lks_id).first())
    return after, checked.warnings


# --- lists -------------------------------------------------------------------

SORTS = {
    "name": (Lks.name, True),
    "-name": (Lks.name, False),
    "updated": (Lks.updated_at, False),
    "valid_until": (Lks.valid_until, True),
    "status": (Lks.registration_status, True),
    "kecamatan": (Lks.kecamatan_code, True),
}
PAGE_SIZES = (25, 50, 100)


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

    def as_query(self) -> dict[str, str]:
        out = {}
        for key, value in vars(self).items():
            if value in ("", None):
                continue
            out[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out


FTS_MIN_LENGTH = 3  # the trigram index finds substrings of 3 characters or more


def _search(query, words: list[str]):
    """Every word must occur in search_text. PostgreSQL: LIKE, served by the
    pg_trgm index. SQLite: the FTS5 trigram index (one MATCH for all words of
    3+ characters; shorter words, which it cannot index, by LIKE)."""
    if not is_sqlite():
        for word in words:
            query = query.where(Lks.search_text.like(f"%{word}%"))
        return query
    indexed = [w for w in words if len(w) >= FTS_MIN_LENGTH]
    if indexed:
        match = " AND ".join('"' + w.replace('"', '""') + '"' for w in indexed)
        query = query.where(
            WhereRaw('"registry_lks"."id" IN (SELECT rowid FROM registry_lks_fts WHERE registry_lks_fts MATCH {})', match)
        )
    for word in words:
        if len(word) < FTS_MIN_LENGTH:
            query = query.where(Lks.search_text.like(f"%{word}%"))
    return query


def _filtered(query, f: LksFilter):
    if f.q.strip():
        query = _search(query, normalize_text(f.q).split()[:5])
    for column, value in (
        (Lks.kecamatan_code, f.kecamatan),
        (Lks.kelurahan_code, f.kelurahan),
        (Lks.kind, f.kind),
        (Lks.registration_status, f.registration_status),
        (Lks.accreditation_status, f.accreditation_status),
        (Lks.risk_level, f.risk_level),
    ):
        if value:
            query = query.where(column == value)
    if f.open_incident is not None:
        query = query.where(Lks.open_incident == f.open_incident)
    if f.documents_missing is not None:
        query = query.where(Lks.documents_complete == (not f.documents_missing))
    return query


LIST_COLUMNS = (
    Lks.id, Lks.name, Lks.kind, Lks.yayasan_name, Lks.address, Lks.kelurahan_code, Lks.kecamatan_code,
    Lks.registration_status, Lks.valid_until, Lks.accreditation_status, Lks.accreditation_grade, Lks.risk_level,
    Lks.open_incident, Lks.documents_complete, Lks.capacity, Lks.residents_total, Lks.updated_at,
)


async def list_lks(actor: Actor, f: LksFilter, *, sort: str = "name", page: int = 1, per_page: int = 25) -> dict:
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    page = max(1, page)
    column, ascending = SORTS.get(sort, SORTS["name"])
    order = column
    if f.q.strip():
        # The matches come from the search index: sort them, rather than walk
        # the sort column's index hoping to meet 25 of them early (matches
        # that sort late, "Panti Werdha ..." by name, made that a walk through
        # most of the table). ``|| ''`` keeps the order and hides the index.
        order = QueryString(f'"registry_lks"."{column._meta.db_column_name}" || \'\'')
    # The count and the page are independent: on PostgreSQL they run at the
    # same time on two pooled connections (SQLite's shared connection takes
    # them in turn, as before).
    total, rows = await asyncio.gather(
        _filtered(Lks.count(), f).run(),
        _filtered(Lks.select(*LIST_COLUMNS), f)
        .order_by(order, ascending=ascending)
        .order_by(Lks.id, ascending=True)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .run(),
    )
    return {"items": rows, "total": total, "page": page, "per_page": per_page, "pages": max(1, -(-total // per_page))}


async def iter_lks(actor: Actor, f: LksFilter, *, sort: str = "name", batch: int = 1000):
    """Every matching LKS (all columns), in batches: for exports."""
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))
    column, ascending = SORTS.get(sort, SORTS["name"])
    offset = 0
    while True:
        rows = await (
            _filtered(Lks.select(), f).order_by(column, ascending=ascending).order_by(Lks.id).limit(batch).offset(offset)
        )
        for row in rows:
            yield decode(row)
        if len(rows) < batch:
            return
        offset += batch


# --- registration workflow ---------------------------------------------------

S = RegistrationStatus
OPEN_STEPS = (ApplicationStep.applied, ApplicationStep.document_check, ApplicationStep.field_verification)


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    staff_only: bool
    needs_reason: bool


ACTIONS = {
    a.name: a
    for a in (
        Action("submit", N_("Submit registration application"), False, False),
        Action("renew", N_("Apply for renewal"), False, False),
        Action("start_document_check", N_("Start document check"), True, False),
        Action("return_to_applicant", N_("Return to applicant"), True, True),
        Action("start_field_verification", N_("Start field verification"), True, False),
        Action("approve", N_("Approve and issue the Tanda Daftar"), True, False),
        Action("reject", N_("Reject the application"), True, True),
        Action("suspend", N_("Suspend registration"), True, True),
        Action("reinstate", N_("Lift suspension"), True, True),
        Action("revoke", N_("Revoke registration"), True, True),
        Action("close", N_("Mark as closed"), True, True),
        Action("reopen", N_("Record as operating again"), True, True),
    )
}
RENEWAL_WINDOW_DAYS = 180


async def open_application(lks_id: int) -> dict | None:
    return (
        await Application.select()
        .where((Application.lks == lks_id) & (Application.step.is_in([s.value for s in OPEN_STEPS])))
        .order_by(Application.id, ascending=False)
        .first()
    )


def available_actions(actor: Actor, lks: dict, application: dict | None, today: date) -> list[Action]:
    """What this actor may do next with this LKS (for buttons and checks)."""
    status = S(lks["registration_status"])
    step = ApplicationStep(application["step"]) if application else None
    names: list[str] = []
    if status == S.closed:
        names = ["reopen"]
    elif step is None:
        if status in (S.unregistered, S.revoked):
            names.append("submit")
        if status == S.expired or (
            status == S.registered and lks["valid_until"] and (lks["valid_until"] - today).days <= RENEWAL_WINDOW_DAYS
        ):
            names.append("renew")
    elif step == ApplicationStep.applied:
        names += ["start_document_check", "reject"]
    elif step == ApplicationStep.document_check:
        names += ["start_field_verification", "return_to_applicant", "reject"]
    elif step == ApplicationStep.field_verification:
        names += ["approve", "return_to_applicant", "reject"]
    if status == S.registered:
        names.append("suspend")
    if status == S.suspended:
        names.append("reinstate")
    if status in (S.registered, S.suspended, S.expired):
        names.append("revoke")
    if status != S.closed:
        names.append("close")
    actions = [ACTIONS[n] for n in names]
    if is_staff(actor):
        return actions
    if actor.role == Role.manager and actor.lks_id == lks["id"]:
        return [a for a in actions if not a.staff_only]
    return []


async def next_certificate_number(now: datetime) -> str:
    year = now.astimezone(WIB).year
    region = get_settings().region
    suffix = f"/TD-LKS/{region}/{year}"
    rows = await Lks.select(Lks.certificate_number).where(Lks.certificate_number.like(f"%{suffix}"))
    numbers = [int(r["certificate_number"].split("/")[0]) for r in rows if r["certificate_number"].split("/")[0].isdigit()]
    return f"{(max(numbers) + 1) if numbers else 1:04d}{suffix}"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def transition(actor: Actor, lks_id: int, action_name: str, *, now: datetime, reason: str = "") -> dict:
    """Apply one workflow action; refuses with a clear message what the
    status, the role or missing documents do not allow."""
    from registry import documents

    reason = " ".join((reason or "").split())[:1000]
    today = now.astimezone(WIB).date()
    async with write_transaction():
        lks = await get_lks(actor, lks_id)
        application = await open_application(lks_id)
        allowed = {a.name: a for a in available_actions(actor, lks, application, today)}
        action = ACTIONS.get(action_name)
        if action is None:
            raise ValidationError(_("Unknown action."))
        if action_name not in allowed:
            if action.staff_only and not is_staff(actor):
                raise Forbidden(_("Only Dinas Sosial staff can do this."))
            raise Conflict(
                _(
                    "This is not possible while the status is “%(status)s”.",
                    status=label(STATUS_LABELS, lks["registration_status"]),
                )
            )
        if action.needs_reason and len(reason) < 5:
            raise ValidationError(_("Give a reason (at least 5 characters): the LKS manager will see it."), fields={"reason": _("Required.")})

        status = S(lks["registration_status"])
        new_status = status
        changes: dict = {}
        app_id = application["id"] if application else None

        if action_name in ("submit", "renew"):
            kind = ApplicationKind.renewal if action_name == "renew" else ApplicationKind.new
            app = Application(lks=lks_id, kind=kind.value, step=ApplicationStep.applied.value, opened_at=now, status_before=status.value)
            await app.save()
            app_id = app.id
            if status != S.registered:
                new_status = S.applied
        elif action_name in ("start_document_check", "start_field_verification", "return_to_applicant"):
            step = {
                "start_document_check": ApplicationStep.document_check,
                "start_field_verification": ApplicationStep.field_verification,
                "return_to_applicant": ApplicationStep.applied,
            }[action_name]
            if action_name == "start_field_verification":
                missing = await documents.missing_required(lks_id, today=today)
                if missing:
                    raise Conflict(
                        _(
                            "Field verification can start only when every required document is verified. Missing or not yet verified: %(names)s.",
                            names=", ".join(documents.type_label(t) for t in missing),
                        )
                    )
            await Application.update({Application.step: step.value}).where(Application.id == app_id)
            if status != S.registered:
                new_status = S(step.value)
        elif action_name == "approve":
            number = await next_certificate_number(now)
            years = get_settings().registration_validity_years
            changes = {
                Lks.certificate_number: number,
                Lks.registered_on: today,
                Lks.valid_until: _add_years(today, years),
            }
            await Application.update({Application.step: ApplicationStep.approved.value, Application.closed_at: now}).where(
                Application.id == app_id
            )
            new_status = S.registered
        elif action_name == "reject":
            await Application.update({Application.step: ApplicationStep.rejected.value, Application.closed_at: now}).where(
                Application.id == app_id
            )
            new_status = status if status == S.registered else S(application["status_before"])
        elif action_name == "suspend":
            new_status = S.suspended
        elif action_name == "reinstate":
            new_status = S.registered if lks["valid_until"] and lks["valid_until"] >= today else S.expired
        elif action_name == "revoke":
            new_status = S.revoked
            changes = {Lks.certificate_number: None}
            if application:
                await Application.update({Application.step: ApplicationStep.rejected.value, Application.closed_at: now}).where(
                    Application.id == app_id
                )
        elif action_name == "close":
            new_status = S.closed
            if application:
                await Application.update({Application.step: ApplicationStep.rejected.value, Application.closed_at: now}).where(
                    Application.id == app_id
                )
        elif action_name == "reopen":
            new_status = S.registered if lks["valid_until"] and lks["valid_until"] >= today and lks["certificate_number"] else (
                S.expired if lks["certificate_number"] else S.unregistered
            )

        changes.update(
            {
                Lks.registration_status: new_status.value,
                Lks.status_reason: reason,
                Lks.version: lks["version"] + 1,
                Lks.updated_at: now,
            }
        )
        await Lks.update(changes).where(Lks.id == lks_id)
        await StatusChange.insert(
            StatusChange(
                lks=lks_id,
                application=app_id,
                at=now,
                action=action_name,
                from_status=status.value,
                to_status=new_status.value,
                reason=reason,
                actor=actor.user_id,
                actor_name=actor.username,
            )
        )
        after = await Lks.select().where(Lks.id == lks_id).first()
        await audit.record(
            actor,
            f"lks.{action_name}",
            "lks",
            lks_id,
            now=now,
            before={"registration_status": status.value, "certificate_number": lks["certificate_number"], "valid_until": lks["valid_until"]},
            after={
                "registration_status": new_status.value,
                "certificate_number": after["certificate_number"],
                "valid_until": after["valid_until"],
                "reason": reason,
            },
        )
    return decode(after)


async def history(actor: Actor, lks_id: int) -> list[dict]:
    ensure_can_see(actor, lks_id)
    return await StatusChange.select().where(StatusChange.lks == lks_id).order_by(StatusChange.id, ascending=False)


async def expire_registrations(*, now: datetime) -> int:
    """Registered LKS past their validity become expired (idempotent)."""
    today = now.astimezone(WIB).date()
    system = Actor.system("scheduler")
    due = await Lks.select(Lks.id, Lks.valid_until, Lks.version).where(
        (Lks.registration_status == S.registered.value) & (Lks.valid_until < today)
    )
    count = 0
    for row in due:
        async with write_transaction():
            updated = await Lks.update(
                {
                    Lks.registration_status: S.expired.value,
                    Lks.status_reason: "",
                    Lks.version: row["version"] + 1,
                    Lks.updated_at: now,
                }
            ).where((Lks.id == row["id"]) & (Lks.registration_status == S.registered.value)).returning(Lks.id)
            if not updated:
                continue
            await StatusChange.insert(
                StatusChange(lks=row["id"], at=now, action="expire", from_status=S.registered.value, to_status=S.expired.value, reason="", actor_name="system")
            )
            await audit.record(
                system, "lks.expire", "lks", row["id"], now=now,
                before={"registration_status": "registered"}, after={"registration_status": "expired", "valid_until": row["valid_until"]},
            )
            count += 1
    return count
