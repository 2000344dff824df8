"""Typed request bodies and file downloads, as the OpenAPI document
describes them: every JSON write refuses a value of the wrong JSON type
with 422 naming the field (400 when the JSON cannot be read at all) and
changes nothing; PATCH tells "not sent" from ``null``; a role that may not
write is refused before its body is read; downloads are declared as files."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest

from tests.conftest import BACKEND, DATABASE_URL, LKS_DEFAULTS, csrf_token, login

WRITES = ("post", "put", "patch")
DEEP = 1000  # levels of nested arrays


def _schema() -> dict:
    from sigap.app import create_app
    from sigap.settings import Settings

    return create_app(Settings.from_env()).openapi_schema.to_schema()


SCHEMA = _schema()


def _json_writes() -> list[tuple[str, str]]:
    out = []
    for path, item in SCHEMA["paths"].items():
        for method in WRITES:
            body = item.get(method, {}).get("requestBody", {})
            if path.startswith("/api/v1/") and "application/json" in body.get("content", {}):
                out.append((method.upper(), path))
    return sorted(out)


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for union in ("oneOf", "anyOf"):
        if union in schema:  # `X | null`: the X
            arms = [a for a in schema[union] if a.get("type") != "null"]
            merged = {k: v for k, v in schema.items() if k != union}
            return {**_resolve(arms[0]), **merged}
    return schema


def _valid(schema: dict) -> Any:
    """A value of the right JSON type (not necessarily one the service accepts)."""
    schema = _resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: _valid(sub) for name, sub in schema.get("properties", {}).items() if name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return "2025-01-31" if schema.get("format") == "date" else "teks"


def _wrong_values(schema: dict) -> dict[str, Any]:
    """Values of every other JSON type, 2^70 and deep nesting."""
    kind = _resolve(schema).get("type")
    values: dict[str, Any] = {
        "number": 5, "string": "bukan-angka", "list": [1, "dua"], "object": {"a": 1}, "2^70": 2**70,
    }
    if kind in ("integer", "number"):
        del values["number"]
    if kind == "number":
        del values["2^70"]  # a float may be that large; the service bounds it
    if kind == "string":
        del values["string"]
    if kind == "array":
        del values["list"]
    if kind == "object":
        del values["object"]
    if kind == "boolean":
        values["string"] = "mungkin"
    return values


def _row_counts() -> dict[str, int]:
    if BACKEND == "postgres":
        async def count() -> dict[str, int]:
            import asyncpg

            con = await asyncpg.connect(DATABASE_URL)
            try:
                tables = [r[0] for r in await con.fetch(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
                return {t: await con.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
            finally:
                await con.close()

        return asyncio.run(count())
    with sqlite3.connect(DATABASE_URL.removeprefix("sqlite:///")) as con:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'")]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_every_json_write_has_a_typed_body():
    writes = _json_writes()
    assert len(writes) >= 15, writes
    for method, path in writes:
        body = SCHEMA["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
        resolved = _resolve(body)
        assert resolved.get("type") == "object" and resolved.get("properties"), (method, path, body)


@pytest.mark.parametrize(("method", "path"), _json_writes(), ids=[f"{m} {p}" for m, p in _json_writes()])
def test_a_wrong_json_type_is_refused_naming_the_field(client, make_user, make_lks, method, path):
    make_user("adm", "admin")
    lks = make_lks()
    login(client, "adm")
    headers = {"X-CSRFToken": csrf_token(client), "Content-Type": "application/json"}
    url = path.replace("{lks_id}", str(lks["id"]))
    url = "/".join("1" if part.startswith("{") else part for part in url.split("/"))
    body_schema = _resolve(SCHEMA["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]["schema"])
    base = _valid(body_schema)
    if client.request(method, url, content=json.dumps(base), headers=headers).status_code == 403:
        # A write only an LKS's manager makes (their self-assessment): as that manager.
        make_user("pengurus", "manager", lks_id=lks["id"])
        login(client, "pengurus")
        headers["X-CSRFToken"] = csrf_token(client)
    before = _row_counts()
    problems = []
    for name, field_schema in body_schema["properties"].items():
        for label, wrong in {**_wrong_values(field_schema), "deep": None}.items():
            if label == "deep":
                nested = "[" * DEEP + "]" * DEEP
                content = json.dumps({**base, name: "@@"}).replace('"@@"', nested)
            else:
                content = json.dumps({**base, name: wrong})
            r = client.request(method, url, content=content, headers=headers)
            answer = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            named = any(key == name or key.startswith(name + ".") for key in answer.get("fields", {}))
            if not (r.status_code == 422 and named and answer.get("error") == "invalid") and not (
                r.status_code == 400 and label == "deep" and answer.get("error") == "invalid"
            ):
                problems.append(f"{name}={label}: {r.status_code} {r.text[:160]}")
            elif r.status_code == 422:
                message = answer["fields"][next(k for k in answer["fields"] if k == name or k.startswith(name + "."))]
                assert message and "`" not in message, message  # a sentence for people, not msgspec's words
    assert not problems, "\n".join(problems)
    assert _row_counts() == before


def test_wrong_types_get_a_translated_message(client, make_user):
    make_user("adm", "admin")
    login(client, "adm")
    h = {"X-CSRFToken": csrf_token(client)}
    cases = [
        ({**LKS_DEFAULTS, "name": "LKSA Uji", "capacity": "banyak"}, "capacity", "bilangan bulat"),
        ({**LKS_DEFAULTS, "name": "LKSA Uji", "residents": {"m_0_5": [1]}}, "residents.m_0_5", "bilangan bulat"),
        ({**LKS_DEFAULTS, "name": "LKSA Uji", "services": [{}]}, "services.0", "teks"),
        ({**LKS_DEFAULTS, "name": "LKSA Uji", "capacity": 10**20}, "capacity", "atau kurang"),
        ({**LKS_DEFAULTS, "name": "LKSA Uji", "akta_date": "kemarin"}, "akta_date", "tttt-bb-hh"),
        ({**LKS_DEFAULTS, "name": ["LKSA"]}, "name", "teks"),
        ({key: value for key, value in LKS_DEFAULTS.items() if key != "kind"} | {"name": "LKSA Uji"}, "kind", "wajib"),
    ]
    for body, field, text in cases:
        r = client.post("/api/v1/lks", json=body, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid" and r.json()["message"] == "Perbaiki isian yang ditandai."
        assert text in r.json()["fields"][field].lower(), r.json()
    r = client.post("/api/v1/lks", json=[1, 2], headers=h)
    assert r.status_code == 422 and r.json()["fields"] == {"body": "Isi dengan objek yang berisi kolom-kolom bernama."}
    r = client.post("/api/v1/lks", content=b'{"name": ', headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid"
    assert client.get("/api/v1/lks").json()["total"] == 0


def test_patch_tells_absent_from_null(client, make_user, make_lks):
    make_user("adm", "admin")
    lks = make_lks("LKSA Sebagian", email="kontak@lksa.example", phone="081234567890")
    user = make_user("petugas", "staff", email="petugas@dinsos.example", full_name="Petugas Satu")
    login(client, "adm")
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.patch(f"/api/v1/lks/{lks['id']}", json={"version": lks["version"], "capacity": 45}, headers=h)
    assert r.status_code == 200
    assert (r.json()["capacity"], r.json()["email"], r.json()["phone"]) == (45, "kontak@lksa.example", "081234567890")
    r = client.patch(f"/api/v1/lks/{lks['id']}", json={"version": r.json()["version"], "email": None}, headers=h)
    assert r.status_code == 200 and r.json()["email"] == "" and r.json()["phone"] == "081234567890"
    r = client.patch(f"/api/v1/lks/{lks['id']}", json={"version": r.json()["version"], "status": "registered"}, headers=h)
    assert r.status_code == 422 and "status" in r.json()["fields"]

    r = client.patch(f"/api/v1/users/{user['id']}", json={"version": user["version"], "full_name": "Petugas Dua"}, headers=h)
    assert r.status_code == 200 and r.json()["email"] == "petugas@dinsos.example" and r.json()["full_name"] == "Petugas Dua"
    r = client.patch(f"/api/v1/users/{user['id']}", json={"version": r.json()["version"], "email": None}, headers=h)
    assert r.status_code == 200 and r.json()["email"] in (None, "") and r.json()["full_name"] == "Petugas Dua"


def test_a_role_that_may_not_write_gets_403_before_its_body_is_read(client, make_user):
    """The role guards run before the body is read: a manager sending a
    broken, NUL-carrying or wrongly typed body to a staff-only write gets
    403, not a 400 or 422 that would mean the body was parsed."""
    make_user("pengelola", "manager")
    login(client, "pengelola")
    h = {"X-CSRFToken": csrf_token(client), "Content-Type": "application/json"}
    for content in (b'{"name": ', json.dumps({"name": "LKSA\x00"}).encode(), b'{"name": 5}', b"[" * 5000 + b"]" * 5000):
        r = client.post("/api/v1/lks", content=content, headers=h)
        assert r.status_code == 403, (content[:20], r.text)
    r = client.post("/api/v1/teams", content=b'{"name": ', headers=h)
    assert r.status_code == 403


DOWNLOADS = {
    ("/api/v1/documents/{document_id}/content", "application/pdf"),
    ("/lks/{lks_id}/certificate.pdf", "application/pdf"),
    ("/lks/export.csv", "text/csv; charset=utf-8"),
    ("/lks/export.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("/tasks/feed/{feed_token}", "text/calendar"),
    ("/visits/{visit_id}/report.pdf", "application/pdf"),
    ("/visits/{visit_id}/photos/{photo_id}", "image/jpeg"),
}


def test_downloads_are_declared_as_files(client):
    """Read from the served document, as a client generator would."""
    schema = client.get("/schema/openapi.json").json()
    for path, media_type in DOWNLOADS:
        assert path in schema["paths"], (path, sorted(schema["paths"]))
        answer = schema["paths"][path]["get"]["responses"]["200"]
        assert answer["description"] and "Stream" not in answer["description"], path
        assert media_type in answer["content"], (path, answer["content"].keys())
        for declared in answer["content"].values():
            assert declared["schema"] == {"type": "string", "format": "binary"}, (path, declared)
        assert "Content-Disposition" in answer["headers"], path


def test_every_route_keeps_the_body_nul_check(app):
    """The body check is the app's before_request hook; a controller or
    handler with a hook of its own would replace it (Litestar keeps the
    innermost one) and bodies with NUL would reach its services."""
    from litestar.handlers import HTTPRouteHandler

    from sigap.web import no_nul_in_body

    handlers = [h for route in app.routes for h in getattr(route, "route_handlers", []) if isinstance(h, HTTPRouteHandler)]
    assert len(handlers) > 50
    hooks = {h.resolve_before_request() for h in handlers}
    names = {getattr(hook, "__name__", None) or getattr(getattr(hook, "func", None), "__name__", repr(hook)) for hook in hooks}
    assert names == {no_nul_in_body.__name__}, names
