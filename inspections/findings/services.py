"""Finding rules: a finding is recorded by a visit report or a completed
task; the LKS's manager answers it with evidence; Dinas Sosial closes it
(with a note) or schedules a re-inspection (``follow_up.py``).

Who sees findings: staff and admins all of them; an LKS's manager those of
their own LKS, without anything of the inspection behind it (task, visit,
re-inspection date: visits may be unannounced). Inspectors and partners see
an LKS's open findings on its field view. Writes are version-checked and
audited in their own transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from inspections.findings.tables import Finding, FindingResponse, FindingSeverity, FindingStatus, Responsible
from registry import documents
from registry.access import is_staff
from sigap import audit
from sigap.audit import Actor
from sigap.db import all_of, built_once, fetch, fetch_where, key_in, key_is, select_all, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, WIB, _
from sigap.tables import Role

FINDING_SEVERITY_LABELS = {
    FindingSeverity.minor: N_("Minor"),
    FindingSeverity.major: N_("Major"),
    FindingSeverity.critical: N_("Critical"),
}
FINDING_STATUS_LABELS = {
    FindingStatus.open: N_("Open: waiting for the LKS"),
    FindingStatus.answered: N_("Answered: waiting for Dinas Sosial"),
    FindingStatus.closed: N_("Closed"),
}
RESPONSIBLE_LABELS = {
    Responsible.lks: N_("The LKS's management"),
    Responsible.dinsos: N_("Dinas Sosial"),
    Responsible.team: N_("The joint team"),
}
UNRESOLVED = (FindingStatus.open.value, FindingStatus.answered.value)
EVIDENCE_DOC_TYPE = "finding_evidence"
CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
# What an LKS's manager never sees of a finding: the inspection behind it.
INSPECTION_FIELDS = ("task", "visit", "follow_up_task", "closed_by", "version")


def today_wib(now: datetime) -> date:
    return now.astimezone(WIB).date()


def is_overdue(finding: dict, today: date) -> bool:
    return finding["status"] in UNRESOLVED and finding["due_on"] < today


def stale() -> Conflict:
    return Conflict(_("This finding was changed by someone else in the meantime. Reload the page and try again."))


# --- recording ------------------------------------------------------------------------


async def add_finding(task: dict, data: dict, *, now: datetime) -> None:
    """The finding of a task completed without a visit report (the task
    form's severity, description and due date)."""
    severity = data.get("severity")
    description = " ".join(str(data.get("description") or "").split())
    due = data.get("due_on")
    errors = {}
    if severity not in FindingSeverity.__members__:
        errors["finding_severity"] = _("Choose how serious the finding is.")
    if len(description) < 5:
        errors["finding_description"] = _("Describe the finding (at least 5 characters).")
    if not isinstance(due, date) or due < today_wib(now):
        errors["finding_due_on"] = _("Give the date by which it must be corrected.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    await Finding.insert(
        Finding(lks=task["lks"], task=task["id"], severity=severity, description=description, due_on=due, status="open", created_at=now)
    )


# --- reading --------------------------------------------------------------------------


async def findings_of(lks_id: int, *, open_only: bool = True) -> list[dict]:
    """An LKS's findings, earliest due first (open only: not yet closed)."""
    # On every view of the LKS page (its findings panel): the statement is built once.
    sql = select_all(Finding) + ' WHERE "inspections_finding"."lks" = {}'
    if open_only:
        sql += ' AND "inspections_finding"."status" IN (' + ", ".join("{}" for _status in UNRESOLVED) + ")"
        return await fetch(sql + ' ORDER BY "inspections_finding"."due_on"', lks_id, *UNRESOLVED)
    return await fetch(sql + ' ORDER BY "inspections_finding"."due_on"', lks_id)


async def task_findings(task_id: int) -> list[dict]:
    # Read on every view of the task page: a prebuilt SELECT (Piccolo took
    # longer to build the query than the database to run it).
    return await fetch_where(select_all(Finding), key_is(Finding.task, task_id), ' ORDER BY "inspections_finding"."id"')


@dataclass
class FindingFilter:
    lks_id: int | None = None
    finding_id: int | None = None
    status: str = ""  # a FindingStatus, "unresolved" or "" (all)
    severity: str = ""
    overdue: bool = False
    kecamatan: str = ""


def _visible(actor: Actor, query):
    if is_staff(actor):
        return query
    if actor.role == Role.manager and actor.lks_id:
        return query.where(Finding.lks == actor.lks_id)
    raise Forbidden(_("Your role does not allow this action."))


def for_viewer(actor: Actor, row: dict) -> dict:
    """A finding as ``actor`` may see it (a manager: without the inspection)."""
    if is_staff(actor):
        return row
    return {k: v for k, v in row.items() if k not in INSPECTION_FIELDS}


def _finding_list_query():
    return Finding.select(
        *Finding.all_columns(), Finding.lks.name.as_alias("lks_name"), Finding.lks.kecamatan_code.as_alias("kecamatan_code"),
    )


async def search_findings(actor: Actor, filters: FindingFilter, *, now: datetime, limit: int = 300) -> list[dict]:
    """Findings ``actor`` may see (staff: all; a manager: their LKS's),
    earliest due first, each with its LKS name, overdue flag and responses."""
    conditions = []
    if not is_staff(actor):
        if not (actor.role == Role.manager and actor.lks_id):
            raise Forbidden(_("Your role does not allow this action."))
        conditions.append(key_is(Finding.lks, actor.lks_id))  # as _visible
    today = today_wib(now)
    if filters.lks_id is not None:
        conditions.append(key_is(Finding.lks, filters.lks_id))
    if filters.finding_id is not None:
        conditions.append(Finding.id == filters.finding_id)
    if filters.status == "unresolved" or filters.overdue:
        conditions.append(Finding.status.is_in(list(UNRESOLVED)))
    elif filters.status:
        conditions.append(Finding.status == filters.status)
    if filters.severity:
        conditions.append(Finding.severity == filters.severity)
    if filters.overdue:
        conditions.append(Finding.due_on < today)
    if filters.kecamatan:
        conditions.append(Finding.lks.kecamatan_code == filters.kecamatan)
    condition = all_of(conditions)
    # The findings list and a manager's home read this on every view: its
    # columns and join are built once.
    rows = await fetch_where(
        built_once("inspections.search_findings", _finding_list_query), condition,
        ' ORDER BY "inspections_finding"."due_on", "inspections_finding"."id" LIMIT {}', limit,
    )
    responses = await responses_of([r["id"] for r in rows])
    return [{**for_viewer(actor, r), "overdue": is_overdue(r, today), "responses": responses.get(r["id"], [])} for r in rows]


async def finding_detail(actor: Actor, finding_id: int, *, now: datetime) -> dict:
    """One finding as :func:`search_findings` shows it."""
    rows = await search_findings(actor, FindingFilter(finding_id=finding_id), now=now)
    if not rows:
        raise NotFound(_("Finding not found."))
    return rows[0]


def _responses_query():
    return FindingResponse.select(
        FindingResponse.id, FindingResponse.finding, FindingResponse.text, FindingResponse.document, FindingResponse.created_at,
        FindingResponse.document.filename.as_alias("document_name"),
    )


async def responses_of(finding_ids: list[int]) -> dict[int, list[dict]]:
    if not finding_ids:
        return {}
    out: dict[int, list[dict]] = {}
    rows = await fetch_where(
        built_once("inspections.finding_responses", _responses_query), key_in(FindingResponse.finding, finding_ids),
        ' ORDER BY "inspections_finding_response"."id"',
    )
    for r in rows:
        out.setdefault(r["finding"], []).append(r)
    return out


async def get_finding(actor: Actor, finding_id: int) -> dict:
    row = await _visible(actor, Finding.select()).where(Finding.id == finding_id).first()
    if row is None:
        raise NotFound(_("Finding not found."))
    return row


async def findings_panel(actor: Actor, lks: dict) -> dict | None:
    """The registry's LKS_DETAIL_PANELS provider: the LKS's unresolved
    findings, for staff and for the LKS's own manager (who answers them)."""
    if not (is_staff(actor) or (actor.role == Role.manager and actor.lks_id == lks["id"])):
        return None
    rows = await findings_of(lks["id"])
    return {"template": "inspections/findings/_panel.html", "findings": rows, "is_staff": is_staff(actor)}


# --- the LKS's answer -----------------------------------------------------------------


@dataclass
class Evidence:
    filename: str
    fileobj: BinaryIO


async def respond(
    actor: Actor, finding_id: int, *, text: str, client_id: str, now: datetime, storage: Any, max_bytes: int,
    evidence: Evidence | None = None,
) -> tuple[dict, bool]:
    """The LKS's manager answers a finding (what was done), optionally with
    evidence stored as a document of the LKS. The finding becomes
    ``answered``. Returns (response, created): a retry with the same
    ``client_id`` returns the stored response and stores nothing."""
    if actor.role != Role.manager:
        raise Forbidden(_("Only the LKS's manager can answer a finding."))
    if not CLIENT_ID.fullmatch(client_id or ""):
        raise ValidationError(_("The client id must be 8 to 64 letters, digits or . _ : -"), fields={"client_id": _("Invalid.")})
    finding = await get_finding(actor, finding_id)
    existing = await FindingResponse.select().where(FindingResponse.client_id == client_id).first()
    if existing is not None:
        if existing["finding"] != finding_id:
            raise Conflict(_("This client id was already used for another answer."), fields={"client_id": _("Already used.")})
        return existing, False
    text = " ".join((text or "").split())[:5000]
    if len(text) < 5:
        raise ValidationError(_("Please correct the marked fields."), fields={"text": _("Say what was done (at least 5 characters).")})
    if finding["status"] == FindingStatus.closed.value:
        raise Conflict(_("This finding is already closed."))
    document_id = None
    if evidence is not None:
        document, _created = await documents.upload(
            actor, finding["lks"], doc_type=EVIDENCE_DOC_TYPE, filename=evidence.filename, fileobj=evidence.fileobj,
            now=now, storage=storage, max_bytes=max_bytes, client_id=client_id,
        )
        document_id = document["id"]
    return await _store_response(actor, finding, text=text, document_id=document_id, client_id=client_id, now=now)


async def _store_response(actor: Actor, finding: dict, *, text: str, document_id: int | None, client_id: str, now: datetime) -> tuple[dict, bool]:
    try:
        async with write_transaction():
            response = FindingResponse(finding=finding["id"], text=text, document=document_id, client_id=client_id,
                                       created_by=actor.user_id, created_at=now)
            await response.save()
            await Finding.update({
                Finding.status: FindingStatus.answered.value, Finding.updated_at: now, Finding.version: Finding.version + 1,
            }).where(Finding.id == finding["id"])
            row = await FindingResponse.select().where(FindingResponse.id == response.id).first()
            await audit.record(actor, "finding.respond", "finding", finding["id"], now=now,
                               after={"response": response.id, "text": text, "document": document_id})
        return row, True
    except Exception:
        # A concurrent retry with the same client id stored it first.
        stored = await FindingResponse.select().where(FindingResponse.client_id == client_id).first()
        if stored is None:
            raise
        return stored, False


# --- Dinas Sosial's decision ------------------------------------------------------------


async def checked_for_decision(actor: Actor, finding_id: int, version: int | None) -> dict:
    """The finding, if staff may decide on it now (not closed, not stale)."""
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can close a finding or schedule a re-inspection."))
    finding = await get_finding(actor, finding_id)
    if version is not None and finding["version"] != version:
        raise stale()
    if finding["status"] == FindingStatus.closed.value:
        raise Conflict(_("This finding is already closed."))
    return finding


async def update_checked(finding: dict, changes: dict, *, now: datetime) -> dict:
    """Apply ``changes`` only if nobody changed the finding since it was
    read; returns the row after."""
    updated = await Finding.update({**changes, Finding.updated_at: now, Finding.version: finding["version"] + 1}).where(
        (Finding.id == finding["id"]) & (Finding.version == finding["version"])
    ).returning(Finding.id)
    if not updated:
        raise stale()
    return await Finding.select().where(Finding.id == finding["id"]).first()


async def close_finding(actor: Actor, finding_id: int, *, now: datetime, note: str = "", version: int | None = None) -> dict:
    """Staff close a finding (corrected, or no longer relevant) with a note."""
    note = " ".join((note or "").split())[:2000]
    async with write_transaction():
        before = await checked_for_decision(actor, finding_id, version)
        if len(note) < 5:
            raise ValidationError(_("Please correct the marked fields."), fields={"note": _("Say why it is closed (at least 5 characters).")})
        after = await update_checked(before, {
            Finding.status: FindingStatus.closed.value, Finding.closed_at: now, Finding.closed_by: actor.user_id,
            Finding.closure_note: note,
        }, now=now)
        await audit.record(actor, "finding.close", "finding", finding_id, now=now, before=before, after=after)
    return after
