"""Registration expiry as a scheduled job and from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from registry.tables import Lks
from tests.conftest import ROOT

SIGAP = str(Path(sys.executable).parent / "sigap")


def test_jobs_run_cli_expires_once(call, make_lks):
    lks = make_lks("LKSA Habis Masa")
    call(Lks.update({Lks.registration_status: "registered", Lks.certificate_number: "0009/TD-LKS/36.71/2023",
                     Lks.registered_on: date(2023, 11, 1), Lks.valid_until: date(2026, 11, 1)}).where(Lks.id == lks["id"]).run)
    env = dict(os.environ)
    r = subprocess.run([SIGAP, "jobs", "run", "expire-registrations", "--now", "2026-10-31T23:00:00+07:00"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "selesai: 0" in r.stdout
    r = subprocess.run([SIGAP, "jobs", "run", "expire-registrations", "--now", "2026-11-02T00:10:00+07:00"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert "selesai: 1" in r.stdout
    assert call(Lks.select(Lks.registration_status).where(Lks.id == lks["id"]).first().run)["registration_status"] == "expired"
    r = subprocess.run([SIGAP, "jobs", "run", "expire-registrations", "--now", "2026-11-02T00:10:00+07:00"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert "selesai: 0" in r.stdout
    bad = subprocess.run([SIGAP, "jobs", "run", "expire-registrations", "--now", "besok"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "ISO-8601" in bad.stderr
    unknown = subprocess.run([SIGAP, "jobs", "run", "sulap"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 1 and "expire-registrations" in unknown.stderr


def test_scheduler_runs_a_missed_expiry_at_start(settings, make_lks, call):
    from litestar.testing import TestClient

    from sigap.app import create_app

    lks = make_lks("LKSA Terlewat")
    yesterday = date.today() - timedelta(days=2)
    call(Lks.update({Lks.registration_status: "registered", Lks.certificate_number: "0010/TD-LKS/36.71/2023",
                     Lks.valid_until: yesterday}).where(Lks.id == lks["id"]).run)
    app = create_app(replace(settings, scheduler_enabled=True))
    import time

    with TestClient(app) as client:
        jobs = {job.id for job in app.state.jobs.scheduler.get_jobs()}
        assert "expire-registrations" in jobs
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline:
            status = client.blocking_portal.call(Lks.select(Lks.registration_status).where(Lks.id == lks["id"]).first().run)["registration_status"]
            if status == "expired":
                break
            time.sleep(0.1)
        assert status == "expired"
        trigger = str(app.state.jobs.scheduler.get_job("expire-registrations").trigger)
        assert "hour='0'" in trigger and "minute='5'" in trigger
