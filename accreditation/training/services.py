"""Pembinaan rules: Dinas Sosial staff schedule guidance and training
sessions and record who attended, per LKS and person (adult staff only: a
name and a role such as caregiver or manager; never residents). An LKS is
*covered* when someone of its staff attended a child-protection session in
the last 12 months; coverage feeds the risk level, the improvement plan and
the coverage page per kecamatan.

Staff see and change everything; an LKS's manager sees their own LKS's
attendance and certificates. Every write is audited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from accreditation.improvement.services import valid_id
from accreditation.training.tables import AttendeeRole, TrainingAttendance, TrainingSession, TrainingTopic
from registry import regions
from registry.access import is_staff, lks_exists
from registry.tables import Lks
from sigap import audit
from sigap.audit import Actor
from sigap.db import fetch, select_all, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, WIB, _
from sigap.tables import Role

TOPIC_LABELS = {
    TrainingTopic.child_protection: N_("Child protection"),
    TrainingTopic.care_standards: N_("Care standards (SNPA)"),
    TrainingTopic.other: N_("Other topic"),
}
ROLE_LABELS = {
    AttendeeRole.manager: N_("Manager"),
    AttendeeRole.caregiver: N_("Caregiver"),
    AttendeeRole.social_worker: N_("Social worker"),
    AttendeeRole.administrator: N_("Administration"),
    AttendeeRole.other_staff: N_("Other staff"),
}
COVERAGE_DAYS = 365  # "in the last 12 months"
EARLIEST = date(2000, 1, 1)


def today_wib(now: datetime) -> date:
    return now.astimezone(WIB).date()


def _text(value: object, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


def _staff_only(actor: Actor) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can manage training sessions."))


# --- sessions ------------------------------------------------------------------------------


@dataclass
class SessionData:
    topic: str = ""
    title: str = ""
    held_on: date | None = None
    place: str = ""
    trainer: str = ""
    notes: str = ""


async def create_session(actor: Actor, data: SessionData, *, now: datetime) -> dict:
    _staff_only(actor)
    errors = {}
    title, place, trainer = _text(data.title, 200), _text(data.place, 200), _text(data.trainer, 200)
    if data.topic not in TrainingTopic.__members__:
        errors["topic"] = _("Choose the topic.")
    if len(title) < 3:
        errors["title"] = _("Give the session a title (at least 3 characters).")
    if data.held_on is None or data.held_on < EARLIEST or data.held_on > today_wib(now) + timedelta(days=730):
        errors["held_on"] = _("Give the date of the session.")
    if len(place) < 3:
        errors["place"] = _("Say where the session takes place.")
    if len(trainer) < 3:
        errors["trainer"] = _("Name the trainer.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        session = TrainingSession(topic=data.topic, title=title, held_on=data.held_on, place=place, trainer=trainer,
                                  notes=_text(data.notes, 2000), created_by=actor.user_id, created_at=now)
        await session.save()
        row = await TrainingSession.select().where(TrainingSession.id == session.id).first()
        await audit.record(actor, "training.session.create", "training_session", session.id, now=now, after=row)
    return row


async def list_sessions(actor: Actor, *, limit: int = 200) -> list[dict]:
    _staff_only(actor)
    rows = await TrainingSession.select().order_by(TrainingSession.held_on, ascending=False).limit(limit)
    counts: dict[int, int] = {}
    if rows:
        for r in await TrainingAttendance.select(TrainingAttendance.session).where(
            TrainingAttendance.session.is_in([r["id"] for r in rows])
        ):
            counts[r["session"]] = counts.get(r["session"], 0) + 1
    return [{**r, "attendees": counts.get(r["id"], 0)} for r in rows]


async def get_session(actor: Actor, session_id: int) -> dict:
    _staff_only(actor)
    row = await TrainingSession.select().where(TrainingSession.id == session_id).first()
    if row is None:
        raise NotFound(_("Training session not found."))
    return row


async def attendance_of(session_id: int) -> list[dict]:
    return await TrainingAttendance.select(
        *TrainingAttendance.all_columns(), TrainingAttendance.lks.name.as_alias("lks_name"),
    ).where(TrainingAttendance.session == session_id).order_by(TrainingAttendance.lks.name).order_by(TrainingAttendance.id)


async def session_detail(actor: Actor, session_id: int) -> dict:
    session = await get_session(actor, session_id)
    return {**session, "attendance": await attendance_of(session_id)}


# --- attendance -----------------------------------------------------------------------------


@dataclass
class AttendanceData:
    lks_id: int | None = None
    person_name: str = ""
    person_role: str = ""


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


async def add_attendance(actor: Actor, session_id: int, data: AttendanceData, *, now: datetime) -> dict:
    """Record that a person of an LKS's staff attended; each person once per
    session (the same name again is a conflict)."""
    session = await get_session(actor, session_id)
    name = _text(data.person_name, 120)
    errors = {}
    if not valid_id(data.lks_id) or not await lks_exists(data.lks_id):
        errors["lks_id"] = _("Choose an existing LKS.")
    if len(name) < 3:
        errors["person_name"] = _("Give the attendee's full name (at least 3 characters).")
    if data.person_role not in AttendeeRole.__members__:
        errors["person_role"] = _("Choose the attendee's role at the LKS.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    key = f"{session_id}:{data.lks_id}:{_fold(name)}"[:200]
    if await TrainingAttendance.exists().where(TrainingAttendance.unique_key == key):
        raise Conflict(_("This person is already on the attendance list."), fields={"person_name": _("Already recorded.")})
    number = f"PB-{session['held_on'].year}-{session_id:04d}-{secrets.token_hex(3).upper()}"
    try:
        async with write_transaction():
            row = TrainingAttendance(session=session_id, lks=data.lks_id, person_name=name, person_role=data.person_role,
                                     unique_key=key, certificate_number=number, created_by=actor.user_id, created_at=now)
            await row.save()
            after = await TrainingAttendance.select().where(TrainingAttendance.id == row.id).first()
            await audit.record(actor, "training.attendance.add", "training_session", session_id, now=now, after=after)
    except Exception:
        if await TrainingAttendance.exists().where(TrainingAttendance.unique_key == key):
            raise Conflict(_("This person is already on the attendance list."), fields={"person_name": _("Already recorded.")}) from None
        raise
    return after


async def remove_attendance(actor: Actor, session_id: int, attendance_id: int, *, now: datetime) -> None:
    _staff_only(actor)
    async with write_transaction():
        before = await TrainingAttendance.select().where(
            (TrainingAttendance.id == attendance_id) & (TrainingAttendance.session == session_id)
        ).first()
        if before is None:
            raise NotFound(_("Attendance not found."))
        await TrainingAttendance.delete().where(TrainingAttendance.id == attendance_id)
        await audit.record(actor, "training.attendance.remove", "training_session", session_id, now=now, before=before)


async def attendance_for_certificate(actor: Actor, attendance_id: int) -> dict:
    """An attendance with its session and LKS, for its certificate: staff,
    or the manager of that LKS."""
    row = await TrainingAttendance.select(
        *TrainingAttendance.all_columns(), TrainingAttendance.lks.name.as_alias("lks_name"),
        TrainingAttendance.session.topic.as_alias("topic"), TrainingAttendance.session.title.as_alias("title"),
        TrainingAttendance.session.held_on.as_alias("held_on"), TrainingAttendance.session.place.as_alias("place"),
        TrainingAttendance.session.trainer.as_alias("trainer"),
    ).where(TrainingAttendance.id == attendance_id).first()
    if row is None or not (is_staff(actor) or (actor.role == Role.manager and actor.lks_id == row["lks"])):
        raise NotFound(_("Attendance not found."))
    return row


async def lks_attendance(actor: Actor, lks_id: int) -> list[dict]:
    """An LKS's training record (staff, or its own manager)."""
    if not (is_staff(actor) or (actor.role == Role.manager and actor.lks_id == lks_id)):
        raise NotFound(_("LKS not found."))
    # On every view of the LKS page (the improvement panel): the statement is
    # built once; Piccolo took milliseconds to build this join each time.
    return await fetch(
        select_all(TrainingAttendance).replace(" FROM ", ', s."topic" AS "topic", s."title" AS "title", s."held_on" AS "held_on" FROM ', 1)
        + ' LEFT JOIN "accreditation_training_session" s ON s."id" = "accreditation_training_attendance"."session"'
        ' WHERE "accreditation_training_attendance"."lks" = {} ORDER BY s."held_on" DESC',
        lks_id,
    )


# --- coverage ----------------------------------------------------------------------------------


async def covered_lks(today: date, lks_ids: list[int] | None = None) -> set[int]:
    """The LKS with staff trained in child protection in the last 12 months
    (held by ``today``): one query for all (or the given) LKS."""
    query = TrainingAttendance.select(TrainingAttendance.lks).where(
        (TrainingAttendance.session.topic == TrainingTopic.child_protection.value)
        & (TrainingAttendance.session.held_on > today - timedelta(days=COVERAGE_DAYS))
        & (TrainingAttendance.session.held_on <= today)
    ).distinct()
    if lks_ids is not None:
        query = query.where(TrainingAttendance.lks.is_in(lks_ids or [-1]))
    return {r["lks"] for r in await query}


async def coverage(actor: Actor, *, today: date, region: str) -> dict:
    """Per kecamatan: registered LKS, how many are covered, the share."""
    _staff_only(actor)
    covered = await covered_lks(today)
    rows = await Lks.select(Lks.id, Lks.kecamatan_code).where(Lks.registration_status == "registered")
    by: dict[str, list[int]] = {}
    for r in rows:
        counts = by.setdefault(r["kecamatan_code"] or "", [0, 0])
        counts[0] += 1
        counts[1] += r["id"] in covered
    names = {d["code"]: d["name"] for d in await regions.districts(region)}
    items = [
        {"kecamatan_code": code, "kecamatan": names.get(code, code or "-"), "registered": n, "covered": c,
         "share": round(c / n, 3) if n else 0.0}
        for code, (n, c) in by.items()
    ]
    for code, name in names.items():
        if code not in by:
            items.append({"kecamatan_code": code, "kecamatan": name, "registered": 0, "covered": 0, "share": 0.0})
    items.sort(key=lambda i: i["kecamatan"])
    total = sum(i["registered"] for i in items)
    total_covered = sum(i["covered"] for i in items)
    return {"items": items, "registered": total, "covered": total_covered,
            "share": round(total_covered / total, 3) if total else 0.0, "as_of": today.isoformat()}
