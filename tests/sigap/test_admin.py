"""The admin pages and API for users, and the audit rows they leave."""

from __future__ import annotations

import json

from sigap.tables import AuditEvent, User
from tests.conftest import csrf_token, form, login, password_for


def audit_rows(call, **where):
    query = AuditEvent.select().order_by(AuditEvent.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    rows = call(query.run)
    for row in rows:
        for key in ("before", "after"):
            if isinstance(row[key], str):
                row[key] = json.loads(row[key])
    return rows


def test_admin_creates_user_through_the_form(client, make_user, call):
    admin = make_user("adm", "admin")
    login(client, "adm")
    r = form(
        client,
        "/admin/users",
        {"username": "Siti.Inspektur", "full_name": "Siti Aminah", "email": "siti@example.org", "role": "inspector", "password": "Lapangan-Aman-77"},
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "Pengguna telah dibuat." in page.text and "siti.inspektur" in page.text
    user = call(User.select().where(User.username == "siti.inspektur").first().run)
    assert user["role"] == "inspector" and user["password_hash"].startswith("$argon2")
    created = audit_rows(call, action="user.create")[-1]
    assert created["actor_id"] == admin["id"] and created["entity_id"] == str(user["id"])
    assert created["after"]["role"] == "inspector" and "password_hash" not in created["after"]
    # The new account can sign in.
    client.cookies.clear()
    login(client, "siti.inspektur", "Lapangan-Aman-77")


def test_bad_user_forms_change_nothing_and_explain(client, make_user, call):
    make_user("adm", "admin")
    make_user("rina", "staff")
    login(client, "adm")
    before = call(User.count().run)
    cases = [
        ({"username": "rina", "role": "staff", "password": "Sangat-Kuat-2026"}, 409, "sudah dipakai"),
        ({"username": "x", "role": "staff", "password": "Sangat-Kuat-2026"}, 422, "3 sampai 64 karakter"),
        ({"username": "baru", "role": "raja", "password": "Sangat-Kuat-2026"}, 422, "Peran raja tidak dikenal"),
        ({"username": "baru", "role": "staff", "password": "pendek"}, 422, "minimal 10 karakter"),
        ({"username": "baru", "role": "staff", "password": "1234567890"}, 422, "terlalu mudah ditebak"),
        ({"username": "baru", "role": "staff", "password": "baru-baru-2026"}, 422, "tidak boleh memuat nama pengguna"),
        ({"username": "baru", "role": "manager", "password": "Sangat-Kuat-2026"}, 422, "harus terhubung ke satu LKS"),
        ({"username": "baru", "role": "staff", "lks_id": "5", "password": "Sangat-Kuat-2026"}, 422, "Hanya akun pengurus LKS"),
        ({"username": "baru", "role": "staff", "lks_id": "lima", "password": "Sangat-Kuat-2026"}, 422, "Isi dengan angka"),
        ({"username": "baru", "role": "staff", "email": "bukan-surel", "password": "Sangat-Kuat-2026"}, 422, "alamat surel"),
    ]
    for data, status, text in cases:
        r = form(client, "/admin/users", data)
        assert r.status_code == status, (data, r.status_code)
        assert text in r.text, (data, text)
        assert 'aria-invalid="true"' in r.text
        assert "Sangat-Kuat-2026" not in r.text  # a password is never echoed back
    assert call(User.count().run) == before


def test_role_change_with_version_and_stale_edit(client, make_user, call):
    make_user("adm", "admin")
    rina = make_user("rina", "staff")
    login(client, "adm")
    r = form(client, f"/admin/users/{rina['id']}", {"full_name": "Rina", "role": "inspector", "version": str(rina["version"])})
    assert r.status_code == 303
    row = call(User.select().where(User.id == rina["id"]).first().run)
    assert row["role"] == "inspector" and row["version"] == rina["version"] + 1
    change = audit_rows(call, action="user.role_change")[-1]
    assert change["before"]["role"] == "staff" and change["after"]["role"] == "inspector"
    # A second form opened before the change carries the old version: refused.
    r = form(client, f"/admin/users/{rina['id']}", {"full_name": "Rina", "role": "partner", "version": str(rina["version"])})
    assert r.status_code == 409 and "baru saja diubah oleh orang lain" in r.text
    assert call(User.select(User.role).where(User.id == rina["id"]).first().run)["role"] == "inspector"


def test_api_patch_stale_version_gets_409(client, make_user, call):
    make_user("adm", "admin")
    rina = make_user("rina", "staff")
    login(client, "adm")
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.patch(f"/api/v1/users/{rina['id']}", json={"version": rina["version"], "full_name": "Rina Wati"}, headers=h)
    assert r.status_code == 200 and r.json()["version"] == rina["version"] + 1
    r = client.patch(f"/api/v1/users/{rina['id']}", json={"version": rina["version"], "full_name": "Lain"}, headers=h)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert client.get(f"/api/v1/users/{rina['id']}").json()["full_name"] == "Rina Wati"
    r = client.patch(f"/api/v1/users/{rina['id']}", json={"full_name": "Tanpa versi"}, headers=h)
    assert r.status_code == 422 and r.json()["fields"] == {"version": "Wajib diisi."}


def test_api_patch_is_all_or_nothing(client, make_user, call):
    """A valid name, a deactivation and a weak password in one PATCH: the
    password is refused and nothing else changed either."""
    make_user("adm", "admin")
    rina = make_user("rina", "staff")
    login(client, "adm")
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.patch(f"/api/v1/users/{rina['id']}", headers=h, json={
        "version": rina["version"], "full_name": "Nama Baru", "is_active": False, "password": "pendek"})
    assert r.status_code == 422 and "password" in r.json()["fields"]
    row = call(User.select(User.full_name, User.is_active, User.version).where(User.id == rina["id"]).first().run)
    assert (row["full_name"], row["is_active"], row["version"]) == (rina["full_name"], True, rina["version"])
    r = client.patch(f"/api/v1/users/{rina['id']}", headers=h, json={
        "version": rina["version"], "full_name": "Nama Baru", "is_active": False, "password": "Sandi-Yang-Kuat-2026"})
    assert r.status_code == 200 and r.json()["full_name"] == "Nama Baru" and r.json()["is_active"] is False


def test_deactivation_ends_sessions_and_is_audited(client, make_user, call):
    make_user("adm", "admin")
    rina = make_user("rina", "staff")
    login(client, "rina")
    rina_session = client.cookies.get("sigap_session")
    client.cookies.clear()
    login(client, "adm")
    assert form(client, f"/admin/users/{rina['id']}/deactivate").status_code == 303
    assert "Nonaktif" in client.get(f"/admin/users/{rina['id']}").text
    admin_session = client.cookies.get("sigap_session")
    client.cookies.set("sigap_session", rina_session)
    assert client.get("/api/v1/auth/me").status_code == 401
    assert audit_rows(call, action="user.deactivate")[-1]["after"]["is_active"] is False
    # Reactivated, the account signs in again (the old session stays ended).
    client.cookies.set("sigap_session", admin_session)
    assert form(client, f"/admin/users/{rina['id']}/activate").status_code == 303
    client.cookies.set("sigap_session", rina_session)
    assert client.get("/api/v1/auth/me").status_code == 401
    client.cookies.clear()
    login(client, "rina")


def test_admin_cannot_lock_themselves_out(client, make_user, call):
    admin = make_user("adm", "admin")
    login(client, "adm")
    r = form(client, f"/admin/users/{admin['id']}/deactivate")
    assert r.status_code == 403 and "tidak dapat menonaktifkan akun Anda sendiri" in r.text
    r = form(client, f"/admin/users/{admin['id']}", {"role": "staff", "version": str(admin["version"])})
    assert r.status_code == 403 and "tidak dapat mengubah peran Anda sendiri" in r.text
    row = call(User.select().where(User.id == admin["id"]).first().run)
    assert row["is_active"] and row["role"] == "admin"


def test_password_reset_by_admin(client, make_user, call):
    make_user("adm", "admin")
    rina = make_user("rina", "staff")
    login(client, "adm")
    r = form(client, f"/admin/users/{rina['id']}/password", {"password": "Sandi-Baru-Rina1", "password_confirm": "Sandi-Baru-Rina2"})
    assert r.status_code == 422
    r = form(client, f"/admin/users/{rina['id']}/password", {"password": "Sandi-Baru-Kuat1", "password_confirm": "Sandi-Baru-Kuat1"})
    assert r.status_code == 303
    assert audit_rows(call, action="user.password_reset")[-1]["entity_id"] == str(rina["id"])
    client.cookies.clear()
    assert form(client, "/login", {"username": "rina", "password": password_for("rina")}).status_code == 401
    login(client, "rina", "Sandi-Baru-Kuat1")


def test_missing_user_is_404(client, make_user):
    make_user("adm", "admin")
    login(client, "adm")
    assert client.get("/admin/users/99999").status_code == 404
    assert client.get("/api/v1/users/99999").json()["error"] == "not_found"
    assert form(client, "/admin/users/99999/deactivate").status_code == 404


def test_sign_in_and_failed_sign_in_are_audited(client, make_user, call):
    rina = make_user("rina", "staff")
    form(client, "/login", {"username": "rina", "password": "keliru-keliru"})
    form(client, "/login", {"username": "tidak-ada", "password": "keliru-keliru"})
    login(client, "rina")
    rows = audit_rows(call, entity_type="user")
    failed = [r for r in rows if r["action"] == "auth.login_failed"]
    assert [(r["actor_username"], r["entity_id"]) for r in failed] == [("rina", str(rina["id"])), ("tidak-ada", "tidak-ada")]
    ok = [r for r in rows if r["action"] == "auth.login"]
    assert ok[-1]["actor_id"] == rina["id"] and ok[-1]["address"]
    assert all("keliru" not in json.dumps(r, default=str) for r in rows)


def test_audit_page_filters(client, make_user, call):
    make_user("adm", "admin")
    make_user("rina", "staff")
    form(client, "/login", {"username": "rina", "password": "keliru-keliru"})
    login(client, "adm")
    page = client.get("/admin/audit?action=auth.login_failed")
    assert page.status_code == 200
    events = page.text.split("<tbody>")[1]
    assert "<td>Gagal masuk</td>" in events and "Membuat akun pengguna" not in events
    page = client.get("/admin/audit?actor=adm")
    events = page.text.split("<tbody>")[1]
    assert "<td>Masuk</td>" in events and "Gagal masuk" not in events
    page = client.get("/admin/audit?since=2026-13-40")
    assert page.status_code == 200 and "TTTT-BB-HH" in page.text
    api = client.get("/api/v1/audit?action=user.create&limit=1").json()
    assert len(api["items"]) == 1 and api["next_before"] is not None
    older = client.get(f"/api/v1/audit?action=user.create&limit=1&before={api['next_before']}").json()
    assert older["items"][0]["id"] < api["items"][0]["id"]
