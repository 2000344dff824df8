"""Demo pembinaan: a few sessions with attendance (some LKS covered, some
not), the improvement plans that follow from it, and a few actions for the
demo manager's LKS (one overdue, one answered)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from accreditation.improvement import services as improvement
from accreditation.training import jobs, services
from accreditation.training.tables import TrainingSession
from registry.tables import Lks
from sigap.audit import Actor
from sigap.tables import Role

ACTOR = Actor(user_id=None, username="demo", role=Role.admin)
PEOPLE = [("Siti Rahmawati", "manager"), ("Budi Santoso", "caregiver"), ("Dewi Lestari", "caregiver"),
          ("Agus Prasetyo", "social_worker"), ("Rina Marlina", "administrator")]
SESSIONS = [
    ("child_protection", "Pelatihan Perlindungan Anak Angkatan I", 200, "Aula Dinas Sosial Kota Tangerang", "Tim UPTD PPA"),
    ("child_protection", "Pelatihan Perlindungan Anak Angkatan II", 45, "Gedung Cisadane, Kec. Tangerang", "Tim UPTD PPA"),
    ("care_standards", "Bimbingan Teknis Standar Nasional Pengasuhan Anak (SNPA)", 90, "Aula Kecamatan Pinang", "Pekerja Sosial Dinsos"),
    ("child_protection", "Pelatihan Perlindungan Anak 2025", 500, "Aula Dinas Sosial Kota Tangerang", "LPA Banten"),
]


async def load_training_demo(*, now: datetime, storage: Any, context: dict) -> None:
    if await TrainingSession.exists():
        return
    lks = [r["id"] for r in await Lks.select(Lks.id).where(Lks.registration_status == "registered").order_by(Lks.id)]
    manager_lks = context.get("manager_lks_id")
    today = services.today_wib(now)
    for n, (topic, title, days_ago, place, trainer) in enumerate(SESSIONS):
        session = await services.create_session(ACTOR, services.SessionData(
            topic=topic, title=title, held_on=today - timedelta(days=days_ago), place=place, trainer=trainer), now=now)
        # Every other registered LKS sends two people to the recent sessions;
        # the demo manager's LKS is left uncovered (its plan shows the training).
        attendees = [i for i in lks[n::3] if i != manager_lks][:12]
        for k, lks_id in enumerate(attendees):
            for name, role in PEOPLE[k % 3 : k % 3 + 2]:
                await services.add_attendance(ACTOR, session["id"], services.AttendanceData(
                    lks_id=lks_id, person_name=name, person_role=role), now=now)
    await jobs.plan_training(now=now)
    if manager_lks:
        await improvement.add_actions(manager_lks, [
            {"title": "Lengkapi SOP pengasuhan dan tempel di ruang pengasuh", "due_on": today - timedelta(days=5), "ref": "SNPA-2.3"},
            {"title": "Perbarui daftar anak asuh dan kondisi kesehatannya (tanpa data pribadi di dokumen ini)",
             "due_on": today + timedelta(days=30), "ref": "SNPA-1.4"},
            {"title": "Pasang jalur evakuasi dan APAR di setiap lantai", "due_on": today + timedelta(days=60), "ref": "SARPRAS-3.1"},
        ], ACTOR, now, "indicator", cycle_ref="demo")
