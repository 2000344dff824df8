"""Photos of a visit report: refused with the tablet's own messages when
of the wrong type, too large, empty or too big in pixels; stored once per
client id without their metadata; served only to the report's readers; the
same on a real S3 server."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from inspections.visits import photos
from inspections.visits.tables import VisitPhoto
from sigap.audit import Actor
from sigap.tables import Role
from tests.inspections.visit_world import VisitWorld, jpeg_bytes, sign_in, world  # noqa: F401  (fixture)
from tests.s3 import s3_server  # noqa: F401  (fixture)


def _filed(client, world: VisitWorld) -> dict:
    headers = sign_in(client, world.users["lead"])
    visit = client.post("/api/v1/visits", json=world.key_no_body(), headers=headers).json()
    return {"visit": visit, "headers": headers}


def _send(client, visit_id: int, data: bytes, headers: dict, client_id: str = "photo-key-0001", name: str = "foto.jpg"):
    fields = {"client_id": client_id, "question_code": "A1", "finding_ref": "f1", "taken_at": "2026-11-30T09:15:00+07:00",
              "latitude": "-6.2085", "longitude": "106.654"}
    return client.post(f"/api/v1/visits/{visit_id}/photos", data=fields, files={"file": (name, data, "image/jpeg")}, headers=headers)


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, format="PNG")
    return out.getvalue()


def test_bad_photos_are_refused_with_the_tablets_messages(client, world: VisitWorld):
    filed = _filed(client, world)
    visit_id, headers = filed["visit"]["id"], filed["headers"]
    cases = {
        "Hanya foto JPEG, PNG atau WebP.": b"%PDF-1.4 not a photo at all",
        "Foto kosong.": b"",
        "Foto terlalu besar (paling besar 5 MB).": b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024 + 10),
        "Sisi terpanjang foto lebih dari 1600 piksel.": _png((1700, 900)),
    }
    for message, data in cases.items():
        response = _send(client, visit_id, data, headers)
        assert response.status_code == 422, (message, response.text)
        assert response.json()["fields"]["file"] == message
    assert client.get(f"/api/v1/visits/{visit_id}").json()["photos_missing"] == ["photo-key-0001"]


def test_a_photo_is_stored_once_without_its_metadata_and_served_to_readers_only(client, call, world: VisitWorld):
    filed = _filed(client, world)
    visit_id, headers = filed["visit"]["id"], filed["headers"]
    first = _send(client, visit_id, jpeg_bytes(exif=True), headers)
    assert first.status_code == 201, first.text
    again = _send(client, visit_id, jpeg_bytes(exif=True), headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    stored = call(VisitPhoto.select().first)
    assert stored["taken_at"] is not None and abs(stored["latitude"] + 6.2085) < 1e-5 and stored["width"] == 800
    content = client.get(first.json()["url"])
    assert content.status_code == 200 and content.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(content.content))
    assert not image.getexif() and b"KameraRahasia" not in content.content
    assert client.get(f"/api/v1/visits/{visit_id}").json()["photos_missing"] == []
    sign_in(client, world.users["other"])
    assert client.get(first.json()["url"]).status_code == 404
    sign_in(client, world.users["manager"])
    assert client.get(first.json()["url"]).status_code == 403


def test_an_approved_report_with_all_its_photos_takes_no_more(client, world: VisitWorld):
    filed = _filed(client, world)
    visit_id = filed["visit"]["id"]
    assert _send(client, visit_id, jpeg_bytes(), filed["headers"]).status_code == 201
    headers = sign_in(client, world.users["staff"])
    client.post(f"/api/v1/visits/{visit_id}/review", json={"decision": "approve", "version": 1}, headers=headers)
    headers = sign_in(client, world.users["lead"])
    late = _send(client, visit_id, jpeg_bytes(), headers, client_id="photo-late-0002")
    assert late.status_code == 409


def test_photos_go_to_a_real_s3_server(call, client, world: VisitWorld, s3_server):
    filed = _filed(client, world)
    storage = s3_server.storage()
    lead = Actor(user_id=world.users["lead"]["id"], username="agus", role=Role.inspector)
    row, created = call(
        photos.add_photo, lead, filed["visit"]["id"], client_id="photo-key-0001", question_code="A1", finding_ref="f1",
        taken_at="", latitude="", longitude="", fileobj=io.BytesIO(jpeg_bytes()), storage=storage, max_mb=5,
        now=datetime.now(UTC),
    )
    assert created and row["storage_key"] == f"visits/{filed['visit']['id']}/photo-key-0001.jpg"
    _photo, reader = call(photos.open_photo, lead, filed["visit"]["id"], row["id"], storage=storage)
    assert reader.read().startswith(b"\xff\xd8\xff")
    reader.close()
    storage.close()
