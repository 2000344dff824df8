"""Checking a visit report as the tablet sends it, before anything is
stored: every field error is collected under its name (``answers.<code>``,
``findings.<code>``, ``photos.<code>``, ``findings.<n>.<field>``, ...) so the
tablet can show each next to its field."""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import date, datetime
from typing import Any

from inspections.findings.tables import FindingSeverity, Responsible
from inspections.visits.checklists import questions_of
from inspections.visits.tables import VisitOutcome
from sigap.errors import ValidationError
from sigap.i18n import WIB, _

CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PRESENT_KINDS = ("member", "partner", "lks_head")
RESIDENT_BANDS = tuple(f"{sex}_{band}" for band in ("0_5", "6_12", "13_17", "18_plus") for sex in ("male", "female"))
YESNO = ("yes", "no", "na")
SIGNATURE_PREFIX = "data:image/png;base64,"
MAX_SIGNATURE_BYTES = 200_000
MAX_TEXT = 5000
MAX_RESIDENTS = 10_000


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """Text as typed, without control characters, trimmed to ``limit``."""
    return CONTROL.sub("", str(value or "")).strip()[:limit]


def valid_client_id(value: Any) -> bool:
    return isinstance(value, str) and bool(CLIENT_ID.match(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _started_at(value: Any, errors: dict) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        errors["started_at"] = _("Give the start time as an ISO date and time with its zone.")
        return None
    return parsed


def _position(value: Any, errors: dict) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors["position"] = _("The position must have lat, lng and accuracy_m.")
        return None
    lat, lng, accuracy = value.get("lat"), value.get("lng"), value.get("accuracy_m", 0)
    if not (_is_number(lat) and -90 <= lat <= 90 and _is_number(lng) and -180 <= lng <= 180):
        errors["position"] = _("The position is not a valid latitude and longitude.")
        return None
    if accuracy is not None and not (_is_number(accuracy) and accuracy >= 0):
        errors["position"] = _("The accuracy must be a number of metres.")
        return None
    return {"lat": float(lat), "lng": float(lng), "accuracy_m": float(accuracy) if accuracy is not None else None}


def _present(value: Any, errors: dict) -> list[dict]:
    if not isinstance(value, list):
        errors["present"] = _("List who was present.")
        return []
    out = []
    for index, person in enumerate(value):
        name = clean_text(person.get("name"), 200) if isinstance(person, dict) else ""
        user_id = person.get("user_id") if isinstance(person, dict) else None
        if not isinstance(person, dict) or person.get("kind") not in PRESENT_KINDS or not name:
            errors[f"present.{index}"] = _("Each person present needs a kind (member, partner, LKS head) and a name.")
            continue
        if user_id is not None and not (isinstance(user_id, int) and 0 < user_id < 2**31):
            errors[f"present.{index}"] = _("Unknown user.")
            continue
        out.append({"kind": person["kind"], "user_id": user_id, "name": name, "agency": clean_text(person.get("agency"), 120)})
    if not out and "present" not in errors:
        errors["present"] = _("List who was present.")
    return out


def _residents(value: Any, errors: dict) -> dict:
    if not isinstance(value, dict) or set(value) - set(RESIDENT_BANDS):
        errors["residents_present"] = _("Count the residents present by sex and age band.")
        return {}
    counts = {band: value.get(band, 0) for band in RESIDENT_BANDS}
    for band, count in counts.items():
        if not (isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= MAX_RESIDENTS):
            errors[f"residents_present.{band}"] = _("A whole number from 0.")
    return counts


def _answer_problem(question: dict, value: Any) -> str | None:
    kind = question["type"]
    if kind == "yesno" and value not in YESNO:
        return _("Answer yes, no or not applicable.")
    if kind == "number" and not (_is_number(value) and value >= 0):
        return _("Give a number (0 or more).")
    if kind == "choice" and value not in question.get("options", []):
        return _("Choose one of the options.")
    if kind in ("text", "photo") and not isinstance(value, str):
        return _("Give a text.")
    return None


def _answers(value: Any, questions: list[dict], photo_codes: set[str], errors: dict) -> dict:
    """Every question answered: a photo question by a photo of it (or
    "na"), the others by a value of their type."""
    if not isinstance(value, dict):
        value = {}
    by_code = {q["code"]: q for q in questions}
    for code in value:
        if code not in by_code:
            errors[f"answers.{code}"] = _("This is not a question of this checklist.")
    answers: dict = {}
    for question in questions:
        code, answer = question["code"], value.get(question["code"])
        if answer is None or answer == "":
            if question["type"] == "photo" and code in photo_codes:
                continue
            errors[f"answers.{code}"] = _("Not answered yet.")
            continue
        problem = _answer_problem(question, answer)
        if problem:
            errors[f"answers.{code}"] = problem
            continue
        answers[code] = clean_text(answer) if isinstance(answer, str) else answer
    return answers


def _due_on(value: Any, today: date) -> date | None:
    try:
        due = date.fromisoformat(str(value))
    except ValueError:
        return None
    return due if due >= today else None


def _finding(index: int, item: Any, codes: set[str], today: date, errors: dict) -> dict | None:
    if not isinstance(item, dict):
        errors[f"findings.{index}"] = _("A finding must be an object.")
        return None
    prefix = f"findings.{index}"
    finding = {
        "ref": clean_text(item.get("ref"), 64), "question_code": clean_text(item.get("question_code"), 20),
        "severity": item.get("severity"), "description": clean_text(item.get("description")),
        "corrective_action": clean_text(item.get("corrective_action")), "due_on": _due_on(item.get("due_on"), today),
        "responsible": item.get("responsible"),
    }
    checks = {
        "ref": (finding["ref"], _("Give the finding a reference.")),
        "question_code": (finding["question_code"] in codes, _("Choose the checklist item the finding is about.")),
        "severity": (finding["severity"] in FindingSeverity.__members__, _("Choose how serious the finding is.")),
        "description": (len(finding["description"]) >= 5, _("Describe the finding (at least 5 characters).")),
        "corrective_action": (len(finding["corrective_action"]) >= 5, _("Say what must be done (at least 5 characters).")),
        "due_on": (finding["due_on"], _("Give the date by which it must be corrected (today or later).")),
        "responsible": (finding["responsible"] in Responsible.__members__, _("Choose who must act.")),
    }
    bad = {f"{prefix}.{name}": message for name, (ok, message) in checks.items() if not ok}
    errors.update(bad)
    return None if bad else finding


def _findings(value: Any, codes: set[str], today: date, errors: dict) -> list[dict]:
    if not isinstance(value, list):
        errors["findings"] = _("Findings must be a list.")
        return []
    out = [f for i, item in enumerate(value) if (f := _finding(i, item, codes, today, errors))]
    refs = [f["ref"] for f in out]
    if len(set(refs)) != len(refs):
        errors["findings"] = _("Two findings have the same reference.")
    return out


def _photos(value: Any, codes: set[str], refs: set[str], errors: dict) -> list[dict]:
    if not isinstance(value, list):
        errors["photos"] = _("Photos must be a list.")
        return []
    out = []
    for index, item in enumerate(value):
        item = item if isinstance(item, dict) else {}
        photo = {"client_id": item.get("client_id"), "question_code": item.get("question_code") or "", "finding_ref": item.get("finding_ref") or ""}
        if not valid_client_id(photo["client_id"]):
            errors[f"photos.{index}"] = _("Each photo needs a client id of 8 to 64 letters, digits or . _ : -")
        elif photo["question_code"] and photo["question_code"] not in codes:
            errors[f"photos.{index}"] = _("This is not a question of this checklist.")
        elif photo["finding_ref"] and photo["finding_ref"] not in refs:
            errors[f"photos.{index}"] = _("No finding has this reference.")
        else:
            out.append(photo)
    if len({p["client_id"] for p in out}) != len(out):
        errors["photos"] = _("Two photos have the same client id.")
    return out


def _signature(value: Any) -> bool:
    if not isinstance(value, str) or not value.startswith(SIGNATURE_PREFIX) or len(value) > MAX_SIGNATURE_BYTES * 4 // 3 + 40:
        return False
    try:
        raw = base64.b64decode(value[len(SIGNATURE_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(b"\x89PNG\r\n\x1a\n")


def _signatures(value: Any, errors: dict) -> dict:
    """The lead signs always; the LKS head when present (may refuse)."""
    value = value if isinstance(value, dict) else {}
    if not _signature(value.get("lead")):
        errors["signatures.lead"] = _("The lead's signature is missing.")
    if value.get("lks_head") and not _signature(value["lks_head"]):
        errors["signatures.lks_head"] = _("The signature of the LKS head is not a drawn image.")
    return {k: value[k] for k in ("lead", "lks_head") if value.get(k)}


def _key_items(questions: list[dict], answers: dict, findings: list[dict], photos: list[dict], errors: dict) -> None:
    """A key item answered "no" needs a finding and a photo of it."""
    with_finding = {f["question_code"] for f in findings}
    with_photo = {p["question_code"] for p in photos}
    for question in questions:
        code = question["code"]
        if question.get("key") and answers.get(code) == "no":
            if code not in with_finding:
                errors[f"findings.{code}"] = _("A key item answered \"no\" needs a finding.")
            if code not in with_photo:
                errors[f"photos.{code}"] = _("A key item answered \"no\" needs at least one photo.")


def check_report(body: dict, checklist: dict, *, now: datetime) -> dict:
    """The report ``body`` made clean, or ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    questions = questions_of(checklist)
    codes = {q["code"] for q in questions}
    today = now.astimezone(WIB).date()
    findings = _findings(body.get("findings", []), codes, today, errors)
    photos = _photos(body.get("photos", []), codes, {f["ref"] for f in findings}, errors)
    answers = _answers(body.get("answers"), questions, {p["question_code"] for p in photos}, errors)
    report = {
        "announced": body.get("announced"),
        "started_at": _started_at(body.get("started_at"), errors),
        "position": _position(body.get("position"), errors),
        "present": _present(body.get("present"), errors),
        "residents_present": _residents(body.get("residents_present"), errors),
        "answers": answers, "findings": findings, "photos": photos,
        "signatures": _signatures(body.get("signatures"), errors),
        "outcome": body.get("outcome"),
        "summary": clean_text(body.get("summary")), "internal_notes": clean_text(body.get("internal_notes")),
    }
    if not isinstance(report["announced"], bool):
        errors["announced"] = _("Say whether the visit was announced.")
    if report["outcome"] not in VisitOutcome.__members__:
        errors["outcome"] = _("Choose the outcome of the visit.")
    _key_items(questions, answers, findings, photos, errors)
    if errors:
        raise ValidationError(_("The report is not complete: %(count)s fields need attention.", count=len(errors)), fields=errors)
    return report
