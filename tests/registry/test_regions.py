"""Region codes: Kota Tangerang ships; national files load with the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from registry import regions
from registry.tables import Region
from tests.conftest import ROOT

SIGAP = str(Path(sys.executable).parent / "sigap")


def test_kota_tangerang_ships_with_13_kecamatan_and_104_kelurahan(call):
    assert call(Region.count().where(Region.parent_code == "36.71").run) == 13
    assert call(Region.count().where(Region.code.like("36.71.%") & (Region.level == "village")).run) == 104
    kunciran = call(regions.village, "36.71.11.1005")
    assert kunciran["name"] == "Kunciran Indah" and kunciran["parent_code"] == "36.71.11"
    names = [d["name"] for d in call(regions.districts, "36.71")]
    assert "Pinang" in names and "Karang Tengah" in names


def test_regions_import_adds_and_updates(call, tmp_path):
    (tmp_path / "provinces.csv").write_text("code,name\n32,Jawa Barat\n36,Banten\n")
    (tmp_path / "regencies.csv").write_text("code,province_code,name\n32.73,32,Kota Bandung\n")
    (tmp_path / "districts.csv").write_text('code,regency_code,name\n32.73.01,32.73,Sukasari\n')
    (tmp_path / "villages.csv").write_text(
        'code,district_code,name\n32.73.01.1001,32.73.01,"Sarijadi, Kel."\n36.71.11.1005,36.71.11,Kunciran Indah Baru\n'
    )
    r = subprocess.run([SIGAP, "regions", "import", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "4 ditambahkan, 1 diperbarui" in r.stdout
    assert call(regions.village, "32.73.01.1001")["name"] == "Sarijadi, Kel."
    assert call(regions.village, "36.71.11.1005")["name"] == "Kunciran Indah Baru"
    # Running it again changes nothing.
    r = subprocess.run([SIGAP, "regions", "import", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert "0 ditambahkan, 0 diperbarui" in r.stdout
    call(Region.update({Region.name: "Kunciran Indah"}).where(Region.code == "36.71.11.1005").run)
    call(Region.delete().where(Region.code.like("32%")).run)


def test_regions_import_errors_are_clear(tmp_path):
    r = subprocess.run([SIGAP, "regions", "import", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert r.returncode == 1 and "villages.csv" in r.stderr
    (tmp_path / "villages.csv").write_text("kode,nama\n1,2\n")
    r = subprocess.run([SIGAP, "regions", "import", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert r.returncode == 1 and "expected columns" in r.stderr
