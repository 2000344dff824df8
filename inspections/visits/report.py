"""A visit report as people read it (the staff page and the berita acara
PDF): the LKS, the team, who was present, answers by section with key items
marked, findings, photos, signatures and the review."""

from __future__ import annotations

from datetime import datetime

from inspections.visits.checklists import YESNO_LABELS, get_checklist, questions_of
from inspections.visits.services import (
    STATUS_LABELS,
    findings_of_visit,
    get_visit,
    missing_photos,
    photos_of,
    search_visits,
)
from inspections.visits.tables import VisitStatus
from inspections.visits.validation import RESIDENT_BANDS
from registry import regions
from registry.tables import Lks
from sigap.audit import Actor
from sigap.i18n import N_, _, choice_label, get_locale

BAND_LABELS = {
    "0_5": N_("0–5 years"), "6_12": N_("6–12 years"), "13_17": N_("13–17 years"), "18_plus": N_("18 years and over"),
}
PRESENT_LABELS = {"member": N_("Team member"), "partner": N_("Partner officer"), "lks_head": N_("Head of the LKS")}


def _text(value: object, locale: str) -> str:
    if isinstance(value, dict):
        return str(value.get(locale) or value.get("id") or "")
    return str(value or "")


def answer_text(question: dict, value: object, locale: str) -> str:
    """An answer as words: "Ya" / "Tidak", the option's label, the number or text."""
    if value is None or value == "":
        return "—"
    if question["type"] == "yesno" or value == "na":
        return choice_label(YESNO_LABELS, value)
    if question["type"] == "choice":
        return _text((question.get("option_labels") or {}).get(value), locale) or str(value)
    return str(value)


def sections(checklist: dict, answers: dict, photos: list[dict], locale: str) -> list[dict]:
    """The checklist's sections with each question, its answer and photos."""
    by_code: dict[str, list[dict]] = {}
    for photo in photos:
        by_code.setdefault(photo["question_code"], []).append(photo)
    out: list[dict] = []
    for question in questions_of(checklist):
        if not out or out[-1]["code"] != question["section"]:
            out.append({"code": question["section"], "title": _text(question["section_title"], locale), "items": []})
        value = answers.get(question["code"])
        out[-1]["items"].append({
            "code": question["code"], "text": _text(question["text"], locale), "key": bool(question.get("key")),
            "type": question["type"], "value": value, "answer": answer_text(question, value, locale),
            "flagged": bool(question.get("key")) and value == "no", "photos": by_code.get(question["code"], []),
        })
    return out


def residents(counts: dict) -> list[dict]:
    """Rows of the residents table: one per age band, male and female."""
    rows = []
    for band, label in BAND_LABELS.items():
        rows.append({"label": _(label), "male": counts.get(f"male_{band}", 0), "female": counts.get(f"female_{band}", 0)})
    return rows


async def report_view(actor: Actor, visit_id: int) -> dict:
    """Everything the report page and the berita acara show."""
    visit = await get_visit(actor, visit_id)
    locale = get_locale()
    checklist = await get_checklist(visit["checklist"])
    photos = await photos_of(visit_id)
    lks = await Lks.select(
        Lks.id, Lks.name, Lks.kind, Lks.address, Lks.rt, Lks.rw, Lks.kelurahan_code, Lks.kecamatan_code, Lks.head_name,
        Lks.phone, Lks.latitude, Lks.longitude, Lks.registration_status, Lks.certificate_number,
    ).where(Lks.id == visit["lks"]).first()
    return {
        "visit": visit, "lks": lks, "checklist": checklist, "checklist_title": _text(checklist["title"], locale),
        "places": await regions.region_names({lks["kelurahan_code"], lks["kecamatan_code"]}),
        "sections": sections(checklist, visit["answers"], photos, locale), "findings": await findings_of_visit(visit_id),
        "photos": photos, "photos_missing": missing_photos(visit, photos), "residents": residents(visit["residents_present"]),
        "residents_total": sum(visit["residents_present"].get(b, 0) for b in RESIDENT_BANDS),
        "present_label": lambda kind: choice_label(PRESENT_LABELS, kind),
        "status_label": choice_label(STATUS_LABELS, visit["status"]),
        "step": 0 if visit["status"] == VisitStatus.submitted.value else 1,
    }


async def visit_list(
    actor: Actor, *, status: str | None, kecamatan: str | None, limit: int, submitted: tuple[datetime, datetime] | None = None,
) -> dict:
    """The staff list: reports (waiting for review first) and the count of
    each status, each count a link to its list."""
    rows = await search_visits(actor, status=status, kecamatan=kecamatan, submitted=submitted, limit=limit)
    every = await search_visits(actor, kecamatan=kecamatan, submitted=submitted, limit=10_000)
    counts = {s.value: 0 for s in VisitStatus}
    for row in every:
        counts[row["status"]] += 1
    places = await regions.region_names({r["kecamatan_code"] for r in rows if r["kecamatan_code"]})
    return {"visits": rows, "counts": counts, "places": places}
