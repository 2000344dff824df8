"""Self-assessment: the LKS's manager scores each indicator of the
instrument version the assessment started with, adds evidence (the LKS's
documents, or a new upload), saves drafts and submits; Dinas Sosial staff
review indicator by indicator and return it with comments or issue the
recommendation letter (the cycle moves to "submitted to BALKS"); after the
BALKS visit staff enter the assessor's scores. Score and grade come from
``accreditation.scoring``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from accreditation import scoring
from accreditation.assessments.tables import Assessment, AssessmentStatus
from accreditation.cycles import services as cycles
from accreditation.cycles.tables import Stage
from accreditation.improvement import services as improvement
from accreditation.instruments.services import (
    current_instrument,
    get_instrument,
    grading,
)
from registry import documents
from registry.access import ensure_can_see, is_staff
from registry.tables import Document, DocumentStatus, Lks
from sigap import audit
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, _, use_locale
from sigap.tables import Role

STATUS_LABELS = {
    AssessmentStatus.draft.value: N_("Draft"),
    AssessmentStatus.submitted.value: N_("Submitted: waiting for Dinas Sosial's review"),
    AssessmentStatus.returned.value: N_("Returned with comments"),
    AssessmentStatus.recommended.value: N_("Recommended to BALKS"),
}
EDITABLE = frozenset({AssessmentStatus.draft.value, AssessmentStatus.returned.value})
NOTE_MAX = 1000
COMMENT_MAX = 2000


@dataclass
class Answer:
    score: int | None = None
    note: str = ""
    documents: list[int] = field(default_factory=list)


ID_MAX = 2**31 - 1  # ids and versions are 32-bit on PostgreSQL


def _in_range(value: int) -> bool:
    return isinstance(value, int) and 0 <= value <= ID_MAX


def _stale() -> Conflict:
    return Conflict(_("Someone else changed this self-assessment meanwhile. Reload the page and try again."))


async def _row(assessment_id: int) -> dict:
    row = await Assessment.select().where(Assessment.id == assessment_id).output(load_json=True).first()
    if row is None:
        raise NotFound(_("Self-assessment not found."))
    return row


async def _visible(actor: Actor, assessment_id: int) -> dict:
    row = await _row(assessment_id)
    try:
        ensure_can_see(actor, row["lks"])
    except NotFound:
        raise NotFound(_("Self-assessment not found.")) from None
    return row


def _own_manager(actor: Actor, row: dict) -> None:
    if actor.role != Role.manager or actor.lks_id != row["lks"]:
        raise Forbidden(_("Only the LKS's own manager fills in its self-assessment."))


def _staff(actor: Actor) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff review a self-assessment."))


# --- starting and reading ----------------------------------------------------------------


async def start(actor: Actor, lks_id: int, *, now: datetime) -> dict:
    """The assessment of the LKS's latest cycle, created (with the current
    instrument) when there is none; opens a cycle when the LKS has none in
    progress. The LKS's manager or staff."""
    ensure_can_see(actor, lks_id)
    if actor.role not in (Role.manager, Role.admin, Role.staff):
        raise Forbidden(_("Your role does not allow this action."))
    if not await Lks.exists().where(Lks.id == lks_id):
        raise NotFound(_("LKS not found."))
    cycle = await cycles.latest_cycle(lks_id)
    if cycle is not None:
        existing = await Assessment.select(Assessment.id).where(Assessment.cycle == cycle["id"]).first()
        if existing is not None:
            return await detail(actor, existing["id"])
    instrument = await current_instrument()
    async with write_transaction():
        if cycle is None or cycle["stage"] in cycles.FINAL:
            cycle = await cycles._new_cycle(lks_id, stage=Stage.self_assessment.value, actor=actor, now=now)
        elif cycle["stage"] == Stage.preparing.value:
            cycle = await cycles.move_stage(actor, cycle["id"], Stage.self_assessment.value, now=now, by_service=True)
        elif cycle["stage"] != Stage.self_assessment.value:
            raise Conflict(_("This cycle is already past the self-assessment."))
        row = Assessment(cycle=cycle["id"], lks=lks_id, instrument=instrument["id"], status="draft", created_at=now,
                         updated_at=now)
        await row.save()
        await audit.record(actor, "assessment.start", "accreditation_assessment", row.id, now=now,
                           after={"lks": lks_id, "cycle": cycle["id"], "instrument": instrument["id"]})
    return await detail(actor, row.id)


async def detail(actor: Actor, assessment_id: int) -> dict:
    """The assessment with its instrument, the self-assessed result and the
    assessor's result (each: per aspect, missing indicators named)."""
    row = await _visible(actor, assessment_id)
    instrument = await get_instrument(row["instrument"])
    thresholds = (await grading())["thresholds"]
    definition = instrument["definition"]
    self_scores = {code: a.get("score") for code, a in row["answers"].items()}
    row["instrument_row"] = instrument
    row["indicators"] = scoring.indicators_of(definition)
    row["result"] = scoring.compute(definition, self_scores, thresholds)
    row["assessor_result"] = scoring.compute(definition, row["assessor_scores"], thresholds) if row["assessor_scores"] else None
    row["thresholds"] = thresholds
    row["editable"] = row["status"] in EDITABLE
    lks = await Lks.select(Lks.name).where(Lks.id == row["lks"]).first()
    row["lks_name"] = lks["name"] if lks else ""
    cited = sorted({d for a in row["answers"].values() for d in a.get("documents", [])})
    row["document_names"] = {
        d["id"]: d["filename"] for d in await Document.select(Document.id, Document.filename).where(Document.id.is_in(cited))
    } if cited else {}
    return row


async def for_lks(actor: Actor, lks_id: int) -> dict | None:
    """The latest cycle's assessment of an LKS, or None."""
    ensure_can_see(actor, lks_id)
    cycle = await cycles.latest_cycle(lks_id)
    if cycle is None:
        return None
    found = await Assessment.select(Assessment.id).where(Assessment.cycle == cycle["id"]).first()
    return await detail(actor, found["id"]) if found else None


async def evidence_choices(actor: Actor, lks_id: int) -> list[dict]:
    """The LKS's documents a manager may cite as evidence (not superseded or rejected)."""
    rows = await documents.list_documents(actor, lks_id)
    return [r for r in rows if r["status"] != DocumentStatus.rejected.value]


# --- the manager: answers, evidence, submit ------------------------------------------------


async def save(actor: Actor, assessment_id: int, answers: dict[str, Answer], *, version: int, now: datetime,
               submit: bool = False) -> dict:
    """Save the answers given (others stay as they were); ``submit`` also
    sends it for review, which needs every indicator scored."""
    row = await _visible(actor, assessment_id)
    _own_manager(actor, row)
    if row["status"] not in EDITABLE:
        raise Conflict(_("This self-assessment was submitted; it can be changed again only if Dinas Sosial returns it."))
    if not _in_range(version):
        raise _stale()
    instrument = await get_instrument(row["instrument"])
    definition = instrument["definition"]
    codes = {i["code"] for i in scoring.indicators_of(definition)}
    errors: dict[str, str] = {}
    for code, answer in answers.items():
        if code not in codes:
            errors[f"score_{code}"] = _("Unknown indicator.")
        elif answer.score is not None and not scoring.valid_score(answer.score, definition["scale"]):
            errors[f"score_{code}"] = _("Choose a score from %(low)s to %(high)s.", low=definition["scale"]["min"],
                                        high=definition["scale"]["max"])
        elif len(answer.note) > NOTE_MAX:
            errors[f"note_{code}"] = _("At most %(n)s characters.", n=NOTE_MAX)
    for code, answer in answers.items():
        if not all(_in_range(d) for d in answer.documents):
            errors[f"documents_{code}"] = _("Choose documents of this LKS.")
    cited = {d for a in answers.values() for d in a.documents if _in_range(d)}
    if cited:
        own = {r["id"] for r in await Document.select(Document.id).where((Document.id.is_in(list(cited))) & (Document.lks == row["lks"]))}
        for code, answer in answers.items():
            if set(answer.documents) - own:
                errors[f"documents_{code}"] = _("Choose documents of this LKS.")
    merged = dict(row["answers"])
    for code, answer in answers.items():
        if code in codes:
            merged[code] = {"score": answer.score, "note": answer.note.strip(), "documents": sorted(set(answer.documents))}
    if submit and not errors:
        result = scoring.compute(definition, {c: a.get("score") for c, a in merged.items()}, {"A": 0, "B": 0, "C": 0})
        for code in result.missing:
            errors[f"score_{code}"] = _("Score this indicator before submitting.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    values = {Assessment.answers: json.dumps(merged), Assessment.updated_at: now, Assessment.version: version + 1}
    if submit:
        values |= {Assessment.status: AssessmentStatus.submitted.value, Assessment.submitted_at: now}
    async with write_transaction():
        changed = await Assessment.update(values).where(
            (Assessment.id == assessment_id) & (Assessment.version == version)).returning(Assessment.id)
        if not changed:
            raise _stale()
        await audit.record(actor, "assessment.submit" if submit else "assessment.save", "accreditation_assessment",
                           assessment_id, now=now, after={"answered": len(merged), "status": values.get(Assessment.status, row["status"])})
    return await detail(actor, assessment_id)


async def upload_evidence(actor: Actor, assessment_id: int, code: str, *, filename: str, fileobj: BinaryIO, now: datetime,
                          storage, max_bytes: int, version: int, client_id: str | None = None) -> dict:
    """Store a new document as evidence for indicator ``code`` and cite it."""
    row = await _visible(actor, assessment_id)
    _own_manager(actor, row)
    if row["status"] not in EDITABLE:
        raise Conflict(_("This self-assessment was submitted; it can be changed again only if Dinas Sosial returns it."))
    instrument = await get_instrument(row["instrument"])
    if code not in {i["code"] for i in scoring.indicators_of(instrument["definition"])}:
        raise ValidationError(_("Unknown indicator."), fields={"indicator": _("Unknown indicator.")})
    if row["version"] != version:
        raise _stale()
    doc, _created = await documents.upload(actor, row["lks"], doc_type="accreditation_evidence", filename=filename,
                                           fileobj=fileobj, now=now, storage=storage, max_bytes=max_bytes, client_id=client_id)
    current = dict(row["answers"].get(code) or {"score": None, "note": "", "documents": []})
    current["documents"] = sorted(set(current.get("documents", [])) | {doc["id"]})
    async with write_transaction():
        changed = await Assessment.update({
            Assessment.answers: json.dumps({**row["answers"], code: current}), Assessment.updated_at: now, Assessment.version: version + 1,
        }).where((Assessment.id == assessment_id) & (Assessment.version == version)).returning(Assessment.id)
        if not changed:
            raise _stale()
        await audit.record(actor, "assessment.evidence", "accreditation_assessment", assessment_id, now=now,
                           after={"indicator": code, "document": doc["id"]})
    after = await detail(actor, assessment_id)
    after["uploaded_document"] = doc["id"]
    return after


# --- staff: review, recommendation, assessor results -----------------------------------------


@dataclass
class Verdict:
    ok: bool = True
    comment: str = ""


def letter_number(assessment_id: int, now: datetime) -> str:
    return f"400.9/{assessment_id:04d}/REK-AKR/Dinsos/{cycles.today_wib(now).year}"


async def review(actor: Actor, assessment_id: int, verdicts: dict[str, Verdict], *, decision: str, comment: str,
                 version: int, now: datetime) -> dict:
    """``decision``: "return" (to the manager, with comments) or "recommend"
    (the recommendation letter is issued; the cycle moves to submitted to BALKS)."""
    _staff(actor)
    row = await _visible(actor, assessment_id)
    if row["status"] != AssessmentStatus.submitted.value:
        raise Conflict(_("Only a submitted self-assessment can be reviewed."))
    if not _in_range(version):
        raise _stale()
    instrument = await get_instrument(row["instrument"])
    codes = {i["code"] for i in scoring.indicators_of(instrument["definition"])}
    errors: dict[str, str] = {}
    if decision not in ("return", "recommend"):
        errors["decision"] = _("Choose: return with comments, or recommend.")
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _("At most %(n)s characters.", n=COMMENT_MAX)
    for code, verdict in verdicts.items():
        if code not in codes:
            errors[f"ok_{code}"] = _("Unknown indicator.")
        elif len(verdict.comment) > COMMENT_MAX:
            errors[f"comment_{code}"] = _("At most %(n)s characters.", n=COMMENT_MAX)
        elif not verdict.ok and not verdict.comment.strip():
            errors[f"comment_{code}"] = _("Say what the LKS must fix.")
    flagged = [c for c, v in verdicts.items() if not v.ok]
    if decision == "return" and not flagged and not comment.strip():
        errors["comment"] = _("Say what the LKS must fix: mark the indicators or write a comment.")
    if decision == "recommend" and flagged:
        errors["decision"] = _("Some indicators are marked for correction: return it instead.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    review_data = {c: {"ok": v.ok, "comment": v.comment.strip()} for c, v in verdicts.items() if c in codes}
    values = {Assessment.review: json.dumps(review_data), Assessment.review_comment: comment.strip(), Assessment.reviewed_by: actor.user_id,
              Assessment.reviewed_at: now, Assessment.updated_at: now, Assessment.version: version + 1}
    if decision == "return":
        values[Assessment.status] = AssessmentStatus.returned.value
    else:
        values |= {Assessment.status: AssessmentStatus.recommended.value, Assessment.recommended_at: now,
                   Assessment.letter_number: letter_number(assessment_id, now)}
    async with write_transaction():
        changed = await Assessment.update(values).where(
            (Assessment.id == assessment_id) & (Assessment.version == version)).returning(Assessment.id)
        if not changed:
            raise _stale()
        if decision == "recommend":
            await cycles.move_stage(actor, row["cycle"], Stage.submitted.value, now=now, by_service=True,
                                    note=_("Recommendation letter %(number)s", number=letter_number(assessment_id, now)))
            await _plan_weak_indicators(actor, row, instrument["definition"],
                                        {c: a.get("score") for c, a in row["answers"].items()}, now=now)
        await audit.record(actor, f"assessment.{decision}", "accreditation_assessment", assessment_id, now=now,
                           after={"flagged": flagged, "comment": comment.strip()})
    return await detail(actor, assessment_id)


async def enter_assessor_scores(actor: Actor, assessment_id: int, scores: dict[str, int | None], *, version: int,
                                now: datetime) -> dict:
    """The BALKS assessor's scores after the visit (some may be left empty;
    the result then names what is missing). The cycle moves to assessor visit."""
    _staff(actor)
    row = await _visible(actor, assessment_id)
    if row["status"] != AssessmentStatus.recommended.value:
        raise Conflict(_("Assessor results can be entered after the recommendation to BALKS."))
    if not _in_range(version):
        raise _stale()
    instrument = await get_instrument(row["instrument"])
    definition = instrument["definition"]
    codes = {i["code"] for i in scoring.indicators_of(definition)}
    errors = {}
    for code, value in scores.items():
        if code not in codes:
            errors[f"assessor_{code}"] = _("Unknown indicator.")
        elif value is not None and not scoring.valid_score(value, definition["scale"]):
            errors[f"assessor_{code}"] = _("Choose a score from %(low)s to %(high)s.", low=definition["scale"]["min"],
                                           high=definition["scale"]["max"])
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    kept = {c: v for c, v in scores.items() if v is not None}
    async with write_transaction():
        changed = await Assessment.update({
            Assessment.assessor_scores: json.dumps(kept), Assessment.assessor_entered_at: now, Assessment.updated_at: now,
            Assessment.version: version + 1,
        }).where((Assessment.id == assessment_id) & (Assessment.version == version)).returning(Assessment.id)
        if not changed:
            raise _stale()
        cycle = await cycles.get_cycle(actor, row["cycle"])
        if cycle["stage"] == Stage.submitted.value:
            await cycles.move_stage(actor, row["cycle"], Stage.assessor_visit.value, now=now, by_service=True)
        await _plan_weak_indicators(actor, row, definition, kept, now=now)
        await audit.record(actor, "assessment.assessor", "accreditation_assessment", assessment_id, now=now, after={"scores": kept})
    return await detail(actor, assessment_id)


WEAK_PLANNED = 5  # at most this many weak indicators become actions at once


async def _plan_weak_indicators(actor: Actor, row: dict, definition: dict, scores: dict, *, now: datetime) -> None:
    """The weakest indicators scored in the lower half of the scale become
    actions in the LKS's improvement plan (inside the caller's transaction;
    an indicator already open in the plan is not planned twice)."""
    scale = definition["scale"]
    weak = [i for i in scoring.weakest(definition, scores, limit=WEAK_PLANNED) if 2 * i["score"] <= scale["min"] + scale["max"]]
    if not weak:
        return
    with use_locale("id"):  # the plan's texts are stored once, in Indonesian
        items = [{"ref": i["code"], "title": _("Improve: %(indicator)s", indicator=_title(i["text"]))} for i in weak]
    await improvement.add_actions(row["lks"], items, actor, now, source="indicator", cycle_ref=f"cycle:{row['cycle']}")


def _title(text: dict | str) -> str:
    """An instrument text in Indonesian, the plan's language (stored once, read by both sides)."""
    return text.get("id") or text.get("en") or "" if isinstance(text, dict) else str(text)


async def weakest_indicators(actor: Actor, assessment_id: int, limit: int = 5) -> list[dict]:
    """The lowest-scored indicators of an assessment (the assessor's scores
    when entered, else the self-assessment): for the improvement plan."""
    row = await _visible(actor, assessment_id)
    instrument = await get_instrument(row["instrument"])
    scores = row["assessor_scores"] or {c: a.get("score") for c, a in row["answers"].items()}
    return scoring.weakest(instrument["definition"], scores, limit=limit)
