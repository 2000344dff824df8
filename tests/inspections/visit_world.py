"""What the visit report tests share: a team with its lead, a partner and
a second inspector, a task on an LKSA with a registered point, and a valid
report body built from the shipped checklist."""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image, ImageDraw

from inspections.planning import services as planning
from inspections.planning.tables import TaskKind
from inspections.teams import services as teams
from inspections.visits import checklists
from sigap.audit import Actor
from sigap.i18n import WIB
from sigap.tables import Role
from tests.conftest import csrf_token, login

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
LKS_POINT = (-6.2085, 106.6540)


def png_data_url() -> str:
    out = io.BytesIO()
    image = Image.new("RGB", (240, 100), "white")
    ImageDraw.Draw(image).line([(20, 70), (80, 30), (140, 75), (220, 35)], fill="navy", width=4)
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def jpeg_bytes(size: tuple[int, int] = (800, 600), exif: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (120, 160, 90))
    if exif:
        data = Image.Exif()
        data[0x010F] = "KameraRahasia"  # Make
        data[0x0132] = "2026:11:30 09:15:00"  # DateTime
        image.save(out, format="JPEG", exif=data.tobytes())
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


@dataclass
class VisitWorld:
    lks: dict
    team: dict
    task: dict
    users: dict[str, dict]
    checklist: dict  # the API item for LKSA

    def body(self, **changes) -> dict:
        """A complete, valid report: every item "yes", numbers and choices filled."""
        answers = {}
        for q in self.checklist["questions"]:
            answers[q["code"]] = {"yesno": "yes", "number": 3, "text": "Catatan.", "choice": q["options"][0]["value"] if q["options"] else ""}.get(q["type"], "na")
        body = {
            "client_id": f"visit-{uuid.uuid4().hex[:12]}", "task_id": self.task["id"], "checklist_id": self.checklist["id"],
            "announced": False, "started_at": datetime.now(UTC).isoformat(),
            "position": {"lat": LKS_POINT[0] + 0.001, "lng": LKS_POINT[1], "accuracy_m": 12},
            "present": [
                {"kind": "member", "user_id": self.users["lead"]["id"], "name": "Agus Setiawan", "agency": "Dinas Sosial"},
                {"kind": "lks_head", "user_id": None, "name": "Ibu Siti Aminah", "agency": ""},
            ],
            "residents_present": {"male_6_12": 4, "female_6_12": 5, "male_13_17": 3, "female_13_17": 2},
            "answers": answers, "findings": [], "photos": [],
            "signatures": {"lead": png_data_url(), "lks_head": png_data_url()},
            "outcome": "compliant", "summary": "Kondisi panti baik.", "internal_notes": "Catatan internal tim.",
        }
        body.update(changes)
        return body

    def key_no_body(self, photo_client_id: str = "photo-key-0001") -> dict:
        """A report where key item A1 is "no", with its finding and a declared photo."""
        body = self.body(outcome="needs_improvement")
        body["answers"]["A1"] = "no"
        body["findings"] = [{
            "ref": "f1", "question_code": "A1", "severity": "major", "description": "Tanda Daftar LKS sudah habis masa berlakunya.",
            "corrective_action": "Ajukan perpanjangan Tanda Daftar.", "due_on": (date.today() + timedelta(days=30)).isoformat(),
            "responsible": "lks",
        }]
        body["photos"] = [{"client_id": photo_client_id, "question_code": "A1", "finding_ref": "f1"}]
        return body


def make_visit_world(client, call, make_user, make_lks) -> VisitWorld:
    now = datetime.now(UTC)
    call(checklists.load_shipped_checklists)
    users = {
        "lead": make_user("agus", "inspector", full_name="Agus Setiawan"),
        "member": make_user("dedi", "inspector", full_name="Dedi Kurniawan"),
        "partner": make_user("bambang", "partner", full_name="Bambang Prasetyo"),
        "other": make_user("yanti", "inspector", full_name="Yanti dari tim lain"),
        "staff": make_user("rina", "staff", full_name="Rina Marlina"),
        "admin": make_user("admin1", "admin", full_name="Admin Dinsos"),
    }
    users["manager"] = make_user("pengurus", "manager")
    lks = make_lks("LKSA Kasih Bunda", latitude=LKS_POINT[0], longitude=LKS_POINT[1], head_name="Siti Aminah")
    team = call(teams.create_team, STAFF, name="Tim Terpadu Pinang", area_code="36.71.11", now=now)
    call(teams.add_member, STAFF, team["id"], agency="dinsos", user_id=users["lead"]["id"], is_lead=True, now=now)
    call(teams.add_member, STAFF, team["id"], agency="dinsos", user_id=users["member"]["id"], now=now)
    call(teams.add_member, STAFF, team["id"], agency="satpol_pp", user_id=users["partner"]["id"], now=now)
    lks_row = {**lks, "kecamatan_code": "36.71.11"}
    task = planning.new_task(
        lks_row, TaskKind.routine, now.astimezone(WIB).date(), f"test:{lks['id']}", teams=[team],
        leads={team["id"]: users["lead"]["id"]}, now=now,
    )
    call(planning.insert_tasks, [task])
    task = call(planning.search_tasks, STAFF, lks_id=lks["id"])[0]
    items = call(checklists.current_checklists, "id")
    return VisitWorld(lks, team, task, users, next(i for i in items if i["lks_kind"] == "lksa"))


@pytest.fixture
def world(client, call, make_user, make_lks) -> VisitWorld:
    return make_visit_world(client, call, make_user, make_lks)


def sign_in(client, user: dict) -> dict:
    """Sign in; returns the CSRF header the API's writes need."""
    client.cookies.clear()
    login(client, user["username"])
    return {"X-CSRFToken": csrf_token(client)}
