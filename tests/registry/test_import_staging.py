"""The file of an import is kept in the document storage between its dry run
and its commit: any app instance sharing the storage and the database can
commit it, once."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone

import pytest

from registry.tables import Lks
from registry.transfer import planning, staging
from registry.transfer import services as transfer
from registry.transfer.tables import StagedImport
from sigap.audit import Actor
from sigap.tables import Role
from tests.conftest import app_client, create_user, form, login
from tests.registry.test_import_export import PDF, ROWS, csv_bytes, existing_home, page_counts, upload
from tests.s3 import s3_server  # noqa: F401 - registers the fixture

STAFF = Actor(user_id=None, username="test", role=Role.staff)
COUNTS = {"create": 2, "update": 1, "unchanged": 0, "skip": 0, "reject": 3, "duplicate": 1}


def now() -> datetime:
    return datetime.now(timezone.utc)


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)


def test_a_dry_run_on_one_instance_is_committed_on_another(s3_server, monkeypatch, tmp_path):
    """Two app instances share the S3 bucket and the database, nothing else
    (each its own SIGAP_VAR_DIR): a dry run on one is committed on the other,
    once. (One process has one database pool: the instances serve in turn.)"""
    import sigap.settings
    from sigap.app import create_app
    from sigap.settings import Settings

    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    previous = sigap.settings._current
    try:
        monkeypatch.setenv("SIGAP_VAR_DIR", str(tmp_path / "one"))
        first = create_app(Settings.from_env())
        monkeypatch.setenv("SIGAP_VAR_DIR", str(tmp_path / "two"))
        second = create_app(Settings.from_env())
    finally:
        sigap.settings._current = previous  # create_app replaced the process settings
    with app_client(first) as (one, call):
        existing_home(call)
        create_user(call, "rina", "staff")
        login(one, "rina")
        checked = upload(one, csv_bytes())
        assert checked.status_code == 200, checked.text
        token = token_of(checked.text)
        key = staging.storage_key(token)
        assert call(first.state.storage.exists, key)
    with app_client(second) as (two, call):
        login(two, "rina")
        done = form(two, "/lks/import/commit", {"token": token})
        assert done.status_code == 200, done.text
        assert page_counts(done.text) == COUNTS
        again = form(two, "/lks/import/commit", {"token": token})
        assert again.status_code == 409 and "data-outcome" not in again.text
        assert not call(second.state.storage.exists, key)
        assert call(Lks.count().run) == 3
        # The row stays (applied) until the purge: a second commit is told so.
        assert call(StagedImport.count().where(StagedImport.applied_at.is_not_null()).run) == 1


def test_two_commits_of_one_token_apply_it_once(call, app):
    existing_home(call)
    storage = app.state.storage
    report, token = call(transfer.check_upload, STAFF, csv_bytes(), storage=storage, now=now())
    assert report.counts == COUNTS and token

    async def both():
        commits = (transfer.commit_staged(STAFF, token, storage=storage, now=now()) for _ in range(2))
        return await asyncio.gather(*commits, return_exceptions=True)

    results = call(both)
    assert sorted(type(r).__name__ for r in results) == ["ImportApplied", "ImportReport"]
    assert call(Lks.count().run) == 3
    assert call(StagedImport.count().where(StagedImport.applied_at.is_null()).run) == 0
    assert not call(storage.exists, staging.storage_key(token))


def test_a_failed_commit_gives_the_file_back(call, app, monkeypatch):
    storage = app.state.storage
    _report, token = call(transfer.check_upload, STAFF, csv_bytes(ROWS[:1]), storage=storage, now=now())

    async def database_gone(*args, **kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(planning, "plan", database_gone)
    with pytest.raises(ConnectionError):
        call(transfer.commit_staged, STAFF, token, storage=storage, now=now())
    monkeypatch.undo()
    report = call(transfer.commit_staged, STAFF, token, storage=storage, now=now())
    assert report.committed and report.counts["create"] == 1
    with pytest.raises(transfer.ImportApplied):
        call(transfer.commit_staged, STAFF, token, storage=storage, now=now())


def test_nothing_is_kept_for_a_refused_file_or_a_file_with_nothing_to_apply(client, call, make_user, app):
    make_user("rina", "staff")
    login(client, "rina")
    folder = app.state.storage.root / "staging" / "import"
    kept = set(folder.glob("*")) if folder.exists() else set()
    assert upload(client, PDF).status_code == 422
    assert upload(client, csv_bytes([ROWS[1]])).status_code == 200  # every row rejected
    assert call(StagedImport.count().run) == 0
    assert (set(folder.glob("*")) if folder.exists() else set()) == kept
