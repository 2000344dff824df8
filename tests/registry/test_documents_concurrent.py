"""Issue 10: the same document ``client_id`` sent 50 times at once (a tablet
retrying over a bad network) gave 49 × 500 while the data stayed right.
Every answer must be right too: one 201, the others 200 with the stored
document, and one row and one stored file."""

from __future__ import annotations

import asyncio

import httpx

from registry.tables import Document
from tests.conftest import csrf_token, login
from tests.registry.test_documents import pdf_bytes


def test_fifty_concurrent_uploads_with_one_client_id_store_one_document(client, call, make_user, make_lks):
    make_user("petugas", "staff")
    lks = make_lks()
    login(client, "petugas")
    headers = {"X-CSRFToken": csrf_token(client)}
    cookies = dict(client.cookies)
    data = pdf_bytes()

    async def send_all():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000", cookies=cookies) as http:
            return await asyncio.gather(*(
                http.post(
                    f"/api/v1/lks/{lks['id']}/documents",
                    files={"file": ("NPWP.pdf", data, "application/pdf")},
                    data={"doc_type": "npwp", "client_id": "tablet-9:upload-0050"},
                    headers=headers,
                )
                for _ in range(50)
            ))

    responses = call(send_all)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 49 + [201], [r.text for r in responses if r.status_code >= 300][:2]
    assert len({r.json()["id"] for r in responses}) == 1
    assert call(Document.count().where(Document.lks == lks["id"]).run) == 1
