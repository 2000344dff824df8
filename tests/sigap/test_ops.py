"""Health probes, error formats, request ids, logs, OpenAPI."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.conftest import BACKEND, TMP, csrf_token, form, login, password_for, pg_admin, pg_url


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}, "scheduler": "off"}


def test_readyz_is_503_when_the_database_cannot_be_reached(start_server):
    if BACKEND == "sqlite":
        url = f"sqlite:///{TMP / 'no-such-dir' / 'x' / 'db.sqlite3'}"
        # The folder must not exist, so that SQLite cannot create the file.
        bad_dir = TMP / "no-such-dir"
        bad_dir.write_text("a file where a folder should be")
    else:
        url = "postgresql://postgres@127.0.0.1:1/nothing"
    server = start_server({"SIGAP_DATABASE_URL": url})
    assert httpx.get(server.url + "/healthz").status_code == 200
    r = httpx.get(server.url + "/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"] == "error" and r.json()["checks"]["storage"] == "ok"


@pytest.mark.postgres_only
def test_readyz_turns_503_when_the_database_goes_away(start_server):
    dbname = f"sigap_gone_{uuid.uuid4().hex[:8]}"
    pg_admin(f'CREATE DATABASE "{dbname}"')
    try:
        server = start_server({"SIGAP_DATABASE_URL": pg_url(dbname)})
        assert httpx.get(server.url + "/readyz").status_code == 200
        pg_admin(f'DROP DATABASE "{dbname}" WITH (FORCE)')
        r = httpx.get(server.url + "/readyz", timeout=15)
        assert r.status_code == 503 and r.json()["checks"]["database"] == "error"
        # The process stays up and says so.
        assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_readyz_is_503_when_storage_is_unusable(start_server):
    blocked = TMP / "storage-is-a-file"
    blocked.write_text("not a folder")
    server = start_server({"SIGAP_STORAGE_URL": f"file://{blocked}/documents"})
    r = httpx.get(server.url + "/readyz")
    assert r.status_code == 503 and r.json()["checks"] == {"database": "ok", "storage": "error"}


def test_json_errors_have_code_and_message(client, make_user):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "Halaman atau data yang Anda minta tidak ada."}
    r = client.get("/api/v1/users")
    assert r.status_code == 401 and set(r.json()) == {"error", "message"}
    make_user("rina", "staff")
    login(client, "rina")
    r = client.get("/api/v1/users")
    assert r.status_code == 403
    assert r.json() == {"error": "forbidden", "message": "Peran Anda tidak mengizinkan tindakan ini."}
    r = client.put("/api/v1/auth/me", headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_friendly_error_pages(client, make_user):
    r = client.get("/tidak-ada")
    assert r.status_code == 404 and "Tidak ditemukan" in r.text and "<html" in r.text
    make_user("rina", "staff")
    login(client, "rina")
    r = client.get("/admin/users")
    assert r.status_code == 403 and "Akses ditolak" in r.text
    # In English for a user who chose English.
    form(client, "/lang", {"locale": "en", "next": "/"})
    r = client.get("/admin/users")
    assert r.status_code == 403 and "Access denied" in r.text
    r = client.get("/tidak-ada")
    assert r.status_code == 404 and "Not found" in r.text


def test_server_error_page_is_friendly_and_logged(app, client, make_user, caplog):
    from litestar import get

    @get("/boom", opt={"public": True}, include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("kaboom")

    app.register(boom)
    r = client.get("/boom")
    assert r.status_code == 500 and "Terjadi kesalahan" in r.text and "kaboom" not in r.text
    request_id = r.headers["x-request-id"]
    assert request_id in r.text  # the reference the user can quote
    r = client.get("/boom", headers={"accept": "application/json"})
    assert r.json()["error"] == "server_error"


def test_request_id_is_returned_and_reused_when_well_formed(client):
    r = client.get("/healthz", headers={"X-Request-ID": "tablet-7f3a9c21"})
    assert r.headers["x-request-id"] == "tablet-7f3a9c21"
    r = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces\n"})
    assert r.headers["x-request-id"] != "bad id with spaces\n" and len(r.headers["x-request-id"]) == 16
    assert client.get("/nope").headers["x-request-id"]


def test_logs_are_json_with_request_id_and_no_secrets(start_server, make_user):
    make_user("rina", "staff")
    server = start_server({"SIGAP_LOG_LEVEL": "INFO"})
    with httpx.Client(base_url=server.url) as http:
        r = http.post("/api/v1/auth/login", json={"username": "rina", "password": password_for("rina")})
        assert r.status_code == 200
        session = http.cookies["sigap_session"]
        http.get("/admin/users?q=Nama+Rahasia+Anak", headers={"X-Request-ID": "req-abcdef12"})
        http.post("/api/v1/auth/login", json={"username": "rina", "password": "Salah-Rahasia-99"})
        token = http.post("/api/v1/auth/tokens", json={"name": "t"}, headers={"X-CSRFToken": http.cookies["sigap_csrf"]}).json()["token"]
    server.stop()
    text = server.log_text()
    for secret in (password_for("rina"), "Salah-Rahasia-99", session, token, "Nama+Rahasia+Anak", "Rahasia Anak"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("msg") == "request"]
    tagged = [line for line in requests if line.get("request_id") == "req-abcdef12"]
    assert tagged and tagged[0]["path"] == "/admin/users" and tagged[0]["status"] == 403
    assert all({"method", "path", "status", "duration_ms", "ts", "level"} <= set(line) for line in requests)


def test_openapi_schema_lists_the_json_api(client):
    r = client.get("/schema")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in ("/api/v1/auth/login", "/api/v1/auth/me", "/api/v1/auth/tokens", "/api/v1/users", "/api/v1/audit"):
        assert path in paths
    assert not any(p.startswith(("/admin", "/account", "/login")) for p in paths)


def test_security_headers_on_cookies(client, make_user):
    make_user("rina", "staff")
    r = form(client, "/login", {"username": "rina", "password": password_for("rina")})
    session_cookie = [c for c in r.headers.get_list("set-cookie") if c.startswith("sigap_session=")][0].lower()
    assert "httponly" in session_cookie and "samesite=lax" in session_cookie and "max-age" not in session_cookie
