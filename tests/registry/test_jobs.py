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


