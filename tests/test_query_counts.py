"""Query counts of the main pages, asserted: each page runs a bounded number
of statements, and the same number whether it shows 2 rows or 20 (an N+1
query fails here)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sigap.audit import Actor
from sigap.tables import Role
from tests.conftest import login

ADMIN = Actor(user_id=None, username="uji", role=Role.admin)


def now():
    return datetime.now(timezone.utc)


def _world(call, make_lks, n: int, offset: int) -> list[dict]:
    """``n`` LKS with a task each and an open incident on the first."""
    from inspections.incidents import services as incidents
    from inspections.planning import jobs

    rows = [make_lks(f"LKSA Hitung {offset + i:03d}") for i in range(n)]
    call(incidents.record_incident, ADMIN, lks_id=rows[0]["id"], source="public_complaint", category="neglect", severity="high",
         occurred_on=now().date().isoformat(), description="Laporan warga untuk uji jumlah kueri.", now=now())
    call(jobs.plan, now=now())
    from inspections.planning.tables import Task
    from tests.inspections.visit_rows import add_visit

    tasks = call(Task.select(Task.id).where(Task.lks.is_in([r["id"] for r in rows])).run)
    for task in tasks:  # a submitted report for every task: the visits list shows them
        call(add_visit, task["id"], status="submitted")
    return rows


PAGES = [
    "/", "/lks", "/tasks", "/incidents", "/teams", "/alerts", "/findings", "/visits", "/api/v1/lks", "/api/v1/tasks", "/api/v1/findings",
    "/register?q=hitung", "/api/v1/public/lks?q=hitung",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_queries_do_not_grow_with_rows(client, call, make_user, make_lks, count_queries, path):
    from inspections.alerts.jobs import raise_alerts

    make_user("adm", "admin")
    login(client, "adm")
    _world(call, make_lks, 2, 0)
    call(raise_alerts, now=now())
    assert client.get(path).status_code == 200  # warm: first-use work is not the page's
    count_queries.reset()
    assert client.get(path).status_code == 200
    few = len(count_queries)
    _world(call, make_lks, 18, 100)
    call(raise_alerts, now=now())
    count_queries.reset()
    assert client.get(path).status_code == 200
    many = len(count_queries)
    assert many == few, f"{path}: {few} statements with 2 LKS, {many} with 20:\n" + "\n".join(count_queries.statements)
    assert few <= 15, f"{path}: {few} statements:\n" + "\n".join(count_queries.statements)


def test_lks_page_queries_are_bounded(client, call, make_user, make_lks, count_queries):
    make_user("adm", "admin")
    login(client, "adm")
    [lks, *_] = _world(call, make_lks, 3, 0)
    client.get(f"/lks/{lks['id']}")
    count_queries.reset()
    assert client.get(f"/lks/{lks['id']}").status_code == 200
    assert len(count_queries) <= 20, "\n".join(count_queries.statements)


def test_visit_report_and_field_view_queries_are_bounded(client, call, make_user, make_lks, count_queries):
    from inspections.visits.tables import Visit

    make_user("adm", "admin")
    login(client, "adm")
    [lks, *_] = _world(call, make_lks, 3, 0)
    visit = call(Visit.select(Visit.id).where(Visit.lks == lks["id"]).first().run)
    for path in (f"/visits/{visit['id']}", f"/lks/{lks['id']}/monitoring", f"/api/v1/visits/{visit['id']}"):
        client.get(path)
        count_queries.reset()
        assert client.get(path).status_code == 200, path
        assert len(count_queries) <= 20, f"{path}:\n" + "\n".join(count_queries.statements)
