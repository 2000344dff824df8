"""Checklists: versioned data shipped in ``inspections/checklists_data`` and
loaded by ``sigap migrate``; admins edit one by saving a new version. A
report keeps the version it was filled with; the highest version of each
code is the current one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from inspections.visits.tables import Checklist
from registry.tables import LksKind
from sigap import audit
from sigap.audit import Actor
from sigap.db import insert_many, write_transaction
from sigap.errors import Forbidden, NotFound, ValidationError
from sigap.i18n import N_, _, get_locale
from sigap.tables import Role

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checklists_data"
QUESTION_TYPES = ("yesno", "number", "text", "choice", "photo")
LANGUAGES = ("id", "en")
CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
YESNO_LABELS = {"yes": N_("Yes"), "no": N_("No"), "na": N_("Not applicable")}


def _text_in(value: object, locale: str) -> str:
    """A {"id": ..., "en": ...} text in ``locale`` (Indonesian if missing)."""
    if isinstance(value, dict):
        return str(value.get(locale) or value.get("id") or "")
    return str(value or "")


def _has_texts(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGUAGES)


# --- validation of a definition -------------------------------------------------------


def _question_problem(question: object, seen: set[str]) -> str | None:
    if not isinstance(question, dict):
        return _("Each question must be an object.")
    code = question.get("code")
    if not isinstance(code, str) or not code or len(code) > 20 or not set(code) <= CODE_CHARS:
        return _("Each question needs a code of at most 20 letters or digits.")
    if code in seen:
        return _("The question code %(code)s is used twice.", code=code)
    seen.add(code)
    if question.get("type") not in QUESTION_TYPES:
        return _("Question %(code)s: the type must be one of %(types)s.", code=code, types=", ".join(QUESTION_TYPES))
    if not _has_texts(question.get("text")):
        return _("Question %(code)s needs its text in Indonesian and English.", code=code)
    if not isinstance(question.get("key", False), bool):
        return _("Question %(code)s: \"key\" must be true or false.", code=code)
    if question["type"] == "choice":
        options = question.get("options")
        labels = question.get("option_labels") or {}
        if not isinstance(options, list) or not options or not all(isinstance(o, str) and o for o in options):
            return _("Question %(code)s: a choice needs its options.", code=code)
        if not isinstance(labels, dict) or not all(_has_texts(labels.get(o)) for o in options):
            return _("Question %(code)s: every option needs a label in Indonesian and English.", code=code)
    return None


def definition_problem(data: object) -> str | None:
    """What is wrong with a checklist definition (``lks_kinds``, ``title``,
    ``sections`` of questions), or None when it is usable."""
    if not isinstance(data, dict):
        return _("The checklist must be a JSON object.")
    kinds = data.get("lks_kinds")
    if not isinstance(kinds, list) or not kinds or not all(k in LksKind.__members__ for k in kinds):
        return _("\"lks_kinds\" must list LKS kinds: %(kinds)s.", kinds=", ".join(LksKind.__members__))
    if not _has_texts(data.get("title")):
        return _("The checklist needs a title in Indonesian and English.")
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        return _("The checklist needs at least one section.")
    seen: set[str] = set()
    for section in sections:
        if not isinstance(section, dict) or not _has_texts(section.get("title")):
            return _("Every section needs a title in Indonesian and English.")
        questions = section.get("questions")
        if not isinstance(questions, list) or not questions:
            return _("Every section needs at least one question.")
        for question in questions:
            problem = _question_problem(question, seen)
            if problem:
                return problem
    return None


def _parts(data: dict) -> dict:
    """A definition split into the table's columns."""
    return {
        "lks_kinds": list(data["lks_kinds"]),
        "title": data["title"],
        "definition": {"basis": data.get("basis", ""), "sections": data["sections"]},
    }


# --- shipped versions ------------------------------------------------------------------


def read_shipped() -> list[dict]:
    """The shipped checklist files, each checked."""
    out = []
    for path in sorted(SHIPPED_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        problem = definition_problem(data)
        if problem:
            raise ValueError(f"{path.name}: {problem}")
        out.append(data)
    return out


async def _mark_current(codes: set[str]) -> None:
    for code in codes:
        top = await Checklist.select(Checklist.version).where(Checklist.code == code).order_by(
            Checklist.version, ascending=False
        ).first()
        if top is None:
            continue
        await Checklist.update({Checklist.is_current: False}).where((Checklist.code == code) & (Checklist.version != top["version"]))
        await Checklist.update({Checklist.is_current: True}).where((Checklist.code == code) & (Checklist.version == top["version"]))


async def load_shipped_checklists() -> None:
    """Insert each shipped ``code:version`` not stored yet (run twice: the
    same rows) and mark the highest version of each code current."""
    now = datetime.now(UTC)
    names = ("code", "version", "lks_kinds", "title", "definition", "is_current", "source", "created_at", "unique_key")
    rows = []
    for data in read_shipped():
        parts = _parts(data)
        rows.append((
            data["code"], int(data["version"]), json.dumps(parts["lks_kinds"]), json.dumps(parts["title"]),
            json.dumps(parts["definition"]), False, "shipped", now,
            f"{data['code']}:{int(data['version'])}",
        ))
    await insert_many(Checklist, [getattr(Checklist, n) for n in names], rows, conflict=Checklist.unique_key)
    async with write_transaction():
        await _mark_current({row[0] for row in rows})


# --- reading ---------------------------------------------------------------------------


def questions_of(checklist: dict) -> list[dict]:
    """Every question of a stored checklist, in order, with its section's
    code and title."""
    out = []
    for section in checklist["definition"].get("sections", []):
        for question in section["questions"]:
            out.append({**question, "section": section.get("code", ""), "section_title": section["title"]})
    return out


def _options(question: dict, locale: str) -> list[dict]:
    if question["type"] == "yesno":
        return [{"value": value, "label": _(label)} for value, label in YESNO_LABELS.items()]
    labels = question.get("option_labels") or {}
    return [{"value": value, "label": _text_in(labels.get(value), locale) or value} for value in question.get("options", [])]


def api_question(question: dict, locale: str) -> dict:
    return {
        "code": question["code"], "section": question["section"], "section_title": _text_in(question["section_title"], locale),
        "type": question["type"], "key": bool(question.get("key")), "text": _text_in(question["text"], locale),
        "options": _options(question, locale),
    }


def api_checklist(row: dict, kind: str, locale: str) -> dict:
    return {
        "id": row["id"], "code": row["code"], "lks_kind": kind, "version": row["version"],
        "title": _text_in(row["title"], locale), "questions": [api_question(q, locale) for q in questions_of(row)],
    }


async def _current_rows() -> list[dict]:
    return await Checklist.select().where(Checklist.is_current == True).order_by(Checklist.code).output(load_json=True)


async def current_checklists(locale: str | None = None) -> list[dict]:
    """One item per LKS kind a current checklist covers, in ``locale``."""
    locale = locale or get_locale()
    items = []
    for row in await _current_rows():
        items.extend(api_checklist(row, kind, locale) for kind in row["lks_kinds"])
    return items


async def checklist_for_kind(kind: str) -> dict | None:
    """The current checklist an LKS of ``kind`` is visited with."""
    for row in await _current_rows():
        if kind in row["lks_kinds"]:
            return row
    return None


async def get_checklist(checklist_id: int) -> dict:
    row = await Checklist.select().where(Checklist.id == checklist_id).output(load_json=True).first()
    if row is None:
        raise NotFound(_("Checklist not found."))
    return row


# --- admins: a new version -------------------------------------------------------------


def _admin_only(actor: Actor) -> None:
    if actor.role != Role.admin:
        raise Forbidden(_("Only an administrator can edit checklists."))


async def list_versions(actor: Actor) -> list[dict]:
    _admin_only(actor)
    return await Checklist.select(
        Checklist.id, Checklist.code, Checklist.version, Checklist.lks_kinds, Checklist.title, Checklist.is_current,
        Checklist.source, Checklist.created_at, Checklist.created_by.username.as_alias("created_by_name"),
    ).order_by(Checklist.code).order_by(Checklist.version, ascending=False).output(load_json=True)


async def current_of_code(actor: Actor, code: str) -> dict:
    _admin_only(actor)
    row = await Checklist.select().where(
        (Checklist.code == code) & (Checklist.is_current == True)
    ).output(load_json=True).first()
    if row is None:
        raise NotFound(_("Checklist not found."))
    return row


def editable_text(row: dict) -> str:
    """The JSON an admin edits: kinds, title, basis and sections."""
    data = {"lks_kinds": row["lks_kinds"], "title": row["title"], **row["definition"]}
    return json.dumps(data, ensure_ascii=False, indent=2)


async def save_new_version(actor: Actor, code: str, text: str, *, now: datetime) -> dict:
    """Store ``text`` (the edited JSON) as the next version of ``code`` and
    make it current; older versions and the reports filled with them stay."""
    current = await current_of_code(actor, code)
    try:
        data = json.loads(text)
    except ValueError as exc:
        message = _("This is not valid JSON (line %(line)s): %(error)s", line=getattr(exc, "lineno", "?"), error=getattr(exc, "msg", str(exc)))
        raise ValidationError(message, fields={"definition": message}) from None
    problem = definition_problem(data)
    if problem:
        raise ValidationError(problem, fields={"definition": problem})
    async with write_transaction():
        top = await Checklist.select(Checklist.version).where(Checklist.code == code).order_by(Checklist.version, ascending=False).first()
        version = top["version"] + 1
        row = Checklist(
            code=code, version=version, is_current=False, source="admin", created_by=actor.user_id, created_at=now,
            unique_key=f"{code}:{version}", **_parts(data),
        )
        await row.save()
        await _mark_current({code})
        await audit.record(
            actor, "checklist.new_version", "checklist", row.id, now=now,
            after={"code": code, "version": version, "previous": current["version"]},
        )
    return await get_checklist(row.id)
