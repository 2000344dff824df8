"""Self-assessment: the manager works only on their own LKS, drafts and
submits (every indicator scored), evidence from the LKS's documents or a new
upload; staff alone review (return with comments, recommend: the cycle moves
to submitted to BALKS), enter the assessor's scores; an old assessment keeps
its instrument version; the weakest indicators."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest

from accreditation.assessments import services as assessments
from accreditation.assessments.services import Answer, Verdict
from accreditation.cycles.tables import Cycle
from accreditation.instruments import services as instruments
from registry.tables import Lks
from sigap.audit import Actor
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.tables import Role

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
ADMIN = Actor(user_id=None, username="admin", role=Role.admin)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def world(call, make_lks):
    call(instruments.load_shipped_instruments)
    mine, other = make_lks("LKSA Harapan"), make_lks("LKSA Lain")
    manager = Actor(user_id=None, username="pengurus", role=Role.manager, lks_id=mine["id"])
    return {"mine": mine, "other": other, "manager": manager}


def codes(detail: dict) -> list[str]:
    return [i["code"] for i in detail["indicators"]]


def all_scored(detail: dict, score: int = 4, **overrides) -> dict[str, Answer]:
    return {c: Answer(score=overrides.get(c, score), note="ada") for c in codes(detail)}


def test_the_manager_works_only_on_their_own_lks(call, world):
    manager = world["manager"]
    with pytest.raises(NotFound):
        call(assessments.start, manager, world["other"]["id"], now=NOW)
    theirs = call(assessments.start, STAFF, world["other"]["id"], now=NOW)  # staff may start one for an LKS
    with pytest.raises(NotFound):
        call(assessments.detail, manager, theirs["id"])
    with pytest.raises(NotFound):
        call(assessments.save, manager, theirs["id"], {}, version=theirs["version"], now=NOW)
    with pytest.raises(Forbidden):  # staff do not fill it in for the LKS
        call(assessments.save, STAFF, theirs["id"], {}, version=theirs["version"], now=NOW)
    mine = call(assessments.start, manager, world["mine"]["id"], now=NOW)
    assert mine["status"] == "draft" and mine["editable"]
    assert call(assessments.start, manager, world["mine"]["id"], now=NOW)["id"] == mine["id"]  # the same one again
    cycle = call(Cycle.select().where(Cycle.id == mine["cycle"]).first().run)
    assert cycle["stage"] == "self_assessment"
    assert call(Lks.select(Lks.accreditation_status).where(Lks.id == world["mine"]["id"]).first().run)["accreditation_status"] == "in_process"


def test_draft_submit_review_recommend_and_assessor(client, call, world):
    manager = world["manager"]
    a = call(assessments.start, manager, world["mine"]["id"], now=NOW)
    first = codes(a)[0]
    # A draft: part of the answers, with a new upload as evidence.
    a = call(assessments.save, manager, a["id"], {first: Answer(score=3, note="Program tertulis")}, version=a["version"], now=NOW)
    a = call(assessments.upload_evidence, manager, a["id"], first, filename="program.png", fileobj=io.BytesIO(PNG), now=NOW,
             storage=client.app.state.storage, max_bytes=10_000_000, version=a["version"])
    [doc_id] = a["answers"][first]["documents"]
    assert a["answers"][first]["score"] == 3 and a["result"].missing and a["result"].grade is None
    with pytest.raises(ValidationError) as bad:  # submit needs every indicator scored
        call(assessments.save, manager, a["id"], {}, version=a["version"], now=NOW, submit=True)
    assert f"score_{codes(a)[1]}" in bad.value.fields
    with pytest.raises(ValidationError) as bad:
        call(assessments.save, manager, a["id"], {first: Answer(score=7)}, version=a["version"], now=NOW)
    assert set(bad.value.fields) == {f"score_{first}"}
    with pytest.raises(Conflict):
        call(assessments.save, manager, a["id"], {first: Answer(score=2)}, version=a["version"] - 1, now=NOW)
    answers = all_scored(a, 4, SDM3=1, ORG3=2)
    answers[first].documents = [doc_id]
    a = call(assessments.save, manager, a["id"], answers, version=a["version"], now=NOW, submit=True)
    assert a["status"] == "submitted" and not a["editable"] and a["result"].complete
    with pytest.raises(Conflict):
        call(assessments.save, manager, a["id"], {first: Answer(score=1)}, version=a["version"], now=NOW)
    # Only staff review; returning needs a reason.
    with pytest.raises(Forbidden):
        call(assessments.review, manager, a["id"], {}, decision="recommend", comment="", version=a["version"], now=NOW)
    with pytest.raises(ValidationError) as bad:
        call(assessments.review, STAFF, a["id"], {"SDM3": Verdict(ok=False)}, decision="return", comment="", version=a["version"], now=NOW)
    assert "comment_SDM3" in bad.value.fields
    a = call(assessments.review, STAFF, a["id"], {"SDM3": Verdict(False, "Lampirkan sertifikat pelatihan.")}, decision="return",
             comment="", version=a["version"], now=NOW)
    assert a["status"] == "returned" and a["editable"] and a["review"]["SDM3"]["comment"] == "Lampirkan sertifikat pelatihan."
    a = call(assessments.save, manager, a["id"], {"SDM3": Answer(score=2)}, version=a["version"], now=NOW, submit=True)
    a = call(assessments.review, STAFF, a["id"], {}, decision="recommend", comment="Lengkap.", version=a["version"], now=NOW)
    assert a["status"] == "recommended" and a["letter_number"].startswith(f"400.9/{a['id']:04d}/")
    cycle = call(Cycle.select().where(Cycle.id == a["cycle"]).first().run)
    assert cycle["stage"] == "submitted"
    # The assessor's scores after the BALKS visit: computed and explained.
    with pytest.raises(Forbidden):
        call(assessments.enter_assessor_scores, manager, a["id"], {}, version=a["version"], now=NOW)
    scores = dict.fromkeys(codes(a), 4) | {"PRG2": None, "SAR1": 2}
    a = call(assessments.enter_assessor_scores, STAFF, a["id"], scores, version=a["version"], now=NOW)
    assert a["assessor_result"].missing == ["PRG2"] and a["assessor_result"].grade is None
    a = call(assessments.enter_assessor_scores, STAFF, a["id"], scores | {"PRG2": 3}, version=a["version"], now=NOW)
    assert a["assessor_result"].complete and a["assessor_result"].grade == "A"
    assert call(Cycle.select(Cycle.stage).where(Cycle.id == a["cycle"]).first().run)["stage"] == "assessor_visit"
    weakest = call(assessments.weakest_indicators, STAFF, a["id"], 2)
    assert [w["code"] for w in weakest] == ["SAR1", "PRG2"]


def test_an_assessment_keeps_its_instrument_version(call, world):
    manager = world["manager"]
    old = call(assessments.start, manager, world["mine"]["id"], now=NOW)
    current = call(instruments.current_instrument)
    data = json.loads(instruments.editable_text(current))
    data["aspects"][0]["indicators"].append({"code": "PRG9", "weight": 2, "text": {"id": "Baru", "en": "New"}})
    with pytest.raises(Forbidden):
        call(instruments.save_new_version, STAFF, json.dumps(data), now=NOW)
    with pytest.raises(ValidationError):
        call(instruments.save_new_version, ADMIN, "{not json", now=NOW)
    new = call(instruments.save_new_version, ADMIN, json.dumps(data), now=NOW)
    assert new["version"] == 2 and call(instruments.current_instrument)["id"] == new["id"]
    call(instruments.load_shipped_instruments)  # loading the shipped data again keeps the admin's version current
    assert call(instruments.current_instrument)["id"] == new["id"]
    again = call(assessments.detail, manager, old["id"])
    assert again["instrument"] == current["id"] and "PRG9" not in codes(again)
    fresh = call(assessments.start, STAFF, world["other"]["id"], now=NOW)
    assert fresh["instrument"] == new["id"] and "PRG9" in codes(fresh)


def test_weak_indicators_become_the_improvement_plan_once(call, world):
    """Recommending plans the self-assessment's weak indicators (lower half
    of the scale); the assessor's scores add theirs; nothing is planned twice."""
    from accreditation.improvement.tables import ImprovementAction

    def plan() -> list[tuple[str, str]]:
        rows = call(ImprovementAction.select(ImprovementAction.source_ref, ImprovementAction.title).where(
            ImprovementAction.lks == world["mine"]["id"]).order_by(ImprovementAction.id).run)
        return [(r["source_ref"], r["title"]) for r in rows]

    manager = world["manager"]
    a = call(assessments.start, manager, world["mine"]["id"], now=NOW)
    a = call(assessments.save, manager, a["id"], all_scored(a, 4, SDM3=2, ORG3=1, PRG1=3), version=a["version"], now=NOW, submit=True)
    assert plan() == []  # submitting plans nothing: staff have not looked yet
    a = call(assessments.review, STAFF, a["id"], {}, decision="recommend", comment="", version=a["version"], now=NOW)
    assert [ref for ref, _title in plan()] == ["ORG3", "SDM3"]  # the weakest first; a 3 of 4 is not weak
    assert all(title.startswith("Perbaiki: ") and len(title) > 12 for _ref, title in plan())
    scores = dict.fromkeys(codes(a), 4) | {"SAR1": 2, "SDM3": 1}
    a = call(assessments.enter_assessor_scores, STAFF, a["id"], scores, version=a["version"], now=NOW)
    a = call(assessments.enter_assessor_scores, STAFF, a["id"], scores, version=a["version"], now=NOW)
    assert [ref for ref, _title in plan()] == ["ORG3", "SDM3", "SAR1"]
