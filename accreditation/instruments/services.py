"""The instrument: shipped in ``accreditation/instruments_data`` and loaded
by ``sigap migrate``; an admin edits it by saving a new version, which
becomes current; an assessment keeps the version it was started with.
Grading settings (thresholds, validity years) are SIGAP's defaults until an
admin changes them: the national thresholds are BALKS's to set."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from accreditation.instruments.tables import GradingSettings, Instrument
from accreditation.scoring import DEFAULT_THRESHOLDS, DEFAULT_VALIDITY_YEARS, GRADES
from sigap import audit
from sigap.audit import Actor
from sigap.db import insert_many, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import _
from sigap.tables import Role

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "instruments_data"
LANGUAGES = ("id", "en")
CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def text_in(value: object, locale: str) -> str:
    if isinstance(value, dict):
        return str(value.get(locale) or value.get("id") or "")
    return str(value or "")


def _has_texts(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGUAGES)


def _code_ok(code: object) -> bool:
    return isinstance(code, str) and 0 < len(code) <= 20 and set(code) <= CODE_CHARS


def _weight_ok(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100


def definition_problem(data: object) -> str | None:
    """What is wrong with an instrument (title, scale, aspects of
    indicators with weights), or None when it is usable."""
    if not isinstance(data, dict):
        return _("The instrument must be a JSON object.")
    if not _has_texts(data.get("title")):
        return _("The instrument needs a title in Indonesian and English.")
    scale = data.get("scale")
    if not (isinstance(scale, dict) and isinstance(scale.get("min"), int) and isinstance(scale.get("max"), int)
            and 0 <= scale["min"] < scale["max"] <= 100):
        return _("The scale needs whole numbers \"min\" and \"max\" (min below max, at most 100).")
    aspects = data.get("aspects")
    if not isinstance(aspects, list) or not aspects:
        return _("The instrument needs at least one aspect.")
    seen: set[str] = set()
    for aspect in aspects:
        if not isinstance(aspect, dict) or not _code_ok(aspect.get("code")) or not _has_texts(aspect.get("title")):
            return _("Every aspect needs a code and a title in Indonesian and English.")
        if not _weight_ok(aspect.get("weight")):
            return _("Aspect %(code)s: the weight must be a whole number from 1 to 100.", code=aspect["code"])
        indicators = aspect.get("indicators")
        if not isinstance(indicators, list) or not indicators:
            return _("Aspect %(code)s needs at least one indicator.", code=aspect["code"])
        for ind in indicators:
            if not isinstance(ind, dict) or not _code_ok(ind.get("code")):
                return _("Each indicator needs a code of at most 20 letters or digits.")
            if ind["code"] in seen:
                return _("The indicator code %(code)s is used twice.", code=ind["code"])
            seen.add(ind["code"])
            if not _has_texts(ind.get("text")):
                return _("Indicator %(code)s needs its text in Indonesian and English.", code=ind["code"])
            if not _weight_ok(ind.get("weight")):
                return _("Indicator %(code)s: the weight must be a whole number from 1 to 100.", code=ind["code"])
    return None


def _definition(data: dict) -> dict:
    return {"basis": data.get("basis", ""), "scale": data["scale"], "aspects": data["aspects"]}


def read_shipped() -> list[dict]:
    out = []
    for path in sorted(SHIPPED_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        problem = definition_problem(data)
        if problem:
            raise ValueError(f"{path.name}: {problem}")
        out.append(data)
    return out


async def _mark_current(code: str) -> None:
    top = await Instrument.select(Instrument.version).where(Instrument.code == code).order_by(
        Instrument.version, ascending=False).first()
    if top is not None:
        await Instrument.update({Instrument.is_current: False}).where((Instrument.code == code) & (Instrument.version != top["version"]))
        await Instrument.update({Instrument.is_current: True}).where((Instrument.code == code) & (Instrument.version == top["version"]))


async def load_shipped_instruments() -> None:
    """Insert each shipped ``code:version`` not stored yet; the highest
    version of each code is current. Running it twice changes nothing."""
    now = datetime.now(UTC)
    names = ("code", "version", "title", "definition", "is_current", "source", "created_at", "unique_key")
    rows = [
        (d["code"], int(d["version"]), json.dumps(d["title"]), json.dumps(_definition(d)), False, "shipped", now,
         f"{d['code']}:{int(d['version'])}")
        for d in read_shipped()
    ]
    await insert_many(Instrument, [getattr(Instrument, n) for n in names], rows, conflict=Instrument.unique_key)
    async with write_transaction():
        for code in {row[0] for row in rows}:
            await _mark_current(code)


async def current_instrument() -> dict:
    row = await Instrument.select().where(Instrument.is_current == True).order_by(Instrument.id).output(load_json=True).first()  # noqa: E712
    if row is None:
        raise NotFound(_("No accreditation instrument is loaded; run sigap migrate."))
    return row


async def get_instrument(instrument_id: int) -> dict:
    row = await Instrument.select().where(Instrument.id == instrument_id).output(load_json=True).first()
    if row is None:
        raise NotFound(_("Instrument not found."))
    return row


def _admin_only(actor: Actor) -> None:
    if actor.role != Role.admin:
        raise Forbidden(_("Only an administrator can change the accreditation instrument or its settings."))


async def list_versions(actor: Actor) -> list[dict]:
    _admin_only(actor)
    return await Instrument.select(
        Instrument.id, Instrument.code, Instrument.version, Instrument.title, Instrument.is_current,
        Instrument.source, Instrument.created_at,
    ).order_by(Instrument.code).order_by(Instrument.version, ascending=False).output(load_json=True)


def editable_text(row: dict) -> str:
    return json.dumps({"title": row["title"], **row["definition"]}, ensure_ascii=False, indent=2)


async def save_new_version(actor: Actor, text: str, *, now: datetime) -> dict:
    """Store the edited JSON as the next version of the current instrument
    and make it current; assessments already started keep theirs."""
    _admin_only(actor)
    current = await current_instrument()
    try:
        data = json.loads(text)
    except ValueError as exc:
        message = _("This is not valid JSON (line %(line)s): %(error)s", line=getattr(exc, "lineno", "?"), error=getattr(exc, "msg", str(exc)))
        raise ValidationError(message, fields={"definition": message}) from None
    problem = definition_problem(data)
    if problem:
        raise ValidationError(problem, fields={"definition": problem})
    code = current["code"]
    async with write_transaction():
        top = await Instrument.select(Instrument.version).where(Instrument.code == code).order_by(
            Instrument.version, ascending=False).first()
        version = top["version"] + 1
        row = Instrument(code=code, version=version, title=data["title"], definition=_definition(data), is_current=False,
                         source="admin", created_by=actor.user_id, created_at=now, unique_key=f"{code}:{version}")
        await row.save()
        await _mark_current(code)
        await audit.record(actor, "instrument.new_version", "instrument", row.id, now=now,
                           after={"code": code, "version": version, "previous": current["version"]})
    return await get_instrument(row.id)


# --- grading settings -------------------------------------------------------------------


async def grading() -> dict:
    """The thresholds and validity years in force (the defaults until an
    admin saves others)."""
    row = await GradingSettings.select().where(GradingSettings.key == "grading").output(load_json=True).first()
    if row is None:
        return {"thresholds": dict(DEFAULT_THRESHOLDS), "validity_years": dict(DEFAULT_VALIDITY_YEARS), "version": 0,
                "is_default": True}
    return {"thresholds": row["thresholds"], "validity_years": row["validity_years"], "version": row["version"],
            "is_default": False}


def _number(value: object, low: float, high: float) -> float | None:
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        return None
    if not (low <= number <= high) or number != number:
        return None
    return int(number) if number.is_integer() else round(number, 1)


async def save_grading(actor: Actor, values: dict[str, object], *, version: int, now: datetime) -> dict:
    """``values``: ``threshold_A``..``threshold_C`` (0–100, A > B > C) and
    ``years_A``..``years_C`` (1–10 years)."""
    _admin_only(actor)
    errors: dict[str, str] = {}
    thresholds: dict[str, float] = {}
    years: dict[str, int] = {}
    for grade in GRADES:
        t = _number(values.get(f"threshold_{grade}"), 0, 100)
        if t is None:
            errors[f"threshold_{grade}"] = _("Enter a number from 0 to 100.")
        else:
            thresholds[grade] = t
        y = _number(values.get(f"years_{grade}"), 1, 10)
        if y is None or not float(y).is_integer():
            errors[f"years_{grade}"] = _("Enter whole years from 1 to 10.")
        else:
            years[grade] = int(y)
    if not errors and not (thresholds["A"] > thresholds["B"] > thresholds["C"]):
        errors["threshold_B"] = _("Thresholds must fall from A to B to C.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        before = await grading()
        if before["version"] != version:
            raise Conflict(_("Someone else changed these settings meanwhile. Reload the page and try again."))
        if before["is_default"]:
            await GradingSettings.insert(GradingSettings(key="grading", thresholds=thresholds, validity_years=years,
                                                         updated_by=actor.user_id, updated_at=now, version=1))
        else:
            await GradingSettings.update({
                GradingSettings.thresholds: json.dumps(thresholds), GradingSettings.validity_years: json.dumps(years),
                GradingSettings.updated_by: actor.user_id, GradingSettings.updated_at: now,
                GradingSettings.version: version + 1,
            }).where(GradingSettings.key == "grading")
        await audit.record(actor, "accreditation.grading", "accreditation_grading", "grading", now=now,
                           before={"thresholds": before["thresholds"], "validity_years": before["validity_years"]},
                           after={"thresholds": thresholds, "validity_years": years})
    return await grading()
