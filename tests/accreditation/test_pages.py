"""Accreditation through the pages and the API, with the role rules: the
board and its figures for the demo (17 accredited, 12 in process), the
manager's self-assessment of their own LKS only, staff-only review and
record changes, admin-only settings and instrument."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import openpyxl
import pypdf
import pytest

from accreditation.instruments.services import load_shipped_instruments
from tests.conftest import csrf_token, form


def api(client, method: str, path: str, **kwargs):
    return client.request(method, path, headers={"X-CSRFToken": csrf_token(client)}, **kwargs)


@pytest.fixture
def instrument(call):
    call(load_shipped_instruments)


def load_demo(client, call):
    context: dict = {}
    for _order, name, loader in client.app.state.wiring.demo_loaders:
        if name in ("registry", "accreditation"):
            call(loader, now=datetime.now(timezone.utc), storage=client.app.state.storage, context=context)


def test_the_demo_board_shows_17_accredited_and_12_in_process(client, call, as_role):
    load_demo(client, call)
    as_role("staff")
    data = client.get("/api/v1/accreditation/pipeline").json()
    assert data["stages"]["accredited"] == 17
    assert data["in_process"] == 12
    assert sum(data["stages"][s] for s in ("preparing", "self_assessment", "submitted", "assessor_visit")) == 12
    assert data["total"] == 72 == sum(data["stages"].values())
    page = client.get("/accreditation")
    assert page.status_code == 200
    assert re.search(r'data-figure="accredited">17<', page.text) and re.search(r'data-figure="in_process">12<', page.text)
    # A filter narrows every figure; the export carries the same counts.
    some = client.get("/api/v1/accreditation/pipeline?kind=lksa").json()
    assert some["total"] < 72
    export = client.get("/accreditation/export.xlsx")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(export.content))
    stages = {row[0]: row[1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert stages["Terakreditasi"] == 17
    assert book.worksheets[1].max_row == 73
    # Managers do not see the board.
    as_role("manager")
    assert client.get("/api/v1/accreditation/pipeline").status_code == 403
    assert client.get("/accreditation").status_code in (403, 404)


def test_the_manager_fills_in_their_own_self_assessment_on_the_pages(client, call, as_role, make_lks, instrument):
    other = make_lks("LKSA Tetangga")
    manager = as_role("manager")
    start = client.get("/accreditation/self-assessment")
    assert start.status_code == 200 and "/assessment" in start.text
    made = form(client, f"/accreditation/lks/{manager['lks_id']}/assessment")
    assert made.status_code == 303
    path = made.headers["location"]
    assert client.get("/accreditation/self-assessment", follow_redirects=False).headers["location"] == path
    page = client.get(path)
    assert page.status_code == 200 and 'name="score_PRG1"' in page.text
    version = int(re.search(r'name="version" value="(\d+)"', page.text).group(1))
    saved = form(client, path, {"version": version, "score_PRG1": "3", "note_PRG1": "Program tertulis ada.", "action": "save"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
    page = client.get(saved.headers["location"])
    assert "Draf disimpan" in page.text
    # Submitting with indicators unscored: the page again, the message next to the field.
    version += 1
    refused = form(client, path, {"version": version, "score_PRG1": "3", "action": "submit"})
    assert refused.status_code == 422
    assert 'id="e-score-PRG2"' in refused.text
    # Another LKS's self-assessment is not there for this manager.
    assert form(client, f"/accreditation/lks/{other['id']}/assessment").status_code == 404
    theirs = call(__import__("accreditation.assessments.services", fromlist=["start"]).start,
                  __import__("sigap.audit", fromlist=["Actor"]).Actor(user_id=None, username="s", role="staff"), other["id"],
                  now=datetime.now(timezone.utc))
    assert client.get(f"/accreditation/assessments/{theirs['id']}").status_code == 404
    assert api(client, "PUT", f"/api/v1/accreditation/assessments/{theirs['id']}", json={"version": 1}).status_code == 404
    # The manager cannot review, nor change the record.
    assert form(client, f"{path}/review", {"decision": "recommend", "version": version}).status_code == 403
    assert api(client, "POST", f"/api/v1/accreditation/lks/{manager['lks_id']}/cycles").status_code == 403


def test_submit_review_and_decision_through_the_api(client, call, as_role, make_user, instrument):
    manager = as_role("manager")
    a = api(client, "POST", f"/api/v1/accreditation/lks/{manager['lks_id']}/assessment").json()
    codes = [i["code"] for i in a["indicators"]]
    bad = api(client, "PUT", f"/api/v1/accreditation/assessments/{a['id']}", json={
        "version": a["version"], "answers": {"PRG1": {"score": 9}}})
    assert bad.status_code == 422 and "score_PRG1" in bad.json()["fields"]
    done = api(client, "PUT", f"/api/v1/accreditation/assessments/{a['id']}", json={
        "version": a["version"], "submit": True, "answers": {c: {"score": 4} for c in codes}})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "submitted" and done.json()["result"]["grade"] == "A"
    as_role("staff")
    assert client.get(f"/accreditation/assessments/{a['id']}/letter.pdf").status_code == 409  # not recommended yet
    review = api(client, "POST", f"/api/v1/accreditation/assessments/{a['id']}/review", json={
        "decision": "recommend", "version": done.json()["version"]})
    assert review.status_code == 200 and review.json()["letter_number"]
    letter = client.get(f"/accreditation/assessments/{a['id']}/letter.pdf")
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(letter.content)).pages)
    assert review.json()["letter_number"] in text and "BALKS" in text and "DINAS SOSIAL" in text
    assert manager["username"] in text  # the LKS's name ("LKS milik <manager>")
    record = client.get(f"/api/v1/accreditation/lks/{manager['lks_id']}").json()["items"][0]
    assert record["stage"] == "submitted"
    decision = api(client, "POST", f"/api/v1/accreditation/cycles/{record['id']}/decision", json={
        "outcome": "accredited", "grade": "A", "decision_date": "2026-01-15", "version": record["version"]})
    assert decision.status_code == 200, decision.text
    assert decision.json()["valid_until"] == "2031-01-15"
    lks = client.get(f"/api/v1/lks/{manager['lks_id']}").json()
    assert lks["accreditation_status"] == "accredited" and lks["accreditation_grade"] == "A"
    assert client.get(f"/accreditation/lks/{manager['lks_id']}").status_code == 200
    assert "Akreditasi" in client.get(f"/lks/{manager['lks_id']}").text


def test_settings_and_instrument_are_for_admins(client, as_role, instrument):
    as_role("staff")
    assert client.get("/admin/accreditation").status_code == 403
    assert api(client, "POST", "/api/v1/accreditation/instrument", json={"definition": "{}"}).status_code == 403
    assert client.get("/api/v1/accreditation/instrument").json()["version"] == 1
    as_role("admin")
    page = client.get("/admin/accreditation")
    assert page.status_code == 200 and "BALKS" in page.text
    bad = form(client, "/admin/accreditation/grading", {"version": "0", "threshold_A": "50", "threshold_B": "70",
                                                      "threshold_C": "55", "years_A": "5", "years_B": "3", "years_C": "2"})
    assert bad.status_code == 422 and 'id="e-threshold_B"' in bad.text
    ok = form(client, "/admin/accreditation/grading", {"version": "0", "threshold_A": "90", "threshold_B": "75",
                                                     "threshold_C": "60", "years_A": "5", "years_B": "3", "years_C": "2"})
    assert ok.status_code == 303
    refused = api(client, "POST", "/api/v1/accreditation/instrument", json={"definition": "{\"title\": 1}"})
    assert refused.status_code == 422 and refused.json()["fields"]["definition"]


def test_accreditation_pages_run_a_bounded_number_of_queries(client, call, as_role, instrument, count_queries):
    manager = as_role("manager")
    a = api(client, "POST", f"/api/v1/accreditation/lks/{manager['lks_id']}/assessment").json()
    for path in (f"/accreditation/assessments/{a['id']}", f"/accreditation/lks/{manager['lks_id']}", f"/lks/{manager['lks_id']}"):
        client.get(path)
        count_queries.reset()
        assert client.get(path).status_code == 200, path
        assert len(count_queries) <= 20, f"{path}:\n" + "\n".join(count_queries.statements)
