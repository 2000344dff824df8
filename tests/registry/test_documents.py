"""Documents on a local folder and on a real S3 server (SeaweedFS): upload,
type from content, size limit, supersession, review, download, and every
failure path (bad type, oversize, storage down, database error)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from registry import documents
from registry.tables import Document, Lks
from sigap.audit import Actor
from sigap.db import get_engine, is_sqlite
from sigap.errors import Conflict, DomainError, ValidationError
from sigap.storage import LocalStorage, S3Storage
from sigap.tables import AuditEvent, Role
from tests.conftest import csrf_token, login
from tests.s3 import s3_server  # noqa: F401  (fixture)

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


# --- sample files, made here ----------------------------------------------------


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00\xff\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def webp_bytes() -> bytes:
    body = b"WEBPVP8 " + (10).to_bytes(4, "little") + b"\x00" * 10
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def office_bytes(kind: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
    return buf.getvalue()


def plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    return buf.getvalue()


GOOD = {
    "pdf": (pdf_bytes, "application/pdf"),
    "png": (png_bytes, "image/png"),
    "jpg": (jpeg_bytes, "image/jpeg"),
    "webp": (webp_bytes, "image/webp"),
    "docx": (lambda: office_bytes("docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (lambda: office_bytes("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
BAD = {
    "program.pdf": b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100,
    "page.pdf": b"<!doctype html><script>alert(1)</script>",
    "notes.docx": plain_zip(),
    "broken.xlsx": b"PK\x03\x04 not really a zip",
    "text.jpg": b"just some text that claims to be a photo",
}


# --- the two backends -----------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        yield LocalStorage(tmp_path / "documents")
    else:
        server = request.getfixturevalue("s3_server")
        store = server.storage()
        yield store
        store.close()


def stored_keys(storage) -> list[str]:
    if isinstance(storage, LocalStorage):
        return sorted(str(p.relative_to(storage.root)) for p in Path(storage.root).rglob("*") if p.is_file() and not p.name.startswith("."))
    client = storage.client
    prefix = storage.prefix + "/" if storage.prefix else ""
    listing = client.list_objects_v2(Bucket=storage.bucket, Prefix=prefix)
    return sorted(o["Key"][len(prefix):] for o in listing.get("Contents", []))


def upload(call, storage, lks_id, data: bytes, *, doc_type="npwp", filename="berkas.pdf", actor=STAFF, max_bytes=10**7, **kw):
    return call(
        documents.upload, actor, lks_id, doc_type=doc_type, filename=filename, fileobj=io.BytesIO(data),
        now=NOW, storage=storage, max_bytes=max_bytes, **kw,
    )


async def read_all(storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.iter_chunks(key)])


# --- tests ----------------------------------------------------------------------


def test_every_accepted_type_is_recognised_by_content(call, storage, make_lks):
    lks = make_lks()
    for ext, (make, mime) in GOOD.items():
        data = make()
        # The name lies on purpose: the content decides.
        row, created = upload(call, storage, lks["id"], data, doc_type="other", filename="scan.bin")
        assert created and row["content_type"] == mime and row["filename"] == f"scan.{ext}"
        assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["size"] == len(data)
        assert call(read_all, storage, row["storage_key"]) == data


def test_bad_types_are_refused_and_nothing_is_stored(call, storage, make_lks):
    lks = make_lks()
    for filename, data in BAD.items():
        with pytest.raises(ValidationError) as err:
            upload(call, storage, lks["id"], data, filename=filename)
        assert "Jenis berkas ini tidak diterima" in err.value.message, filename
    with pytest.raises(ValidationError) as empty:
        upload(call, storage, lks["id"], b"")
    assert "kosong" in empty.value.message
    assert call(Document.count().run) == 0
    assert stored_keys(storage) == []


def test_oversize_is_refused(call, storage, make_lks):
    lks = make_lks()
    with pytest.raises(ValidationError) as err:
        upload(call, storage, lks["id"], pdf_bytes() + b"0" * 2 * 1024 * 1024, max_bytes=1024 * 1024)
    assert "lebih besar dari 1 MB" in err.value.message
    assert call(Document.count().run) == 0 and stored_keys(storage) == []


def test_new_upload_supersedes_and_history_is_kept(call, storage, make_lks):
    lks = make_lks()
    first, _ = upload(call, storage, lks["id"], pdf_bytes() + b"v1")
    call(documents.review, STAFF, first["id"], verdict="rejected", reason="Tidak terbaca, mohon pindai ulang.", now=NOW)
    second, _ = upload(call, storage, lks["id"], pdf_bytes() + b"v2")
    rows = call(documents.list_documents, STAFF, lks["id"], include_superseded=True)
    assert [(r["id"], r["status"]) for r in rows] == [(second["id"], "pending"), (first["id"], "superseded")]
    assert [r["id"] for r in call(documents.list_documents, STAFF, lks["id"])] == [second["id"]]
    with pytest.raises(Conflict):
        call(documents.review, STAFF, first["id"], verdict="verified", now=NOW)
    # Both files are still there: history, not overwrite.
    assert len(stored_keys(storage)) == 2


def test_review_rules(call, storage, make_lks):
    lks = make_lks()
    row, _ = upload(call, storage, lks["id"], pdf_bytes())
    with pytest.raises(ValidationError):
        call(documents.review, STAFF, row["id"], verdict="rejected", reason="", now=NOW)
    manager = Actor(user_id=None, username="m", role=Role.manager, lks_id=lks["id"])
    with pytest.raises(DomainError) as forbidden:
        call(documents.review, manager, row["id"], verdict="verified", now=NOW)
    assert forbidden.value.status_code == 403
    verified = call(documents.review, STAFF, row["id"], verdict="verified", now=NOW)
    assert verified["status"] == "verified" and verified["reviewed_at"] is not None


def test_retry_with_the_same_client_id_is_stored_once(call, storage, make_lks):
    lks = make_lks()
    first, created = upload(call, storage, lks["id"], pdf_bytes(), client_id="tablet-7:upload-0001")
    again, created_again = upload(call, storage, lks["id"], pdf_bytes(), client_id="tablet-7:upload-0001")
    assert created and not created_again and again["id"] == first["id"]
    assert call(Document.count().run) == 1 and len(stored_keys(storage)) == 1


def test_storage_down_leaves_no_row(call, make_lks, s3_server):
    lks = make_lks()
    down = S3Storage(s3_server.bucket, "down", "http://127.0.0.1:1", access_key=s3_server.access_key, secret_key=s3_server.secret_key, region=s3_server.region)
    try:
        with pytest.raises(DomainError) as err:
            upload(call, down, lks["id"], pdf_bytes())
    finally:
        down.close()
    assert err.value.status_code == 503 and "tidak ada yang disimpan" in err.value.message
    assert call(Document.count().run) == 0


def test_local_storage_down_leaves_no_row(call, make_lks, tmp_path):
    lks = make_lks()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DomainError) as err:
        upload(call, LocalStorage(blocker / "documents"), lks["id"], pdf_bytes())
    assert err.value.status_code == 503
    assert call(Document.count().run) == 0


@pytest.fixture
def failing_document_inserts(call):
    """A real database error on every document insert (a trigger)."""
    engine = get_engine()
    if is_sqlite():
        create = ["CREATE TRIGGER sigap_test_fail BEFORE INSERT ON registry_document BEGIN SELECT RAISE(ABORT, 'simulated outage'); END"]
        drop = ["DROP TRIGGER IF EXISTS sigap_test_fail"]
    else:
        create = [
            "CREATE OR REPLACE FUNCTION sigap_test_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'simulated outage'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER sigap_test_fail BEFORE INSERT ON registry_document FOR EACH ROW EXECUTE FUNCTION sigap_test_fail()",
        ]
        drop = ["DROP TRIGGER IF EXISTS sigap_test_fail ON registry_document", "DROP FUNCTION IF EXISTS sigap_test_fail()"]
    for sql in create:
        call(engine.run_ddl, sql)
    yield
    for sql in drop:
        call(engine.run_ddl, sql)


def test_database_error_leaves_no_orphan_object(call, storage, make_lks, failing_document_inserts):
    lks = make_lks()
    with pytest.raises(Exception) as err:
        upload(call, storage, lks["id"], pdf_bytes())
    assert "simulated outage" in str(err.value)
    assert stored_keys(storage) == []
    assert call(Document.count().run) == 0


# --- over HTTP --------------------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def http_storage(request, app, tmp_path):
    """Run the app's document storage on each backend."""
    if request.param == "s3":
        server = request.getfixturevalue("s3_server")
        app.state.storage = server.storage()
    return app.state.storage


def test_upload_and_download_over_http(client, http_storage, make_user, make_lks, call):
    make_user("petugas", "staff")
    lks = make_lks()
    login(client, "petugas")
    data = pdf_bytes() + bytes(range(256)) * 4000  # about 1 MB
    r = client.post(
        f"/api/v1/lks/{lks['id']}/documents",
        files={"file": ("Akta Notaris.pdf", data, "application/octet-stream")},
        data={"doc_type": "akta_pendirian", "expires_on": "2030-01-31", "client_id": "web-0000-0001"},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["filename"] == "Akta Notaris.pdf" and doc["size"] == len(data) and str(doc["expires_on"]) == "2030-01-31"
    r = client.get(f"/api/v1/documents/{doc['id']}/content")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "application/pdf" and r.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in r.headers["content-disposition"]
    downloads = call(AuditEvent.count().where(AuditEvent.action == "document.download").run)
    assert downloads == 1
    # The HTML form path gives the page back with the message on a bad file.
    r = client.post(
        f"/lks/{lks['id']}/documents",
        files={"file": ("foto.jpg", b"bukan foto", "image/jpeg")},
        data={"doc_type": "photo", "_csrf_token": csrf_token(client)},
    )
    assert r.status_code == 422 and "Jenis berkas ini tidak diterima" in r.text


@pytest.mark.parametrize("name", [
    "Akta – Yayasan.pdf", "SK Kemenkumham ’Kasih’.pdf", "許可証.pdf", "Foto panti 😀.pdf", 'Nama "kutip" \\ miring.pdf',
])
def test_any_file_name_can_be_downloaded_again(client, make_user, make_lks, name):
    """A name with a dash, a curly quote, CJK or an emoji is kept as typed
    and sent in ``filename*`` (RFC 6266); the ``filename`` stand-in is ASCII."""
    from urllib.parse import unquote

    make_user("petugas", "staff")
    lks = make_lks()
    login(client, "petugas")
    r = client.post(f"/api/v1/lks/{lks['id']}/documents", files={"file": (name, pdf_bytes(), "application/pdf")},
                    data={"doc_type": "npwp"}, headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 201, r.text
    stored = r.json()["filename"]
    for url in (f"/api/v1/documents/{r.json()['id']}/content", f"/documents/{r.json()['id']}/content"):
        got = client.get(url)
        assert got.status_code == 200 and got.content == pdf_bytes()
        header = got.headers["content-disposition"]
        header.encode("ascii")  # nothing outside ASCII on the wire
        if "filename*=" in header:
            assert unquote(header.split("filename*=UTF-8''", 1)[1]) == stored
        else:  # a plain ASCII name needs no second form
            assert header == f'attachment; filename="{stored}"' and stored.isascii()


def test_missing_file_or_type_is_a_clear_422(client, make_user, make_lks):
    make_user("petugas", "staff")
    lks = make_lks()
    login(client, "petugas")
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.post(f"/api/v1/lks/{lks['id']}/documents", data={"doc_type": "npwp", "x": "1"}, files={"other": ("a.txt", b"x")}, headers=h)
    assert r.status_code == 422 and "file" in r.json()["fields"]
    r = client.post(f"/api/v1/lks/{lks['id']}/documents", files={"file": ("a.pdf", pdf_bytes())}, data={"doc_type": "rapor"}, headers=h)
    assert r.status_code == 422 and "doc_type" in r.json()["fields"]
    r = client.post(f"/api/v1/lks/{lks['id']}/documents", files={"file": ("a.pdf", pdf_bytes())}, data={"doc_type": "npwp", "expires_on": "31-12-2030"}, headers=h)
    assert r.status_code == 422


def test_download_of_a_lost_file_is_a_clear_404(client, http_storage, make_user, make_lks, call):
    make_user("petugas", "staff")
    lks = make_lks()
    login(client, "petugas")
    row, _ = upload(call, http_storage, lks["id"], pdf_bytes())
    call(http_storage.delete, row["storage_key"])
    r = client.get(f"/api/v1/documents/{row['id']}/content")
    assert r.status_code == 404 and "hilang dari penyimpanan" in r.json()["message"]
