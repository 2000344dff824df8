"""The in-process scheduler: jobs registered with their times, and a run
missed while the app was down caught up at start."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from registry.tables import Lks
from sigap.settings import Settings
from tests.conftest import wait_until


@pytest.fixture
def settings():
    return replace(Settings.from_env(), scheduler_enabled=True)


@pytest.fixture
def lapsed(app):
    """An LKS whose registration ended while the app was down: made before
    the app starts (no client yet), straight through the services."""
    from datetime import datetime, timezone

    from registry import services
    from sigap.audit import Actor
    from sigap.tables import Role
    from tests.conftest import LKS_DEFAULTS, run_async_in_thread

    async def make():
        row, _w = await services.create_lks(
            Actor(user_id=None, username="test", role=Role.staff), {**LKS_DEFAULTS, "name": "LKSA Terlewat"},
            now=datetime.now(timezone.utc),
        )
        await Lks.update({Lks.registration_status: "registered", Lks.certificate_number: "0010/TD-LKS/36.71/2023",
                          Lks.valid_until: date.today() - timedelta(days=2)}).where(Lks.id == row["id"])
        return row

    return run_async_in_thread(make)


def test_scheduler_catches_up_a_missed_expiry_at_start(lapsed, app, client, call):
    runner = app.state.jobs
    assert runner.role == "leader"
    jobs = {job.id for job in runner.scheduler.get_jobs()}
    assert {"expire-registrations", "plan"} <= jobs
    trigger = str(runner.scheduler.get_job("expire-registrations").trigger)
    assert "hour='0'" in trigger and "minute='5'" in trigger
    plan_trigger = str(runner.scheduler.get_job("plan").trigger)
    assert "hour='1'" in plan_trigger and "minute='0'" in plan_trigger
    # Nobody runs the job by hand: the start-up catch-up does it.
    wait_until(lambda: call(Lks.select(Lks.registration_status).where(Lks.id == lapsed["id"]).first().run)["registration_status"],
               lambda status: status == "expired", what="the lapsed registration is expired by the start-up run")
