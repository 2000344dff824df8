"""Bearer tokens for tablets and integrations: create, use, list, revoke."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sigap import accounts, tokens
from sigap.audit import Actor
from sigap.tables import ApiToken, AuditEvent, Role
from tests.conftest import csrf_token, form, login, password_for


def new_token(client, name="Tablet Pinang", **extra):
    r = client.post("/api/v1/auth/tokens", json={"name": name, **extra}, headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 201, r.text
    return r.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_token_works_without_cookies_and_without_csrf(client, make_user):
    make_user("budi", "inspector")
    login(client, "budi")
    body = new_token(client)
    assert body["token"].startswith("sgp_") and body["prefix"] == body["token"][:10]
    client.cookies.clear()
    me = client.get("/api/v1/auth/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.json()["user"]["username"] == "budi"
    # A bearer request is not a browser request: no CSRF token needed.
    r = client.post("/api/v1/auth/tokens", json={"name": "kedua"}, headers=bearer(body["token"]))
    assert r.status_code == 201
    # A token never opens a cookie session.
    assert "sigap_session" not in client.cookies


def test_token_is_stored_only_as_a_hash(client, make_user, call):
    make_user("budi", "inspector")
    login(client, "budi")
    raw = new_token(client)["token"]
    rows = call(ApiToken.select().run)
    assert len(rows) == 1 and raw not in str(rows)
    assert rows[0]["token_hash"] == tokens.hash_token(raw)


def test_owner_lists_and_revokes_own_token(client, make_user):
    make_user("budi", "inspector")
    login(client, "budi")
    token = new_token(client)
    listed = client.get("/api/v1/auth/tokens").json()["items"]
    assert [t["id"] for t in listed] == [token["id"]]
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    r = client.delete(f"/api/v1/auth/tokens/{token['id']}", headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    client.cookies.clear()
    r = client.get("/api/v1/auth/me", headers=bearer(token["token"]))
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_token", "message": "Token akses tidak sah, kedaluwarsa, atau sudah dicabut."}


def test_someone_elses_token_is_not_found_but_admin_can_revoke(client, make_user):
    make_user("budi", "inspector")
    make_user("sari", "inspector")
    make_user("adm", "admin")
    login(client, "budi")
    token = new_token(client)
    client.cookies.clear()
    login(client, "sari")
    assert client.get("/api/v1/auth/tokens").json()["items"] == []
    r = client.delete(f"/api/v1/auth/tokens/{token['id']}", headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 404
    client.cookies.clear()
    login(client, "adm")
    all_tokens = client.get("/api/v1/auth/tokens").json()["items"]
    assert [t["id"] for t in all_tokens] == [token["id"]]
    # The admin page revokes it too.
    r = form(client, f"/admin/tokens/{token['id']}/revoke", {"next": "/admin/users"})
    assert r.status_code == 303
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers=bearer(token["token"])).status_code == 401


def test_token_of_deactivated_user_stops_working(client, make_user, call):
    user = make_user("budi", "inspector")
    login(client, "budi")
    raw = new_token(client)["token"]
    call(accounts.set_active, Actor.system("test"), user["id"], False, now=datetime.now(timezone.utc))
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers=bearer(raw)).status_code == 401


def test_expired_token_is_refused(call, make_user):
    user = make_user("budi", "inspector")
    actor = Actor(user_id=user["id"], username="budi", role=Role.inspector)
    now = datetime.now(timezone.utc)
    raw, _row = call(tokens.create_token, actor, name="sementara", now=now, expires_in_days=1)
    assert call(tokens.user_for_token, raw, now=now + timedelta(hours=23))["id"] == user["id"]
    assert call(tokens.user_for_token, raw, now=now + timedelta(days=1, seconds=1)) is None


def test_malformed_bearer_headers_get_401(client):
    for header in ("Bearer", "Bearer nonsense", "Basic YWRtaW46YWRtaW4=", "Bearer sgp_" + "x" * 43):
        r = client.get("/api/v1/auth/me", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.json()["error"] == "invalid_token"


def test_token_form_on_account_page_shows_token_once(client, make_user):
    make_user("budi", "inspector")
    login(client, "budi")
    r = form(client, "/account/tokens", {"name": "Tablet Cipondoh", "expires_in_days": "90"})
    assert r.status_code == 201
    assert "Salin token ini sekarang" in r.text and "sgp_" in r.text
    page = client.get("/account")
    assert "Tablet Cipondoh" in page.text and "Salin token ini sekarang" not in page.text
    r = form(client, "/account/tokens", {"name": "", "expires_in_days": "abc"})
    assert r.status_code == 422 and "Beri token nama" in r.text


def test_token_create_and_revoke_are_audited(client, make_user, call):
    make_user("budi", "inspector")
    login(client, "budi")
    token = new_token(client)
    client.delete(f"/api/v1/auth/tokens/{token['id']}", headers={"X-CSRFToken": csrf_token(client)})
    actions = call(AuditEvent.select(AuditEvent.action, AuditEvent.after).where(AuditEvent.entity_type == "api_token").run)
    assert [a["action"] for a in actions] == ["token.create", "token.revoke"]
    assert token["token"] not in str(actions)


def test_api_login_with_token_password_is_not_a_thing(client, make_user):
    """Tokens are for the Authorization header only."""
    make_user("budi", "inspector")
    login(client, "budi")
    raw = new_token(client)["token"]
    client.cookies.clear()
    r = client.post("/api/v1/auth/login", json={"username": "budi", "password": raw})
    assert r.status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "budi", "password": password_for("budi")}).status_code == 200


def test_a_new_password_or_a_deactivation_ends_the_tokens(client, make_user, call):
    """Decided: a password change (own or reset by an admin) and a
    deactivation revoke every API token of the account; reactivating the
    account does not bring them back (its tablet makes a new token)."""
    admin = make_user("admin1", "admin")
    budi = make_user("budi", "inspector")
    login(client, "budi")
    first = new_token(client)["token"]
    form(client, "/account/password", {"current_password": password_for("budi"),
                                      "password": "Kunjungan-Baru-2026", "password_confirm": "Kunjungan-Baru-2026"})
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers=bearer(first)).status_code == 401

    second, _row = call(tokens.create_token, Actor(user_id=budi["id"], username="budi", role=Role.inspector), name="tablet", now=datetime.now(timezone.utc))
    admin_actor = Actor(user_id=admin["id"], username="admin1", role=Role.admin)
    call(accounts.set_active, admin_actor, budi["id"], False, now=datetime.now(timezone.utc))
    call(accounts.set_active, admin_actor, budi["id"], True, now=datetime.now(timezone.utc))
    assert client.get("/api/v1/auth/me", headers=bearer(second)).status_code == 401
    revoked = call(ApiToken.select(ApiToken.revoked_at, ApiToken.revoked_by).where(ApiToken.user == budi["id"]).run)
    assert len(revoked) == 2 and all(r["revoked_at"] for r in revoked)
    events = call(AuditEvent.select(AuditEvent.action).where(AuditEvent.action == "token.revoke_all").run)
    assert len(events) == 2


def test_an_lks_manager_cannot_create_a_token(client, make_user, call):
    """The account page offers managers no tokens; the API refuses them too."""
    make_user("pengurus", "manager")
    login(client, "pengurus")
    r = client.post("/api/v1/auth/tokens", json={"name": "HP saya"}, headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    page = client.get("/account")
    assert "/account/tokens" not in page.text
    r = form(client, "/account/tokens", {"name": "HP saya"})
    assert r.status_code == 403
    assert call(ApiToken.count().run) == 0
