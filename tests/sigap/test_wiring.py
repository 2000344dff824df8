"""The shell's wiring: each domain plugs in through its plugin, per app and
never through globals; every SIGAP_* variable is checked at start-up; pages
are compressed and static files cached by content hash."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from sigap.settings import Settings, SettingsError
from sigap.static import StaticFiles
from tests.conftest import LKS_DEFAULTS, app_client, create_user, login


def test_an_app_has_only_the_domains_it_was_given(settings):
    """Two apps in one process: the one without joint monitoring has no
    task pages, no "Tugas" menu and no risk panel on the LKS page, while the
    full app has all three. Nothing leaks between them through globals."""
    from registry.plugin import RegistryPlugin
    from sigap.app import create_app
    from sigap.plugin import ShellPlugin

    full = create_app(settings)
    registry_only = create_app(settings, plugins=[ShellPlugin(), RegistryPlugin()])
    with app_client(registry_only) as (client, call):
        create_user(call, "rina", "staff")
        login(client, "rina")
        lks = client.post("/api/v1/lks", json={**LKS_DEFAULTS, "name": "LKSA Tanpa Pemantauan"}, headers=_csrf(client))
        assert lks.status_code == 201, lks.text
        home = client.get("/")
        assert 'href="/lks"' in home.text and 'href="/tasks"' not in home.text
        assert client.get("/tasks").status_code == 404
        detail = client.get(f"/lks/{lks.json()['id']}")
        assert detail.status_code == 200 and 'id="monitoring-title"' not in detail.text
        assert "expire-registrations" in registry_only.state.wiring.jobs
        assert not {"plan", "alerts", "notify"} & set(registry_only.state.wiring.jobs)
    with app_client(full) as (client, _call):
        login(client, "rina")
        assert 'href="/tasks"' in client.get("/").text
        assert client.get("/tasks").status_code == 200
        assert 'id="monitoring-title"' in client.get(f"/lks/{lks.json()['id']}").text
        assert {"expire-registrations", "plan", "alerts", "notify"} <= set(full.state.wiring.jobs)


def _csrf(client) -> dict:
    return {"X-CSRFToken": client.cookies.get("sigap_csrf", "")}


def test_bad_settings_are_all_named_at_once():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({
            "SIGAP_SECRET_KEY": "x", "SIGAP_VISIT_MONTHS_HIGH": "abc", "SIGAP_PORT": "99999",
            "SIGAP_SCHEDULER": "kadang", "SIGAP_STORAGE_URL": "ftp://host/docs", "SIGAP_LOG_LEVEL": "LOUD",
        })
    message = str(caught.value)
    for expected in ("SIGAP_VISIT_MONTHS_HIGH='abc'", "SIGAP_PORT='99999'", "SIGAP_SCHEDULER='kadang'",
                     "SIGAP_STORAGE_URL='ftp://host/docs'", "SIGAP_LOG_LEVEL='LOUD'"):
        assert expected in message
    good = Settings.from_env({"SIGAP_SECRET_KEY": "x", "SIGAP_VISIT_MONTHS_HIGH": " 2 ", "SIGAP_SCHEDULER": "off"})
    assert good.visit_interval_months == {"high": 2, "medium": 6, "low": 12} and good.scheduler_enabled is False


def test_a_bad_variable_stops_start_up_with_a_clear_message(tmp_path):
    """`sigap serve` (and every other command) refuses to start instead of
    crashing the nightly plan job hours later."""
    import os

    env = {**os.environ, "SIGAP_VISIT_MONTHS_HIGH": "abc", "SIGAP_PORT": "0"}
    done = subprocess.run([sys.executable, "-m", "sigap.cli", "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "SIGAP_VISIT_MONTHS_HIGH='abc'" in done.stderr and "SIGAP_PORT='0'" in done.stderr
    assert "Traceback" not in done.stderr


def test_pages_are_compressed(client, make_user, make_lks):
    make_user("rina", "staff")
    for i in range(30):
        make_lks(name=f"LKSA Kompresi {i:02d}")
    login(client, "rina")
    plain = client.get("/lks", headers={"Accept-Encoding": "identity"})
    packed = client.get("/lks", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers and packed.headers["content-encoding"] == "gzip"
    assert packed.text == plain.text  # the client decodes it
    # What went over the wire: a quarter or less.
    assert packed.num_bytes_downloaded * 4 < plain.num_bytes_downloaded
    print(f"LKS list page: {plain.num_bytes_downloaded} bytes plain, {packed.num_bytes_downloaded} gzipped")


def test_static_files_carry_their_hash_and_are_cached_for_a_year(client, tmp_path):
    page = client.get("/login").text
    href = re.search(r'href="(/static/sigap\.css\?v=[0-9a-f]{12})"', page)
    assert href, "the stylesheet link carries the file's hash"
    r = client.get(href.group(1))
    assert r.status_code == 200 and "max-age=31536000" in r.headers["cache-control"]
    assert "immutable" in r.headers["cache-control"]

    (tmp_path / "a.css").write_text("body{color:red}")
    first = StaticFiles(tmp_path).url("a.css")
    (tmp_path / "a.css").write_text("body{color:blue}")
    assert StaticFiles(tmp_path).url("a.css") != first  # a new version is a new URL
    with pytest.raises(FileNotFoundError):
        StaticFiles(tmp_path).url("../etc/passwd")
