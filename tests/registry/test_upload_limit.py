"""An app whose upload limit is 1 MB: the body limit answers 413 before the
file is read; a file just over the limit is refused by the service."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sigap.settings import Settings
from tests.conftest import csrf_token, login


@pytest.fixture
def settings():
    return replace(Settings.from_env(), max_upload_mb=1)


def test_request_body_over_the_limit_gets_413(client, make_user, make_lks):
    make_user("petugas", "staff")
    lks = make_lks()
    login(client, "petugas")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\n"
    r = client.post(
        f"/api/v1/lks/{lks['id']}/documents",
        files={"file": ("besar.pdf", pdf + b"0" * (3 * 1024 * 1024), "application/pdf")},
        data={"doc_type": "npwp"},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = client.post(
        f"/api/v1/lks/{lks['id']}/documents",
        files={"file": ("sedang.pdf", pdf + b"0" * (1024 * 1024 + 1000), "application/pdf")},
        data={"doc_type": "npwp"},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert r.status_code == 422 and "lebih besar dari 1 MB" in r.json()["message"]
