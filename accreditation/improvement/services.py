"""Improvement plan rules: actions are planned for an LKS (by staff, by
the assessment side through :func:`add_actions`, by the training job), the
LKS's manager answers each with text and evidence, Dinas Sosial accepts it
(done) or reopens it with a comment. An action not answered by its due date
is overdue and raises an alert (:func:`overdue_alerts`, contributed to
joint monitoring's ``ALERT_SOURCES``).

Who sees what: staff and admins every plan; an LKS's manager only their own
LKS's (another LKS's action is "not found"). Every write is audited in its
own transaction; decisions are version-checked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

from accreditation.improvement.tables import ActionNote, ActionSource, ActionStatus, ImprovementAction
from registry import documents
from registry.access import ensure_can_see, is_staff, lks_exists
from registry.tables import Document
from sigap import audit
from sigap.audit import Actor
from sigap.db import built_once, fetch_where, insert_many, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, WIB, _
from sigap.tables import Role

ACTION_STATUS_LABELS = {
    ActionStatus.open: N_("Open: waiting for the LKS"),
    ActionStatus.answered: N_("Answered: waiting for Dinas Sosial"),
    ActionStatus.done: N_("Done"),
    ActionStatus.reopened: N_("Reopened: waiting for the LKS"),
}
ACTION_SOURCE_LABELS = {
    ActionSource.indicator: N_("Accreditation indicator"),
    ActionSource.training: N_("Training"),
    ActionSource.manual: N_("Set by Dinas Sosial"),
}
# Titles of the actions the system plans, by (source, ref): stored as the
# English message id, shown in the reader's language.
PLANNED_TITLES = {
    (ActionSource.training.value, "child_protection"): N_("Train staff in child protection"),
}
NOTE_KIND_LABELS = {
    "answer": N_("Answer from the LKS"),
    "accept": N_("Accepted by Dinas Sosial"),
    "reopen": N_("Reopened by Dinas Sosial"),
    "met": N_("Done: the LKS's staff attended the training"),
}
WAITING_FOR_LKS = (ActionStatus.open.value, ActionStatus.reopened.value)
NOT_DONE = (ActionStatus.open.value, ActionStatus.answered.value, ActionStatus.reopened.value)
EVIDENCE_DOC_TYPE = "other"
CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
DEFAULT_DUE_DAYS = 90
ID_MAX = 2**31 - 1  # ids are SERIAL (32-bit) on PostgreSQL
OVERDUE_HIGH_AFTER_DAYS = 30


def valid_id(value: object) -> bool:
    """An id the database can hold (a larger one is simply not there)."""
    return isinstance(value, int) and 0 < value <= ID_MAX


def today_wib(now: datetime) -> date:
    return now.astimezone(WIB).date()


def is_overdue(action: dict, today: date) -> bool:
    """Still waiting for the LKS after its due date."""
    return action["status"] in WAITING_FOR_LKS and action["due_on"] < today


def action_title(row: dict) -> str:
    """The action's title in the current language (system-planned ones are
    message ids; others are what staff typed)."""
    msgid = PLANNED_TITLES.get((row["source"], row["source_ref"]))
    return _(msgid) if msgid else row["title"]


def open_key(source: str, lks_id: int, ref: str) -> str:
    return f"{source}:{lks_id}:{ref}"[:120]


def stale() -> Conflict:
    return Conflict(_("This action was changed by someone else in the meantime. Reload the page and try again."))


def _text(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


# --- planning ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedAction:
    """One action to plan: ``ref`` names what it is about (an indicator
    code, a training topic); the same ref is planned once per LKS while an
    action for it is not done."""

    lks_id: int
    title: str
    due_on: date
    ref: str = ""


async def plan_actions(
    planned: Iterable[PlannedAction], *, actor: Actor, now: datetime, source: str, cycle_ref: str | None = None
) -> list[dict]:
    """Insert the planned actions that are new (set-based, idempotent: an
    action whose LKS already has one open for the same ``ref`` is skipped)
    and audit each one in the same transaction. Returns the new rows."""
    columns = [
        ImprovementAction.lks, ImprovementAction.title, ImprovementAction.source, ImprovementAction.source_ref,
        ImprovementAction.cycle_ref, ImprovementAction.due_on, ImprovementAction.status, ImprovementAction.open_key,
        ImprovementAction.created_by, ImprovementAction.created_at, ImprovementAction.version,
    ]
    rows, seen = [], set()
    for p in planned:
        key = open_key(source, p.lks_id, p.ref or _text(p.title, 60).lower())
        if key in seen:
            continue
        seen.add(key)
        rows.append((p.lks_id, _text(p.title, 300), source, p.ref[:60], cycle_ref, p.due_on, ActionStatus.open.value, key,
                     actor.user_id, now, 1))
    created: list[dict] = []
    for start in range(0, len(rows), 2000):
        async with write_transaction():
            keys = await insert_many(ImprovementAction, columns, rows[start : start + 2000], conflict=ImprovementAction.open_key,
                                     returning=ImprovementAction.open_key)
            if not keys:
                continue
            new = await ImprovementAction.select().where(ImprovementAction.open_key.is_in([k["open_key"] for k in keys]))
            for row in new:
                await audit.record(actor, "improvement.plan", "improvement_action", row["id"], now=now, after=row)
            created += new
    return created


async def add_actions(
    lks_id: int, items: Iterable[Any], actor: Actor, now: datetime, source: str, cycle_ref: str | None = None
) -> list[dict]:
    """Plan actions for one LKS, e.g. from the weakest indicators of an
    assessment: ``items`` are dicts (or objects) with ``title``, optional
    ``due_on`` (default: in 90 days) and ``ref`` (e.g. the indicator code;
    also accepted as ``code``). Idempotent: an indicator (ref) already in
    the LKS's plan and not done is not planned again. Returns the new
    actions. Raises ValidationError for an unknown source or a bad item,
    NotFound for an unknown LKS."""
    if source not in ActionSource.__members__:
        raise ValidationError(_("Please correct the marked fields."), fields={"source": _("Unknown source.")})
    if not valid_id(lks_id) or not await lks_exists(lks_id):
        raise NotFound(_("LKS not found."))
    default_due = today_wib(now) + timedelta(days=DEFAULT_DUE_DAYS)
    planned = []
    for n, item in enumerate(items):
        get = item.get if isinstance(item, dict) else (lambda k, d=None, _i=item: getattr(_i, k, d))
        title = _text(get("title"), 300)
        due = get("due_on") or default_due
        ref = str(get("ref") or get("code") or "")
        if len(title) < 5 or not isinstance(due, date):
            raise ValidationError(_("Please correct the marked fields."), fields={f"items.{n}": _("Each action needs a title (at least 5 characters) and a due date.")})
        planned.append(PlannedAction(lks_id, title, due, ref))
    return await plan_actions(planned, actor=actor, now=now, source=source, cycle_ref=cycle_ref)


async def create_action(actor: Actor, *, lks_id: int | None, title: str, due_on: date | None, now: datetime) -> dict:
    """Staff add an action to an LKS's plan by hand."""
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can add actions to an improvement plan."))
    errors = {}
    title = _text(title, 300)
    if not valid_id(lks_id) or not await lks_exists(lks_id):
        errors["lks_id"] = _("Choose an existing LKS.")
    if len(title) < 5:
        errors["title"] = _("Say what must be done (at least 5 characters).")
    if due_on is None or due_on < today_wib(now):
        errors["due_on"] = _("Give a due date from today on.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    created = await plan_actions([PlannedAction(lks_id, title, due_on, f"{now.timestamp():.0f}:{title.lower()}"[:60])],
                                 actor=actor, now=now, source=ActionSource.manual.value)
    if not created:
        raise Conflict(_("This action is already in the LKS's plan."))
    return created[0]


# --- reading ------------------------------------------------------------------------------


@dataclass
class ActionFilter:
    lks_id: int | None = None
    action_id: int | None = None
    status: str = ""  # an ActionStatus, "not_done" or "" (all)
    overdue: bool = False
    kecamatan: str = ""
    source: str = ""


def _visible_condition(actor: Actor):
    """The actions ``actor`` may see, as a condition (None: every one)."""
    if is_staff(actor):
        return None
    if actor.role == Role.manager and actor.lks_id:
        return ImprovementAction.lks == actor.lks_id
    raise Forbidden(_("Your role does not allow this action."))


def _visible(actor: Actor, query):
    condition = _visible_condition(actor)
    return query if condition is None else query.where(condition)


def _actions_sql() -> str:
    # Read on every view of the LKS page (its improvement panel) and the
    # action pages: the join is built once (sigap.db.built_once).
    return built_once("accreditation.search_actions", lambda: ImprovementAction.select(
        *ImprovementAction.all_columns(), ImprovementAction.lks.name.as_alias("lks_name"),
        ImprovementAction.lks.kecamatan_code.as_alias("kecamatan_code"),
    ))


async def search_actions(
    actor: Actor, filters: ActionFilter, *, now: datetime, limit: int = 300, with_notes: bool = True
) -> list[dict]:
    """Actions ``actor`` may see (staff: all; a manager: their LKS's),
    earliest due first, each with its LKS, overdue flag and thread
    (``notes``; not read, and no such key, with ``with_notes=False``)."""
    conditions = [_visible_condition(actor)]
    today = today_wib(now)
    if filters.lks_id is not None:
        conditions.append(ImprovementAction.lks == filters.lks_id)
    if filters.action_id is not None:
        conditions.append(ImprovementAction.id == filters.action_id)
    if filters.overdue:
        conditions.append(ImprovementAction.status.is_in(list(WAITING_FOR_LKS)) & (ImprovementAction.due_on < today))
    elif filters.status == "not_done":
        conditions.append(ImprovementAction.status.is_in(list(NOT_DONE)))
    elif filters.status:
        conditions.append(ImprovementAction.status == filters.status)
    if filters.kecamatan:
        conditions.append(ImprovementAction.lks.kecamatan_code == filters.kecamatan)
    if filters.source:
        conditions.append(ImprovementAction.source == filters.source)
    condition = None
    for c in conditions:
        if c is not None:
            condition = c if condition is None else condition & c
    table = ImprovementAction._meta.tablename
    rows = await fetch_where(
        _actions_sql(), condition, f' ORDER BY "{table}"."due_on" ASC, "{table}"."id" ASC LIMIT {{}}', limit
    )
    if not with_notes:
        return [{**r, "display_title": action_title(r), "overdue": is_overdue(r, today)} for r in rows]
    notes = await notes_of([r["id"] for r in rows])
    return [
        {**r, "display_title": action_title(r), "overdue": is_overdue(r, today), "notes": notes.get(r["id"], [])} for r in rows
    ]


async def action_detail(actor: Actor, action_id: int, *, now: datetime) -> dict:
    rows = await search_actions(actor, ActionFilter(action_id=action_id), now=now)
    if not rows:
        raise NotFound(_("Action not found."))
    return rows[0]


async def notes_of(action_ids: list[int]) -> dict[int, list[dict]]:
    if not action_ids:
        return {}
    out: dict[int, list[dict]] = {}
    sql = built_once("accreditation.notes_of", lambda: ActionNote.select(
        ActionNote.id, ActionNote.action, ActionNote.kind, ActionNote.text, ActionNote.document, ActionNote.created_at,
        ActionNote.document.filename.as_alias("document_name"),
    ))
    rows = await fetch_where(sql, ActionNote.action.is_in(action_ids), f' ORDER BY "{ActionNote._meta.tablename}"."id" ASC')
    for r in rows:
        out.setdefault(r["action"], []).append(r)
    return out


async def _get(actor: Actor, action_id: int) -> dict:
    row = await _visible(actor, ImprovementAction.select()).where(ImprovementAction.id == action_id).first()
    if row is None:
        raise NotFound(_("Action not found."))
    return row


async def evidence_choices(actor: Actor) -> list[dict]:
    """The manager's LKS documents they may point to as evidence."""
    if actor.role != Role.manager or not actor.lks_id:
        return []
    return await Document.select(Document.id, Document.doc_type, Document.filename).where(
        (Document.lks == actor.lks_id) & Document.superseded_at.is_null()
    ).order_by(Document.id, ascending=False).limit(100)


# --- the LKS's answer ---------------------------------------------------------------------


@dataclass
class Evidence:
    filename: str
    fileobj: BinaryIO


@dataclass
class Answer:
    text: str
    client_id: str
    document_id: int | None = None  # an existing document of the LKS
    evidence: Evidence | None = field(default=None)  # or a new upload


async def answer(actor: Actor, action_id: int, data: Answer, *, now: datetime, storage: Any, max_bytes: int) -> tuple[dict, bool]:
    """The LKS's manager answers an action (what was done) with evidence: an
    existing document of the LKS or a new upload. The action becomes
    ``answered``. A retry with the same client id stores nothing and
    returns (the stored answer, False)."""
    if actor.role != Role.manager:
        raise Forbidden(_("Only the LKS's manager can answer an improvement action."))
    if not CLIENT_ID.fullmatch(data.client_id or ""):
        raise ValidationError(_("The client id must be 8 to 64 letters, digits or . _ : -"), fields={"client_id": _("Invalid.")})
    action = await _get(actor, action_id)
    existing = await ActionNote.select().where(ActionNote.client_id == data.client_id).first()
    if existing is not None:
        if existing["action"] != action_id:
            raise Conflict(_("This client id was already used for another answer."), fields={"client_id": _("Already used.")})
        return existing, False
    text = _text(data.text, 5000)
    errors = {}
    if len(text) < 5:
        errors["text"] = _("Say what was done (at least 5 characters).")
    if data.document_id is not None:
        doc = None if not valid_id(data.document_id) else await Document.select(Document.id, Document.lks).where(
            Document.id == data.document_id).first()
        if doc is None or doc["lks"] != action["lks"]:
            errors["document_id"] = _("Choose one of your LKS's documents.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    if action["status"] == ActionStatus.done.value:
        raise Conflict(_("This action is already done."))
    document_id = data.document_id
    if data.evidence is not None:
        ensure_can_see(actor, action["lks"])
        document, _created = await documents.upload(
            actor, action["lks"], doc_type=EVIDENCE_DOC_TYPE, filename=data.evidence.filename, fileobj=data.evidence.fileobj,
            now=now, storage=storage, max_bytes=max_bytes, client_id=data.client_id,
        )
        document_id = document["id"]
    try:
        async with write_transaction():
            note = ActionNote(action=action_id, kind="answer", text=text, document=document_id, client_id=data.client_id,
                              created_by=actor.user_id, created_at=now)
            await note.save()
            done = await ImprovementAction.update({
                ImprovementAction.status: ActionStatus.answered.value, ImprovementAction.updated_at: now,
                ImprovementAction.version: ImprovementAction.version + 1,
            }).where((ImprovementAction.id == action_id) & ImprovementAction.status.is_in(list(NOT_DONE))).returning(ImprovementAction.id)
            if not done:
                raise Conflict(_("This action is already done."))
            row = await ActionNote.select().where(ActionNote.id == note.id).first()
            await audit.record(actor, "improvement.answer", "improvement_action", action_id, now=now,
                               before={"status": action["status"]},
                               after={"status": ActionStatus.answered.value, "note": note.id, "text": text, "document": document_id})
        return row, True
    except Conflict:
        raise
    except Exception:
        stored = await ActionNote.select().where(ActionNote.client_id == data.client_id).first()
        if stored is None:
            raise
        return stored, False


# --- Dinas Sosial's decision -------------------------------------------------------------------


async def decide(actor: Actor, action_id: int, *, decision: str, comment: str, version: int | None, now: datetime) -> dict:
    """Staff accept an action (done) or reopen it with a comment for the LKS."""
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can accept or reopen an improvement action."))
    comment = _text(comment, 2000)
    errors = {}
    if decision not in ("accept", "reopen"):
        errors["decision"] = _("Choose to accept or to reopen.")
    if decision == "reopen" and len(comment) < 5:
        errors["comment"] = _("Tell the LKS what is still missing (at least 5 characters).")
    if version is None:
        errors["version"] = _("Required.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        before = await _get(actor, action_id)
        if before["version"] != version:
            raise stale()
        if before["status"] == ActionStatus.done.value:
            raise Conflict(_("This action is already done."))
        if decision == "reopen" and before["status"] != ActionStatus.answered.value:
            raise Conflict(_("Only an answered action can be reopened."))
        changes = {ImprovementAction.updated_at: now, ImprovementAction.version: version + 1}
        if decision == "accept":
            changes.update({ImprovementAction.status: ActionStatus.done.value, ImprovementAction.done_at: now,
                            ImprovementAction.open_key: None})
        else:
            changes[ImprovementAction.status] = ActionStatus.reopened.value
        updated = await ImprovementAction.update(changes).where(
            (ImprovementAction.id == action_id) & (ImprovementAction.version == version)
        ).returning(ImprovementAction.id)
        if not updated:
            raise stale()
        await ActionNote.insert(ActionNote(action=action_id, kind=decision, text=comment, created_by=actor.user_id, created_at=now))
        after = await ImprovementAction.select().where(ImprovementAction.id == action_id).first()
        await audit.record(actor, f"improvement.{decision}", "improvement_action", action_id, now=now, before=before, after=after)
    return after


async def close_met(action_ids: list[int], *, actor: Actor, now: datetime, comment: str) -> int:
    """Mark actions done whose need is met (e.g. the training was attended;
    a note of kind "met" says so), audited; returns how many."""
    closed = 0
    for start in range(0, len(action_ids), 500):
        batch = action_ids[start : start + 500]
        async with write_transaction():
            done = await ImprovementAction.update({
                ImprovementAction.status: ActionStatus.done.value, ImprovementAction.done_at: now, ImprovementAction.updated_at: now,
                ImprovementAction.open_key: None, ImprovementAction.version: ImprovementAction.version + 1,
            }).where(ImprovementAction.id.is_in(batch) & ImprovementAction.status.is_in(list(NOT_DONE))).returning(ImprovementAction.id)
            for row in done:
                await ActionNote.insert(ActionNote(action=row["id"], kind="met", text=comment, created_at=now))
                await audit.record(actor, "improvement.accept", "improvement_action", row["id"], now=now,
                                   after={"status": ActionStatus.done.value, "comment": comment})
            closed += len(done)
    return closed
