"""Accreditation cycles: the LKS row's accreditation fields follow them
(one source of truth), validity by grade (configurable), the expiry job
(idempotent, caught up at start), external grades, staff-only changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from accreditation import jobs
from accreditation.cycles import services as cycles
from accreditation.cycles.tables import Cycle, StageChange
from accreditation.instruments import services as instruments
from registry.tables import Lks
from sigap.audit import Actor
from sigap.errors import Conflict, Forbidden, ValidationError
from sigap.settings import Settings
from sigap.tables import AuditEvent, Role

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 WIB
TODAY = date(2026, 11, 30)
STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
ADMIN = Actor(user_id=None, username="admin", role=Role.admin)


def lks_fields(call, lks_id: int) -> tuple:
    row = call(Lks.select(Lks.accreditation_status, Lks.accreditation_grade, Lks.accreditation_valid_until)
               .where(Lks.id == lks_id).first().run)
    return row["accreditation_status"], row["accreditation_grade"], row["accreditation_valid_until"]


def decide(call, cycle: dict, **kwargs) -> dict:
    decision = cycles.Decision(accredited=kwargs.pop("accredited", True), decision_date=kwargs.pop("on", TODAY), **kwargs)
    return call(cycles.record_decision, STAFF, cycle["id"], decision, version=cycle["version"], now=NOW)


def test_a_cycle_from_preparation_to_grade_drives_the_lks_row(call, make_lks):
    lks = make_lks()
    assert lks_fields(call, lks["id"]) == ("none", None, None)
    cycle = call(cycles.open_cycle, STAFF, lks["id"], now=NOW)
    assert cycle["stage"] == "preparing" and lks_fields(call, lks["id"]) == ("in_process", None, None)
    with pytest.raises(Conflict):  # one cycle in progress at a time
        call(cycles.open_cycle, STAFF, lks["id"], now=NOW)
    with pytest.raises(ValidationError):  # a decision needs the file submitted to BALKS first
        decide(call, cycle, grade="A")
    with pytest.raises(ValidationError):  # no jumping from preparing to assessor visit
        call(cycles.move_stage, STAFF, cycle["id"], "assessor_visit", now=NOW)
    cycle = call(cycles.move_stage, STAFF, cycle["id"], "submitted", now=NOW, note="Berkas dikirim")
    cycle = call(cycles.move_stage, STAFF, cycle["id"], "assessor_visit", now=NOW)
    with pytest.raises(ValidationError) as bad:
        decide(call, cycle, grade="D")
    assert "grade" in bad.value.fields
    with pytest.raises(Conflict):
        call(cycles.record_decision, STAFF, cycle["id"], cycles.Decision(True, "B", TODAY), version=1, now=NOW)
    after = decide(call, cycle, grade="B")
    assert after["valid_until"] == date(2029, 11, 30)  # B: 3 years from the decision
    assert lks_fields(call, lks["id"]) == ("accredited", "B", date(2029, 11, 30))
    [listed] = call(cycles.history, STAFF, lks["id"])
    assert [c["to_stage"] for c in listed["changes"]] == ["preparing", "submitted", "assessor_visit", "accredited"]
    assert call(AuditEvent.count().where(AuditEvent.action == "accreditation.decision").run) == 1


@pytest.mark.parametrize(("grade", "years"), [("A", 5), ("B", 3), ("C", 2)])
def test_validity_by_grade_and_as_configured(call, make_lks, grade, years):
    cycle = call(cycles.record_external_grade, make_lks()["id"], None, "submitted", None, STAFF, NOW, "test")
    assert decide(call, cycle, grade=grade, on=date(2024, 2, 29))["valid_until"] == date(2024 + years, 2, 28)
    settings = call(instruments.grading)
    assert settings["is_default"] and settings["validity_years"][grade] == years
    form = {f"threshold_{g}": t for g, t in settings["thresholds"].items()} | {f"years_{g}": 4 for g in "ABC"}
    call(instruments.save_grading, ADMIN, form, version=0, now=NOW)
    other = call(cycles.record_external_grade, make_lks()["id"], None, "submitted", None, STAFF, NOW, "test")
    assert decide(call, other, grade=grade, on=date(2025, 1, 1))["valid_until"] == date(2029, 1, 1)
    # An explicit date on the certificate wins.
    third = call(cycles.record_external_grade, make_lks()["id"], None, "assessor_visit", None, STAFF, NOW, "test")
    assert decide(call, third, grade=grade, valid_until=date(2027, 6, 1))["valid_until"] == date(2027, 6, 1)


def test_grading_settings_are_admins_and_checked(call):
    form = {"threshold_A": "80", "threshold_B": "85", "threshold_C": "50", "years_A": "5", "years_B": "3", "years_C": "x"}
    with pytest.raises(Forbidden):
        call(instruments.save_grading, STAFF, form, version=0, now=NOW)
    with pytest.raises(ValidationError) as bad:
        call(instruments.save_grading, ADMIN, form, version=0, now=NOW)
    assert set(bad.value.fields) == {"years_C"}
    with pytest.raises(ValidationError) as bad:
        call(instruments.save_grading, ADMIN, form | {"years_C": "2"}, version=0, now=NOW)
    assert set(bad.value.fields) == {"threshold_B"}
    saved = call(instruments.save_grading, ADMIN, form | {"years_C": "2", "threshold_A": "90"}, version=0, now=NOW)
    assert saved["thresholds"] == {"A": 90, "B": 85, "C": 50} and saved["version"] == 1
    with pytest.raises(Conflict):
        call(instruments.save_grading, ADMIN, form | {"years_C": "2", "threshold_A": "90"}, version=0, now=NOW)


def test_only_staff_change_a_record(call, make_lks):
    lks = make_lks()
    manager = Actor(user_id=None, username="pengurus", role=Role.manager, lks_id=lks["id"])
    with pytest.raises(Forbidden):
        call(cycles.open_cycle, manager, lks["id"], now=NOW)
    cycle = call(cycles.open_cycle, STAFF, lks["id"], now=NOW)
    with pytest.raises(Forbidden):
        call(cycles.move_stage, manager, cycle["id"], "submitted", now=NOW)
    with pytest.raises(Forbidden):
        call(cycles.record_external_grade, lks["id"], "A", "accredited", None, manager, NOW, "x")


def test_the_expiry_job_is_idempotent_and_a_renewal_keeps_the_grade(call, make_lks):
    old, fresh, renewing = make_lks(), make_lks(), make_lks()
    call(cycles.record_external_grade, old["id"], "C", "accredited", TODAY - timedelta(days=1), STAFF, NOW - timedelta(days=30), "x")
    call(cycles.record_external_grade, fresh["id"], "A", "accredited", TODAY, STAFF, NOW, "x")
    call(cycles.record_external_grade, renewing["id"], "B", "accredited", TODAY + timedelta(days=40), STAFF, NOW, "x")
    call(cycles.open_cycle, STAFF, renewing["id"], now=NOW)  # renewal under way: still accredited
    assert lks_fields(call, renewing["id"]) == ("accredited", "B", TODAY + timedelta(days=40))
    assert call(jobs.expire_grades, now=NOW) == 1
    assert call(jobs.expire_grades, now=NOW) == 0
    assert lks_fields(call, old["id"]) == ("expired", "C", TODAY - timedelta(days=1))
    assert lks_fields(call, fresh["id"])[0] == "accredited"  # valid through today
    assert call(StageChange.count().where(StageChange.to_stage == "expired").run) == 1
    # Late: two months on, the renewing LKS's old grade ran out but its renewal is in process.
    assert call(jobs.expire_grades, now=NOW + timedelta(days=60)) == 2
    assert lks_fields(call, renewing["id"]) == ("in_process", None, None)
    assert lks_fields(call, fresh["id"])[0] == "expired"


def test_an_external_grade_already_past_is_recorded_expired(call, make_lks):
    lks = make_lks()
    cycle = call(cycles.record_external_grade, lks["id"], "B", "accredited", date(2020, 1, 1), STAFF, NOW, "import:x.xlsx")
    assert cycle["stage"] == "expired" and cycle["source"] == "import:x.xlsx"
    assert lks_fields(call, lks["id"]) == ("expired", "B", date(2020, 1, 1))
    with pytest.raises(ValidationError):
        call(cycles.record_external_grade, lks["id"], None, "accredited", None, STAFF, NOW, "x")
    with pytest.raises(ValidationError):
        call(cycles.record_external_grade, lks["id"], None, "bogus", None, STAFF, NOW, "x")


def test_the_lks_form_cannot_edit_the_derived_fields(client, as_role, make_lks, call):
    as_role("staff")
    lks = make_lks()
    from tests.conftest import csrf_token

    response = client.patch(f"/api/v1/lks/{lks['id']}", json={
        "version": lks["version"], "accreditation_status": "accredited", "accreditation_grade": "A"},
        headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code in (200, 422), response.text
    assert lks_fields(call, lks["id"]) == ("none", None, None)


@pytest.fixture
def scheduled_settings():
    return replace(Settings.from_env(), scheduler_enabled=True)


def test_the_scheduler_catches_up_expiry_at_start(scheduled_settings):
    from accreditation.cycles.services import record_external_grade
    from sigap.app import create_app
    from tests.conftest import LKS_DEFAULTS, app_client, run_async_in_thread, wait_until

    async def lapsed():
        from registry import services

        now = datetime.now(timezone.utc)
        row, _w = await services.create_lks(STAFF, {**LKS_DEFAULTS, "name": "LKSA Lewat Masa"}, now=now)
        await record_external_grade(row["id"], "C", "accredited", date.today() + timedelta(days=1), STAFF,
                                    now - timedelta(days=800), "test")
        await Cycle.update({Cycle.valid_until: date.today() - timedelta(days=3)}).where(Cycle.lks == row["id"])
        return row

    row = run_async_in_thread(lapsed)
    app = create_app(scheduled_settings)
    with app_client(app) as (_client, call):
        trigger = str(app.state.jobs.scheduler.get_job("expire-accreditations").trigger)
        assert "hour='0'" in trigger and "minute='10'" in trigger
        # Nobody runs the job by hand: the start-up catch-up does it.
        wait_until(lambda: call(Cycle.select(Cycle.stage).where(Cycle.lks == row["id"]).first().run)["stage"],
                   lambda stage: stage == "expired", what="the lapsed cycle is expired by the start-up run")
        assert lks_fields(call, row["id"])[0] == "expired"
