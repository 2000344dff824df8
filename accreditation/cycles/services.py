"""Accreditation cycles and their stages; the LKS row's accreditation
fields are derived from them here (``sync_lks``) and nowhere else.

Derived status: accredited while any cycle holds a grade still valid (a
renewal under way does not take it away); otherwise in process while the
latest cycle is preparing, self-assessing, submitted or visited; expired
when the latest cycle expired; none otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from accreditation.cycles.tables import Cycle, Stage, StageChange
from accreditation.instruments.services import grading
from registry.access import ensure_can_see, is_staff
from registry.accreditation_cache import set_accreditation
from registry.tables import AccreditationStatus, Document, Lks
from sigap import audit
from sigap.audit import Actor
from sigap.db import fetch, lock_row, select_all, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, WIB, _

STAGE_LABELS = {
    Stage.not_started.value: N_("Not started"),
    Stage.preparing.value: N_("Preparing"),
    Stage.self_assessment.value: N_("Self-assessment"),
    Stage.submitted.value: N_("Submitted to BALKS"),
    Stage.assessor_visit.value: N_("Assessor visit"),
    Stage.accredited.value: N_("Accredited"),
    Stage.not_accredited.value: N_("Not accredited"),
    Stage.expired.value: N_("Expired"),
}
IN_PROCESS = frozenset({Stage.preparing.value, Stage.self_assessment.value, Stage.submitted.value, Stage.assessor_visit.value})
FINAL = frozenset({Stage.accredited.value, Stage.not_accredited.value, Stage.expired.value})
# Where staff may move a cycle by hand (expiry is the job's; self-assessment
# submission and the recommendation letter move it through their services).
MOVES = {
    Stage.preparing.value: {Stage.self_assessment.value, Stage.submitted.value},
    Stage.self_assessment.value: {Stage.preparing.value, Stage.submitted.value},
    Stage.submitted.value: {Stage.assessor_visit.value, Stage.accredited.value, Stage.not_accredited.value},
    Stage.assessor_visit.value: {Stage.accredited.value, Stage.not_accredited.value},
    Stage.accredited.value: set(),
    Stage.not_accredited.value: set(),
    Stage.expired.value: set(),
}


def today_wib(now: datetime) -> date:
    return now.astimezone(WIB).date()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def valid_until_for(grade: str, decided: date) -> date:
    """The default end of validity: the decision date plus the grade's years."""
    years = (await grading())["validity_years"]
    return add_years(decided, int(years[grade]))


def _staff_only(actor: Actor) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can change an accreditation record."))


# --- the derived LKS fields --------------------------------------------------------------


def derive(cycles: list[dict], today: date) -> tuple[str, str | None, date | None]:
    """(status, grade, valid until) of an LKS from its cycles (any order)."""
    ordered = sorted(cycles, key=lambda c: c["id"])
    valid = [c for c in ordered if c["stage"] == Stage.accredited.value and c["valid_until"] and c["valid_until"] >= today]
    if valid:
        best = max(valid, key=lambda c: c["valid_until"])
        return AccreditationStatus.accredited.value, best["grade"], best["valid_until"]
    if not ordered:
        return AccreditationStatus.none.value, None, None
    latest = ordered[-1]
    if latest["stage"] in IN_PROCESS:
        return AccreditationStatus.in_process.value, None, None
    if latest["stage"] == Stage.expired.value:
        return AccreditationStatus.expired.value, latest["grade"], latest["valid_until"]
    return AccreditationStatus.none.value, None, None


async def sync_lks(lks_id: int, *, now: datetime) -> None:
    """Recompute the LKS row's accreditation cache (in the caller's transaction)."""
    cycles = await Cycle.select(Cycle.id, Cycle.stage, Cycle.grade, Cycle.valid_until).where(Cycle.lks == lks_id)
    status, grade, until = derive(cycles, today_wib(now))
    await set_accreditation(lks_id, status=status, grade=grade, valid_until=until, now=now)


# --- reading -----------------------------------------------------------------------------


async def latest_cycle(lks_id: int) -> dict | None:
    # On every view of the LKS page (its accreditation panel): built once.
    rows = await fetch(select_all(Cycle) + ' WHERE "accreditation_cycle"."latest_key" = {} LIMIT 1', str(lks_id))
    return rows[0] if rows else None


async def get_cycle(actor: Actor, cycle_id: int) -> dict:
    row = await Cycle.select().where(Cycle.id == cycle_id).first()
    if row is None:
        raise NotFound(_("Accreditation cycle not found."))
    try:
        ensure_can_see(actor, row["lks"])
    except NotFound:
        raise NotFound(_("Accreditation cycle not found.")) from None
    return row


async def history(actor: Actor, lks_id: int) -> list[dict]:
    """Every cycle of the LKS, newest first, each with its stage changes."""
    ensure_can_see(actor, lks_id)
    cycles = await Cycle.select(
        *Cycle.all_columns(), Cycle.certificate.filename.as_alias("certificate_filename"),
    ).where(Cycle.lks == lks_id).order_by(Cycle.id, ascending=False)
    changes = await StageChange.select().where(
        StageChange.cycle.is_in([c["id"] for c in cycles] or [0])).order_by(StageChange.at).order_by(StageChange.id)
    for cycle in cycles:
        cycle["changes"] = [c for c in changes if c["cycle"] == cycle["id"]]
    return cycles


# --- writing -----------------------------------------------------------------------------


async def _log(cycle_id: int, from_stage: str, to_stage: str, actor: Actor, now: datetime, note: str = "") -> None:
    await StageChange.insert(StageChange(cycle=cycle_id, at=now, from_stage=from_stage, to_stage=to_stage, note=note,
                                         actor=actor.user_id, actor_name=actor.username[:200]))


async def _new_cycle(lks_id: int, *, stage: str, actor: Actor, now: datetime, source: str = "sigap", **values) -> dict:
    """Open a cycle (inside a write transaction) after checking the latest is final."""
    await lock_row(Lks, lks_id)
    latest = await latest_cycle(lks_id)
    if latest is not None and latest["stage"] not in FINAL:
        raise Conflict(_("This LKS already has an accreditation cycle in progress."))
    if latest is not None:
        await Cycle.update({Cycle.latest_key: None}).where(Cycle.id == latest["id"])
    cycle = Cycle(lks=lks_id, latest_key=str(lks_id), stage=stage, source=source[:40], opened_at=now, updated_at=now, **values)
    await cycle.save()
    await _log(cycle.id, "", stage, actor, now)
    row = await Cycle.select().where(Cycle.id == cycle.id).first()
    await audit.record(actor, "accreditation.open", "accreditation_cycle", cycle.id, now=now, after=row)
    await sync_lks(lks_id, now=now)
    return row


async def open_cycle(actor: Actor, lks_id: int, *, now: datetime, stage: str = Stage.preparing.value) -> dict:
    """Start a new cycle (first accreditation or renewal); staff, or the
    LKS's manager starting a self-assessment."""
    ensure_can_see(actor, lks_id)
    if not is_staff(actor) and stage != Stage.self_assessment.value:
        raise Forbidden(_("Only Dinas Sosial staff can change an accreditation record."))
    if not await Lks.exists().where(Lks.id == lks_id):
        raise NotFound(_("LKS not found."))
    async with write_transaction():
        return await _new_cycle(lks_id, stage=stage, actor=actor, now=now)


async def move_stage(actor: Actor, cycle_id: int, to_stage: str, *, now: datetime, note: str = "", by_service: bool = False) -> dict:
    """Move a cycle to another stage (inside or outside a transaction).
    ``by_service``: a workflow step (submission, recommendation) may make
    moves that staff do not make by hand."""
    if not by_service:
        _staff_only(actor)
    async with write_transaction():
        cycle = await get_cycle(actor, cycle_id)
        if to_stage == cycle["stage"]:
            return cycle
        if to_stage in (Stage.accredited.value, Stage.not_accredited.value):
            raise ValidationError(_("Record the BALKS decision with its date."), fields={"stage": _("Record the decision.")})
        if not by_service and to_stage not in MOVES.get(cycle["stage"], set()):
            message = _("A cycle at this stage cannot move there.")
            raise ValidationError(message, fields={"stage": message})
        await Cycle.update({Cycle.stage: to_stage, Cycle.updated_at: now, Cycle.version: Cycle.version + 1}).where(Cycle.id == cycle_id)
        await _log(cycle_id, cycle["stage"], to_stage, actor, now, note[:2000])
        after = await Cycle.select().where(Cycle.id == cycle_id).first()
        await audit.record(actor, "accreditation.stage", "accreditation_cycle", cycle_id, now=now, before=cycle, after=after)
        await sync_lks(cycle["lks"], now=now)
        return after


@dataclass
class Decision:
    accredited: bool
    grade: str | None = None
    decision_date: date | None = None
    valid_until: date | None = None  # None: the default for the grade
    note: str = ""


async def record_decision(actor: Actor, cycle_id: int, decision: Decision, *, version: int, now: datetime,
                          certificate_id: int | None = None) -> dict:
    """BALKS's decision on a submitted or visited cycle: a grade (validity
    defaults to the grade's years from the decision date) or not accredited."""
    _staff_only(actor)
    errors: dict[str, str] = {}
    if decision.accredited and decision.grade not in ("A", "B", "C"):
        errors["grade"] = _("Choose the grade BALKS gave.")
    if decision.decision_date is None:
        errors["decision_date"] = _("Enter the date of the BALKS decision.")
    elif decision.decision_date > today_wib(now):
        errors["decision_date"] = _("The decision date cannot be in the future.")
    if decision.valid_until is not None and decision.decision_date and decision.valid_until <= decision.decision_date:
        errors["valid_until"] = _("Valid until must be after the decision date.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        cycle = await get_cycle(actor, cycle_id)
        if cycle["version"] != version:
            raise Conflict(_("Someone else changed this record meanwhile. Reload the page and try again."))
        if cycle["stage"] not in (Stage.submitted.value, Stage.assessor_visit.value):
            message = _("A decision can be recorded only after the file was submitted to BALKS.")
            raise ValidationError(message, fields={"stage": message})
        if certificate_id is not None and not await Document.exists().where(
                (Document.id == certificate_id) & (Document.lks == cycle["lks"])):
            raise ValidationError(_("Document not found."), fields={"certificate": _("Document not found.")})
        values = {Cycle.decision_date: decision.decision_date, Cycle.updated_at: now, Cycle.version: version + 1}
        if decision.accredited:
            until = decision.valid_until or await valid_until_for(decision.grade, decision.decision_date)
            values |= {Cycle.stage: Stage.accredited.value, Cycle.grade: decision.grade, Cycle.valid_until: until}
        else:
            values |= {Cycle.stage: Stage.not_accredited.value, Cycle.grade: None, Cycle.valid_until: None}
        if certificate_id is not None:
            values[Cycle.certificate] = certificate_id
        await Cycle.update(values).where(Cycle.id == cycle_id)
        after = await Cycle.select().where(Cycle.id == cycle_id).first()
        await _log(cycle_id, cycle["stage"], after["stage"], actor, now, decision.note[:2000])
        await audit.record(actor, "accreditation.decision", "accreditation_cycle", cycle_id, now=now, before=cycle, after=after)
        await sync_lks(cycle["lks"], now=now)
    return after


EXTERNAL_STATUSES = {
    "accredited": Stage.accredited.value, "in_process": Stage.preparing.value, "expired": Stage.expired.value,
    "not_accredited": Stage.not_accredited.value, **{s: s for s in IN_PROCESS},
}


async def record_external_grade(lks_id: int, grade: str | None, status: str, valid_until: date | None, actor: Actor,
                                now: datetime, source: str) -> dict:
    """A cycle known from elsewhere (a spreadsheet import, the demo):
    ``status`` is accredited (with a grade), in_process (or a stage), expired
    or not_accredited. Creates a real cycle record; with no valid until, an
    accredited grade runs the grade's years from today."""
    if actor.role is not None:  # a person (not the demo or an import run by the system)
        _staff_only(actor)
    stage = EXTERNAL_STATUSES.get(status)
    if stage is None:
        raise ValidationError(_("Unknown accreditation status."), fields={"status": _("Unknown accreditation status.")})
    if stage in (Stage.accredited.value, Stage.expired.value) and grade not in ("A", "B", "C"):
        raise ValidationError(_("Choose the grade BALKS gave."), fields={"grade": _("Choose the grade BALKS gave.")})
    values: dict = {}
    if stage in (Stage.accredited.value, Stage.expired.value):
        until = valid_until or await valid_until_for(grade, today_wib(now))
        values = {"grade": grade, "valid_until": until}
        if stage == Stage.accredited.value and until < today_wib(now):
            stage = Stage.expired.value
    async with write_transaction():
        if not await Lks.exists().where(Lks.id == lks_id):
            raise NotFound(_("LKS not found."))
        return await _new_cycle(lks_id, stage=stage, actor=actor, now=now, source=source, **values)


async def expire_due(now: datetime) -> int:
    """Accredited cycles whose validity ended before today (WIB) become
    expired; the LKS rows follow. Conditional updates: idempotent."""
    today = today_wib(now)
    due = await Cycle.select(Cycle.id, Cycle.lks, Cycle.stage).where(
        (Cycle.stage == Stage.accredited.value) & (Cycle.valid_until < today))
    system = Actor.system("accreditation-expiry")
    done = 0
    for row in due:
        async with write_transaction():
            changed = await Cycle.update({Cycle.stage: Stage.expired.value, Cycle.updated_at: now, Cycle.version: Cycle.version + 1}).where(
                (Cycle.id == row["id"]) & (Cycle.stage == Stage.accredited.value)).returning(Cycle.id)
            if not changed:
                continue
            await _log(row["id"], Stage.accredited.value, Stage.expired.value, system, now)
            await audit.record(system, "accreditation.expire", "accreditation_cycle", row["id"], now=now,
                               before={"stage": "accredited"}, after={"stage": "expired"})
            await sync_lks(row["lks"], now=now)
            done += 1
    return done


async def attach_certificate(actor: Actor, cycle_id: int, *, filename: str, fileobj, now: datetime, storage,
                             max_bytes: int) -> dict:
    """Store the certificate of an accredited cycle as an LKS document
    (type "accreditation certificate") and link it to the cycle."""
    from registry import documents

    _staff_only(actor)
    cycle = await get_cycle(actor, cycle_id)
    if cycle["stage"] not in (Stage.accredited.value, Stage.expired.value):
        message = _("A certificate belongs to an accredited cycle: record the decision first.")
        raise ValidationError(message, fields={"certificate": message})
    doc, _created = await documents.upload(actor, cycle["lks"], doc_type="accreditation_certificate", filename=filename,
                                           fileobj=fileobj, now=now, storage=storage, max_bytes=max_bytes)
    async with write_transaction():
        await Cycle.update({Cycle.certificate: doc["id"], Cycle.updated_at: now, Cycle.version: Cycle.version + 1}).where(
            Cycle.id == cycle_id)
        await audit.record(actor, "accreditation.certificate", "accreditation_cycle", cycle_id, now=now,
                           after={"certificate": doc["id"]})
    return await get_cycle(actor, cycle_id)


async def record_page(actor: Actor, lks_id: int) -> dict:
    """What the accreditation page of an LKS shows: the LKS, its cycles
    with their history, and the moves staff may make on the latest."""
    from registry.access import get_lks

    lks = await get_lks(actor, lks_id)
    cycles = await history(actor, lks_id)
    latest = cycles[0] if cycles else None
    return {
        "lks": lks, "cycles": cycles, "latest": latest,
        "moves": sorted(MOVES.get(latest["stage"], ())) if latest else [],
        "can_open": latest is None or latest["stage"] in FINAL,
        "can_decide": latest is not None and latest["stage"] in (Stage.submitted.value, Stage.assessor_visit.value),
    }
