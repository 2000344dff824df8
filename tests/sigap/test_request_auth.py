"""Who is signed in, on every request: the session (or the bearer token)
and its account in one statement, read fresh each time, so that a sign-out,
a password change, a role change or a deactivation made anywhere (another
worker, another instance, the CLI) holds for the very next request."""

from __future__ import annotations

from datetime import datetime, timezone

from sigap import accounts, tokens
from sigap.audit import Actor
from sigap.tables import Role
from tests.conftest import login

ADMIN = Actor(user_id=None, username="uji-admin", role=Role.admin)


def now() -> datetime:
    return datetime.now(timezone.utc)


def _auth_statements(statements: list[str]) -> list[str]:
    """The statements about sessions, tokens and accounts (the counter keeps
    each statement's start: the joined ones are known by their aliases)."""
    marks = ("sigap_session", "sigap_user", "sigap_api_token", '"session_epoch"', '"token_id"')
    return [s for s in statements if any(mark in s for mark in marks)]


def test_a_signed_in_page_reads_the_session_and_its_account_in_one_statement(client, make_user, count_queries):
    make_user("rina", "staff", full_name="Rina Wulandari")
    login(client, "rina")
    client.get("/")
    count_queries.reset()
    response = client.get("/")
    assert response.status_code == 200 and "Rina Wulandari" in response.text
    assert len(_auth_statements(count_queries.statements)) == 1, "\n".join(count_queries.statements)


def test_a_bearer_token_and_its_account_are_one_statement(client, call, make_user, count_queries):
    user = make_user("tablet", "inspector")
    actor = Actor(user_id=user["id"], username="tablet", role=Role.inspector)
    raw, _row = call(tokens.create_token, actor, name="Tablet Pinang", now=now())
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    count_queries.reset()
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert len(_auth_statements(count_queries.statements)) == 1, "\n".join(count_queries.statements)
    call(accounts.set_active, ADMIN, user["id"], False, now=now())
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401


def test_a_role_change_holds_for_the_next_request(client, call, make_user):
    """The account is changed behind the signed-in browser's back (as
    another worker would): the next request already sees the new role."""
    rina = make_user("rina", "staff")
    login(client, "rina")
    assert client.get("/lks").status_code == 200
    call(accounts.update_user, ADMIN, rina["id"], version=rina["version"], now=now(), role="inspector")
    response = client.get("/lks", follow_redirects=False)
    assert response.status_code == 403
    assert "Inspektur" in client.get("/").text


def test_deactivation_and_a_password_reset_end_the_session_at_once(client, call, make_user):
    rina = make_user("rina", "staff")
    login(client, "rina")
    assert client.get("/", follow_redirects=False).status_code == 200
    call(accounts.set_active, ADMIN, rina["id"], False, now=now())
    assert client.get("/", follow_redirects=False).status_code in (302, 303)
    call(accounts.set_active, ADMIN, rina["id"], True, now=now())
    # The old session stays ended (its epoch is gone); a new sign-in works.
    assert client.get("/", follow_redirects=False).status_code in (302, 303)
    login(client, "rina")
    assert client.get("/", follow_redirects=False).status_code == 200
    call(accounts.set_password, ADMIN, rina["id"], "Sandi-Baru-Sekali-2026", now=now())
    assert client.get("/", follow_redirects=False).status_code in (302, 303)


def test_a_language_change_shows_on_the_next_page(client, call, make_user):
    rina = make_user("rina", "staff")
    login(client, "rina")
    assert "Keluar" in client.get("/").text
    call(accounts.set_locale, ADMIN, rina["id"], "en", now=now())
    assert "Sign out" in client.get("/").text


def test_requests_arriving_together_extend_their_session_once(call, app, make_user, count_queries):
    """The idle extension falls due for every request of a session at the
    same moment: one write, not one per request queued for the write lock."""
    import asyncio
    from datetime import timedelta

    store = app.state.session_store
    user = make_user("rina", "staff")
    start = now()
    key = call(store.create, user["id"], user["auth_epoch"], now=start)
    count_queries.reset()

    async def together():
        await asyncio.gather(*(store.extend(key, now=start + timedelta(minutes=2)) for _ in range(8)))

    call(together)
    updates = [s for s in count_queries.statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1, count_queries.statements
    # ... and it was extended: alive past the first idle window.
    assert call(store.get, key, now=start + store.idle + timedelta(minutes=1)) is not None
