"""Checklists: shipped versions loaded once, the API in the caller's
language, admins saving a new version."""

from __future__ import annotations

import pytest

from inspections.visits import checklists
from inspections.visits.tables import Checklist
from sigap.i18n import use_locale


@pytest.fixture
def shipped(call):
    call(checklists.load_shipped_checklists)


def test_loading_the_shipped_checklists_twice_stores_each_version_once(call, shipped):
    call(checklists.load_shipped_checklists)
    rows = call(Checklist.select(Checklist.unique_key, Checklist.is_current).run)
    assert sorted(r["unique_key"] for r in rows) == ["general:1", "lksa:1"]
    assert all(r["is_current"] for r in rows)


def test_the_api_lists_one_checklist_per_lks_kind_in_the_callers_language(client, as_role, shipped):
    as_role("inspector")
    items = client.get("/api/v1/checklists").json()["items"]
    assert sorted(i["lks_kind"] for i in items) == ["disability", "elderly", "lksa", "other", "rehabilitation"]
    lksa = next(i for i in items if i["lks_kind"] == "lksa")
    first = lksa["questions"][0]
    assert first["code"] == "A1" and first["key"] is True and first["type"] == "yesno"
    assert [o["value"] for o in first["options"]] == ["yes", "no", "na"]
    assert first["options"][0]["label"] == "Ya"
    assert "LKSA" in lksa["title"]
    choice = next(q for q in lksa["questions"] if q["type"] == "choice")
    assert choice["options"][0]["label"] == "Tertulis"


def test_managers_and_the_public_cannot_read_checklists(client, as_role, shipped):
    assert client.get("/api/v1/checklists").status_code == 401
    as_role("manager")
    assert client.get("/api/v1/checklists").status_code == 403


def test_a_broken_definition_is_refused_with_what_is_wrong():
    data = checklists.read_shipped()[0]
    data["sections"][0]["questions"][1]["code"] = data["sections"][0]["questions"][0]["code"]
    with use_locale("id"):
        assert checklists.definition_problem(data) == "Kode pertanyaan A1 dipakai dua kali."
        data = checklists.read_shipped()[0]
        data["sections"][0]["questions"][0]["type"] = "slider"
        assert "jenisnya harus salah satu dari yesno" in checklists.definition_problem(data)


def test_a_newly_shipped_version_becomes_current_and_the_old_one_stays(call, shipped, tmp_path, monkeypatch):
    import json

    for path in checklists.SHIPPED_DIR.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    lksa = json.loads((tmp_path / "lksa.json").read_text(encoding="utf-8"))
    lksa["version"] = 2
    (tmp_path / "lksa-2.json").write_text(json.dumps(lksa), encoding="utf-8")
    monkeypatch.setattr(checklists, "SHIPPED_DIR", tmp_path)
    call(checklists.load_shipped_checklists)
    call(checklists.load_shipped_checklists)
    rows = call(Checklist.select(Checklist.unique_key, Checklist.is_current).where(Checklist.code == "lksa").order_by(Checklist.version).run)
    assert rows == [{"unique_key": "lksa:1", "is_current": False}, {"unique_key": "lksa:2", "is_current": True}]
    assert call(checklists.checklist_for_kind, "lksa")["version"] == 2
