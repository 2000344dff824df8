"""Odd input never answers 500: numbers beyond 64 bits in paths and
queries are refused before they reach the database driver."""

from __future__ import annotations

import pytest

from tests.conftest import login

HUGE = "99999999999999999999"
INT64_PLUS_ONE = "9223372036854775808"


@pytest.mark.parametrize("path", [
    f"/api/v1/lks/{HUGE}", f"/lks/{HUGE}", f"/api/v1/documents/{HUGE}/content", f"/api/v1/users/{INT64_PLUS_ONE}",
    f"/tasks/{HUGE}", f"/incidents/{HUGE}", f"/api/v1/tasks/{HUGE}",
])
def test_ids_beyond_64_bits_are_not_found(client, make_user, path):
    make_user("adm", "admin")
    login(client, "adm")
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code, r.text[:200])


@pytest.mark.parametrize("query", [
    f"page={INT64_PLUS_ONE}", f"page=-{HUGE}", f"per_page={HUGE}", f"before={HUGE}", f"team={HUGE}",
])
def test_numbers_beyond_64_bits_in_queries_get_a_message(client, make_user, query):
    make_user("adm", "admin")
    login(client, "adm")
    for path in ("/api/v1/lks", "/api/v1/audit", "/api/v1/tasks"):
        r = client.get(f"{path}?{query}")
        assert r.status_code == 422, (path, query, r.status_code, r.text[:200])
        name = query.split("=")[0]
        assert r.json()["fields"][name] == "Angka ini terlalu besar."


def test_ids_at_and_past_the_column_limit_are_a_plain_not_found(client, make_user):
    make_user("adm", "admin")
    login(client, "adm")
    for lks_id in (2**31 - 1, 2**31, 2**63 - 1):
        assert client.get(f"/api/v1/lks/{lks_id}").status_code == 404
    assert client.get("/api/v1/lks?page=2147483648").status_code == 422


def test_the_nul_character_is_refused_everywhere_with_a_message(client, make_user):
    """PostgreSQL cannot store NUL in text; found by the API fuzzer as 500s
    on the user and audit searches, sign-in and team creation."""
    from tests.conftest import csrf_token

    make_user("adm", "admin")
    login(client, "adm")
    for url in ("/api/v1/users?q=a%00b", "/api/v1/audit?actor=%00", "/api/v1/lks?q=%00", "/lks?q=%00"):
        r = client.get(url)
        assert r.status_code == 422, url
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.post("/api/v1/teams", json={"name": "Tim\x00", "area_code": "36.71.11"}, headers=h)
    assert r.status_code == 422 and r.json()["fields"] == {"body": "Hapus karakter kontrol yang tidak terlihat dari teks ini."}
    assert client.post("/api/v1/auth/login", json={"username": "adm\x00", "password": "x"}).status_code == 422
    r = client.post("/login", data={"username": "adm\x00", "password": "x", "_csrf_token": csrf_token(client)})
    assert r.status_code == 422
    assert client.get("/api/v1/teams").json()["items"] == []


def test_a_form_field_that_is_not_utf8_is_a_400(client, make_user):
    """Found by the API fuzzer: Litestar's multipart parser raises on a text
    field that is not UTF-8; the answer is a 400, not a 500."""
    from tests.conftest import csrf_token

    make_user("adm", "admin")
    make_user("mgr", "manager")
    body = b'--x\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xff\xfe\r\n--x--\r\n'
    login(client, "mgr")
    r = client.post("/api/v1/findings/1/responses", content=body,
                    headers={"X-CSRFToken": csrf_token(client), "Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and r.json()["error"] == "invalid"
    # A role that may not answer findings is refused before the body is parsed.
    login(client, "adm")
    r = client.post("/api/v1/findings/1/responses", content=body,
                    headers={"X-CSRFToken": csrf_token(client), "Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 403
