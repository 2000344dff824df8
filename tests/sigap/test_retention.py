"""The daily retention job deletes what has served its purpose, keeps what
is still needed, and deletes nothing more when it runs twice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from inspections.alerts.tables import Notification
from registry.transfer import staging
from registry.transfer.tables import StagedImport
from sigap.sessions import DatabaseSessionStore
from sigap.tables import LoginAttempt, WebSession

NOW = datetime(2027, 6, 1, 20, 15, tzinfo=timezone.utc)  # 03:15 WIB


def test_retention_deletes_only_what_is_past_its_time(app, call, make_user):
    user = make_user("rina", "staff")
    store = DatabaseSessionStore(timedelta(hours=8))
    live = call(store.create, user["id"], 0, now=NOW - timedelta(hours=1))
    call(store.create, user["id"], 0, now=NOW - timedelta(days=2))  # long expired (made last: sign-in sweeps older ones)
    for days in (200, 91, 89, 1):
        call(LoginAttempt.insert(LoginAttempt(username="rina", address="10.0.0.1", at=NOW - timedelta(days=days))).run)
    storage = app.state.storage
    new_token = call(staging.stage, storage, b"nama\nLKSA Baru\n", now=NOW - timedelta(hours=2))
    old_token = call(staging.stage, storage, b"nama\nLKSA Lama\n", now=NOW - timedelta(days=2))  # (staging sweeps older ones)
    rows = [  # (created, sent, attempts)
        (NOW - timedelta(days=40), NOW - timedelta(days=40), 1),  # sent long ago: gone
        (NOW - timedelta(days=40), None, 5),  # given up long ago: gone
        (NOW - timedelta(days=40), None, 2),  # still to be tried: kept
        (NOW - timedelta(days=3), NOW - timedelta(days=3), 1),  # sent recently: kept
    ]
    for i, (created, sent, attempts) in enumerate(rows):
        call(Notification.insert(Notification(user=user["id"], kind="digest", unique_key=f"digest:{i}", subject="s", body="b",
                                              created_at=created, sent_at=sent, attempts=attempts)).run)

    retention = app.state.wiring.jobs["retention"].fn
    result = call(retention, now=NOW)
    assert result == "login_attempts: 2, outbox: 2, sessions: 1, staged_imports: 1"
    assert call(WebSession.count().run) == 1 and call(store.get, live, now=NOW) is not None
    assert call(LoginAttempt.count().run) == 2
    assert [r["token"] for r in call(StagedImport.select(StagedImport.token).run)] == [new_token]
    assert not call(storage.exists, staging.storage_key(old_token)) and call(storage.exists, staging.storage_key(new_token))
    assert sorted(r["unique_key"] for r in call(Notification.select(Notification.unique_key).run)) == ["digest:2", "digest:3"]
    assert call(retention, now=NOW) == "login_attempts: 0, outbox: 0, sessions: 0, staged_imports: 0"
