"""Sign-in and sign-out (pages and API), sessions, throttling, CSRF."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sigap import accounts
from sigap.errors import InvalidCredentials, Throttled
from sigap.tables import AuditEvent, LoginAttempt
from tests.conftest import csrf_token, form, login, password_for


def api_login(client, username, password=None):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password or password_for(username)})


# --- pages -------------------------------------------------------------------


def test_anonymous_home_redirects_to_sign_in(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_guarded_page_sends_anonymous_to_sign_in_and_back(client, make_user):
    make_user("adm", "admin")
    r = client.get("/admin/users?role=staff", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fadmin%2Fusers%3Frole%3Dstaff"
    r = client.post(
        "/login",
        data={"username": "adm", "password": password_for("adm"), "next": "/admin/users?role=staff", "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/users?role=staff"


def test_sign_in_never_redirects_off_site(client, make_user):
    make_user("rina", "staff")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = client.post(
            "/login",
            data={"username": "rina", "password": password_for("rina"), "next": target, "_csrf_token": csrf_token(client)},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_wrong_password_shows_message_and_sets_no_session(client, make_user):
    make_user("rina", "staff")
    r = form(client, "/login", {"username": "rina", "password": "salah-sekali-123"})
    assert r.status_code == 401
    assert "Nama pengguna atau kata sandi salah" in r.text
    assert 'value="rina"' in r.text  # the username stays filled in
    assert "sigap_session" not in client.cookies


def test_inactive_account_cannot_sign_in(client, make_user, call):
    user = make_user("rina", "staff")
    call(accounts.set_active, _system(), user["id"], False, now=_now())
    r = form(client, "/login", {"username": "rina", "password": password_for("rina")})
    assert r.status_code == 401


def test_sign_out_ends_the_session(client, make_user):
    make_user("rina", "staff")
    login(client, "rina")
    old_key = client.cookies.get("sigap_session")
    assert client.get("/account").status_code == 200
    r = form(client, "/logout")
    assert r.status_code == 303
    # Even a copy of the old cookie no longer works.
    client.cookies.set("sigap_session", old_key)
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_every_sign_in_gets_a_new_session_key(client, make_user):
    make_user("rina", "staff")
    login(client, "rina")
    first = client.cookies.get("sigap_session")
    # Signing in again while signed in replaces (and ends) the old session.
    assert form(client, "/login", {"username": "rina", "password": password_for("rina")}).status_code == 303
    second = client.cookies.get("sigap_session")
    assert first != second
    client.cookies.set("sigap_session", first)
    assert client.get("/api/v1/auth/me").status_code == 401


# --- API -----------------------------------------------------------------------


def test_api_login_me_logout(client, make_user):
    make_user("budi", "inspector", full_name="Budi Santoso")
    r = api_login(client, "budi")
    assert r.status_code == 200
    body = r.json()["user"]
    assert body["username"] == "budi" and body["role"] == "inspector"
    assert "password_hash" not in body and "auth_epoch" not in body
    assert "sigap_session" in client.cookies
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["user"]["full_name"] == "Budi Santoso"
    # Logout with the session cookie needs the CSRF header.
    assert client.post("/api/v1/auth/logout").status_code == 403
    r = client.post("/api/v1/auth/logout", headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_api_login_errors_are_json_and_translated(client, make_user):
    make_user("budi", "inspector")
    r = api_login(client, "budi", "bukan-kata-sandinya")
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_credentials", "message": "Nama pengguna atau kata sandi salah, atau akun tidak aktif."}
    r = client.post("/api/v1/auth/login", json={"username": "budi"})
    assert r.status_code == 422 and r.json()["error"] == "invalid" and r.json()["fields"] == {"password": "Wajib diisi."}
    r = client.post("/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid"


def test_api_login_from_a_form_post_is_refused(client, make_user):
    """A cross-site form can post url-encoded data but not JSON: without a
    CSRF token the login endpoint only accepts JSON."""
    make_user("budi", "inspector")
    r = client.post("/api/v1/auth/login", data={"username": "budi", "password": password_for("budi")})
    assert r.status_code == 403 and r.json()["error"] == "csrf"


def test_password_change_ends_other_sessions(client, make_user):
    make_user("rina", "staff")
    login(client, "rina")
    tablet_key = client.cookies.get("sigap_session")
    client.cookies.clear()
    login(client, "rina")  # a second device
    assert client.cookies.get("sigap_session") != tablet_key
    r = form(
        client,
        "/account/password",
        {"current_password": password_for("rina"), "password": "Baru-Sekali-2026", "password_confirm": "Baru-Sekali-2026"},
    )
    assert r.status_code == 303
    # This browser got a fresh session; the other device is signed out.
    assert client.get("/api/v1/auth/me").status_code == 200
    client.cookies.set("sigap_session", tablet_key)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_password_change_checks_current_password_and_policy(client, make_user):
    make_user("rina", "staff")
    login(client, "rina")
    r = form(client, "/account/password", {"current_password": "keliru-keliru", "password": "Baru-Sekali-2026", "password_confirm": "Baru-Sekali-2026"})
    assert r.status_code == 422 and "Kata sandi saat ini tidak benar." in r.text
    r = form(client, "/account/password", {"current_password": password_for("rina"), "password": "pendek", "password_confirm": "pendek"})
    assert r.status_code == 422 and "minimal 10 karakter" in r.text
    r = form(client, "/account/password", {"current_password": password_for("rina"), "password": "Baru-Sekali-2026", "password_confirm": "Lain-Sekali-2026"})
    assert r.status_code == 422 and "tidak sama" in r.text
    # Nothing changed: the old password still works.
    login(client, "rina")


# --- session expiry ------------------------------------------------------------


def test_idle_session_expires(call, make_user, app):
    store = app.state.session_store
    user = make_user("rina", "staff")
    now = _now()
    key = call(store.create, user["id"], user["auth_epoch"], now=now)
    assert call(store.get, key, now=now + timedelta(minutes=5)) is not None
    assert call(store.get, key, now=now + store.idle + timedelta(seconds=1)) is None
    # Use extends the idle window.
    call(store.extend, key, now=now + timedelta(hours=7))
    assert call(store.get, key, now=now + timedelta(hours=14)) is not None


# --- throttling ------------------------------------------------------------------


def test_repeated_failures_for_a_username_get_429_with_retry_time(client, make_user, settings):
    make_user("rina", "staff")
    for _ in range(settings.login_max_failures_user):
        assert api_login(client, "rina", "salah-salah-salah").status_code == 401
    r = api_login(client, "rina")  # even the right password is refused now
    assert r.status_code == 429
    body = r.json()
    assert body["error"] == "throttled"
    assert "Coba lagi setelah" in body["message"] and "WIB" in body["message"]
    assert 0 < int(r.headers["retry-after"]) <= settings.login_window_minutes * 60 + 1
    # The HTML form says the same, with the status.
    r = form(client, "/login", {"username": "rina", "password": password_for("rina")})
    assert r.status_code == 429 and "Terlalu banyak percobaan masuk" in r.text


def test_throttle_per_address_covers_many_usernames(client, settings):
    for i in range(settings.login_max_failures_address):
        assert api_login(client, f"tebak{i}", "salah-salah-salah").status_code == 401
    assert api_login(client, "siapa-saja", "salah-salah-salah").status_code == 429


def test_throttle_lifts_after_the_window_and_success_resets(call, make_user, settings):
    make_user("rina", "staff")
    t0 = _now()
    for i in range(settings.login_max_failures_user):
        with pytest.raises(InvalidCredentials):
            call(accounts.authenticate, "rina", "salah-salah", address="10.0.0.1", now=t0 + timedelta(seconds=i), settings=settings)
    with pytest.raises(Throttled) as blocked:
        call(accounts.authenticate, "rina", password_for("rina"), address="10.0.0.2", now=t0 + timedelta(minutes=1), settings=settings)
    assert blocked.value.retry_at == t0 + timedelta(minutes=settings.login_window_minutes)
    later = t0 + timedelta(minutes=settings.login_window_minutes, seconds=1)
    assert call(accounts.authenticate, "rina", password_for("rina"), address="10.0.0.2", now=later, settings=settings)["username"] == "rina"
    # After a success the count starts again: one more failure does not block.
    with pytest.raises(InvalidCredentials):
        call(accounts.authenticate, "rina", "salah-lagi", address="10.0.0.2", now=later + timedelta(seconds=1), settings=settings)
    call(accounts.authenticate, "rina", password_for("rina"), address="10.0.0.2", now=later + timedelta(seconds=2), settings=settings)


def test_throttled_attempts_are_audited_but_do_not_extend_the_block(call, make_user, settings, client):
    make_user("rina", "staff")
    for _ in range(settings.login_max_failures_user + 3):
        api_login(client, "rina", "salah-salah-salah")
    attempts = call(LoginAttempt.count().where(LoginAttempt.username == "rina").run)
    assert attempts == settings.login_max_failures_user
    throttled = call(AuditEvent.count().where(AuditEvent.action == "auth.login_throttled").run)
    assert throttled == 3


# --- CSRF -----------------------------------------------------------------------


def test_forms_without_or_with_a_wrong_csrf_token_are_rejected(client, make_user, call):
    make_user("adm", "admin")
    login(client, "adm")
    data = {"username": "baru", "role": "staff", "password": "Rahasia-Kuat-2026"}
    r = client.post("/admin/users", data=data, follow_redirects=False)
    assert r.status_code == 403 and "Formulir sudah kedaluwarsa" in r.text
    r = client.post("/admin/users", data={**data, "_csrf_token": "x" * 43}, follow_redirects=False)
    assert r.status_code == 403
    assert call(accounts.list_users, query="baru") == []
    r = form(client, "/admin/users", data)
    assert r.status_code == 303
    assert len(call(accounts.list_users, query="baru")) == 1


def test_sign_in_form_needs_csrf_token(client, make_user):
    make_user("rina", "staff")
    client.get("/login")
    r = client.post("/login", data={"username": "rina", "password": password_for("rina")}, follow_redirects=False)
    assert r.status_code == 403
    assert "sigap_session" not in client.cookies


def test_api_with_session_cookie_needs_csrf_header(client, make_user):
    make_user("rina", "staff")
    api_login(client, "rina")
    r = client.post("/api/v1/auth/tokens", json={"name": "tablet"})
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    r = client.post("/api/v1/auth/tokens", json={"name": "tablet"}, headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 201


def test_csrf_cookie_is_httponly_and_samesite(client):
    r = client.get("/login")
    cookie = r.headers["set-cookie"].lower()
    assert "sigap_csrf=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


# --- helpers ---------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _system():
    from sigap.audit import Actor

    return Actor.system("test")
