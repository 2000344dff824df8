"""Staff's side of public reports: the list (new first), one report (its
text audited as a read, its contact shown only on request and each such
read audited), the photo, and the triage: into an incident (source:
public complaint), an unregistered-LKS report (a registry sighting with
source "public" and the tracking code as its reference) or a closure with
a reason. A report is triaged once: the decision runs under a row lock
with a version check, so two members of staff deciding at once get one
incident and a clear conflict, never two."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, BinaryIO

from inspections.incidents import services as incidents
from inspections.incidents.tables import IncidentSource
from inspections.planning.services import today_wib
from inspections.public_reports.services import STATUS_COLUMNS, derive_status, display_code
from inspections.public_reports.tables import PublicReport, Triage
from registry import regions
from registry.access import is_staff
from registry.documents import StorageUnavailable
from registry.sightings import services as sightings
from registry.sightings.tables import SightingSource
from sigap import audit
from sigap.audit import Actor
from sigap.db import lock_row, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, _
from sigap.storage import ObjectNotFound, Storage, StorageError

LIST_LIMIT = 200
TRIAGE_LABELS = {
    "": N_("To triage"),
    Triage.incident: N_("Incident"),
    Triage.sighting: N_("Unregistered LKS"),
    Triage.closed: N_("Closed"),
}
CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")


def _staff_only(actor: Actor) -> None:
    """Anyone else is told the report does not exist."""
    if not is_staff(actor):
        raise NotFound(_("Report not found."))


async def _with_regions(rows: list[dict]) -> list[dict]:
    for row in rows:  # a picked LKS: its own kelurahan
        if not row["kelurahan_code"] and row.get("lks_kelurahan_code"):
            row["kelurahan_code"], row["kecamatan_code"] = row["lks_kelurahan_code"], row["lks_kecamatan_code"] or ""
    names = await regions.region_names({r["kelurahan_code"] for r in rows} | {r["kecamatan_code"] for r in rows} - {""})
    for row in rows:
        row["kelurahan_name"] = names.get(row["kelurahan_code"], "")
        row["kecamatan_name"] = names.get(row["kecamatan_code"], "")
        row["status"], row["closed_at"] = derive_status(row)
        row["code_display"] = display_code(row["code"])
    return rows


LIST_COLUMNS = (
    PublicReport.id, PublicReport.code, PublicReport.lks, PublicReport.lks.name.as_alias("lks_name"),
    PublicReport.lks.kelurahan_code.as_alias("lks_kelurahan_code"), PublicReport.lks.kecamatan_code.as_alias("lks_kecamatan_code"),
    PublicReport.place_name, PublicReport.kelurahan_code, PublicReport.kecamatan_code, PublicReport.incident,
    PublicReport.sighting, *STATUS_COLUMNS,
)


async def list_reports(actor: Actor, *, triage: str | None = "", limit: int = LIST_LIMIT) -> list[dict]:
    """Reports newest first, without their text or contact (a list is not
    an audited read); ``triage``: "" the untriaged, a Triage value, None all.
    Two queries, whatever the count."""
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))
    query = PublicReport.select(*LIST_COLUMNS).order_by(PublicReport.received_at, ascending=False).order_by(
        PublicReport.id, ascending=False
    ).limit(limit)
    if triage is not None:
        query = query.where(PublicReport.triage == triage)
    return await _with_regions(await query)


async def count_untriaged() -> int:
    return await PublicReport.count().where(PublicReport.triage == "")


async def get_report(actor: Actor, report_id: int, *, now: datetime, with_contact: bool = False) -> dict:
    """One report with its text (audited: ``public_report.view``); the
    reporter's contact only when asked for (audited on its own:
    ``public_report.contact_view``)."""
    _staff_only(actor)
    row = await PublicReport.select(
        *PublicReport.all_columns(exclude=[PublicReport.client_key, PublicReport.sender_key]),
        PublicReport.lks.name.as_alias("lks_name"), PublicReport.lks.registration_status.as_alias("lks_status"),
        PublicReport.lks.kelurahan_code.as_alias("lks_kelurahan_code"), PublicReport.lks.kecamatan_code.as_alias("lks_kecamatan_code"),
        PublicReport.triaged_by.username.as_alias("triaged_by_name"), *STATUS_COLUMNS[3:],
    ).where(PublicReport.id == report_id).first()
    if row is None:
        raise NotFound(_("Report not found."))
    row["has_contact"] = any(row[k] for k in CONTACT_FIELDS)
    if with_contact and row["has_contact"]:
        await audit.record(actor, "public_report.contact_view", "public_report", report_id, now=now)
    else:
        for key in CONTACT_FIELDS:
            row[key] = ""
        await audit.record(actor, "public_report.view", "public_report", report_id, now=now)
    return (await _with_regions([row]))[0]


async def open_photo(actor: Actor, report_id: int, *, storage: Storage, now: datetime) -> tuple[dict, BinaryIO]:
    _staff_only(actor)
    row = await PublicReport.select(PublicReport.id, PublicReport.code, PublicReport.photo_key, PublicReport.photo_type).where(
        PublicReport.id == report_id
    ).first()
    if row is None or not row["photo_key"]:
        raise NotFound(_("This report has no photo."))
    await audit.record(actor, "public_report.photo_view", "public_report", report_id, now=now)
    try:
        return row, await storage.open(row["photo_key"])
    except ObjectNotFound as exc:
        raise NotFound(_("The photo of this report is missing from storage.")) from exc
    except StorageError as exc:
        raise StorageUnavailable(_("Photo storage is unavailable right now. Please try again later.")) from exc


async def report_for_incident(incident_id: int) -> dict | None:
    """The public report an incident came from (for the incident's page)."""
    return await PublicReport.select(PublicReport.id, PublicReport.code).where(PublicReport.incident == incident_id).first()


# --- triage ------------------------------------------------------------------------


async def _claim(report_id: int, version: int | None) -> dict:
    """Inside the write transaction: the report, still untriaged and at the
    version the deciding page showed, locked until the decision is written."""
    await lock_row(PublicReport, report_id)
    row = await PublicReport.select().where(PublicReport.id == report_id).first()
    if row is None:
        raise NotFound(_("Report not found."))
    if row["triage"]:
        raise Conflict(_("This report has already been triaged by someone else; nothing was changed. Reload it to see the decision."))
    if version is not None and version != row["version"]:
        raise Conflict(_("Someone else changed this report in the meantime. Reload it and decide again."))
    return row


async def _decide(actor: Actor, row: dict, triage: Triage, *, now: datetime, **values: Any) -> None:
    await PublicReport.update({
        PublicReport.triage: triage.value, PublicReport.triaged_by: actor.user_id, PublicReport.triaged_at: now,
        PublicReport.version: row["version"] + 1, **{getattr(PublicReport, k): v for k, v in values.items()},
    }).where(PublicReport.id == row["id"])
    await audit.record(actor, f"public_report.{triage.value}", "public_report", row["id"], now=now,
                       before={"triage": "", "version": row["version"]},
                       after={"triage": triage.value, "version": row["version"] + 1,
                              **{k: v for k, v in values.items() if k != "close_reason"}})


def _date(value: Any, fallback: date) -> date | str:
    return value if isinstance(value, date) else (str(value).strip() if str(value or "").strip() else fallback)


async def to_incident(actor: Actor, report_id: int, *, version: int | None, lks_id: int | None, category: str,
                      severity: str, occurred_on: date | str | None, now: datetime) -> dict:
    """Record the incident this report describes (source: public complaint)
    and link the two; the LKS is the one the reporter picked, or the one
    staff pick for a described place."""
    _staff_only(actor)
    async with write_transaction():
        row = await _claim(report_id, version)
        lks = row["lks"] or lks_id
        if not lks:
            raise ValidationError(_("Please correct the marked fields."),
                                  fields={"lks_id": _("Choose the LKS this incident is about.")})
        description = f"{row['what']}\n\n" + _("From public report %(code)s.", code=display_code(row["code"]))
        incident = await incidents.record_incident(
            actor, lks_id=lks, source=IncidentSource.public_complaint.value, category=category, severity=severity,
            occurred_on=_date(occurred_on, today_wib(row["received_at"])), description=description, now=now,
        )
        await _decide(actor, row, Triage.incident, now=now, incident=incident["id"])
    return await PublicReport.select().where(PublicReport.id == report_id).first()


async def to_sighting(actor: Actor, report_id: int, *, version: int | None, data: dict[str, Any], now: datetime,
                      storage: Storage, reported_hooks: Sequence[sightings.ReportedHook] = ()) -> dict:
    """Record the place as an unregistered LKS report (a registry sighting,
    source "public", the tracking code as its reference): a new unregistered
    LKS, or a known one picked by staff."""
    _staff_only(actor)
    async with write_transaction():
        row = await _claim(report_id, version)
        sighting_data = {
            "lks_id": data.get("lks_id") or "", "name": data.get("name") or row["place_name"],
            "address": data.get("address") or row["place_address"],
            "kelurahan_code": data.get("kelurahan_code") or row["kelurahan_code"], "kind": data.get("kind") or "other",
            "seen": row["what"][:2000], "confirm_new": data.get("confirm_new") or "",
        }
        sighting, _created = await sightings.create(
            actor, sighting_data, now=now, storage=storage, max_photo_bytes=0, reported_hooks=reported_hooks,
            source=SightingSource.public.value, source_ref=row["code"],
        )
        await _decide(actor, row, Triage.sighting, now=now, sighting=sighting["id"])
    return await PublicReport.select().where(PublicReport.id == report_id).first()


async def close(actor: Actor, report_id: int, *, version: int | None, reason: str, now: datetime) -> dict:
    """Close the report with a reason (kept for staff; the reporter sees only
    "closed")."""
    _staff_only(actor)
    reason = " ".join(sightings._clean(reason, 2000).split())
    if len(reason) < 5:
        raise ValidationError(_("Please correct the marked fields."),
                              fields={"reason": _("Give the reason for closing (at least 5 characters).")})
    async with write_transaction():
        row = await _claim(report_id, version)
        await _decide(actor, row, Triage.closed, now=now, close_reason=reason)
    return await PublicReport.select().where(PublicReport.id == report_id).first()
