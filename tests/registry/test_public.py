"""The public register (/register) and the certificate check (/verify):
no sign-in, no restricted field, no cookie, cacheable, rate-limited, and a
certificate's code that cannot be guessed or forged."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from registry.public import services
from registry.tables import Lks
from sigap.audit import Actor
from sigap.tables import Role
from tests.conftest import REDIS_URL, app_client, login
from tests.inspections.test_findings import add_finding
from tests.inspections.visit_rows import approved_verification_visit
from tests.registry.test_workflow import STAFF, step, verify_all_required

NOW = datetime.now(timezone.utc)
ADMIN = Actor(user_id=None, username="uji", role=Role.admin)
SECRET_BITS = [
    "0812", "3456", "pengurus@contoh.id", "Budi Sentosa", "Yayasan Kasih Tersembunyi", "Jl. Kenanga Rahasia",
    "Anak dipukul", "Kamar mandi", "Risiko", "risiko", "Insiden", "insiden", "Temuan", "temuan", "Dokumen",
]
PUBLIC_KEYS = {
    "id", "name", "kind", "kind_label", "kelurahan", "kecamatan", "kecamatan_code", "registration_status",
    "registration_label", "registered_on", "valid_until", "accreditation_status", "accreditation_label",
    "accreditation_grade", "accreditation_valid_until",
}


def register(call, app, lks: dict, now: datetime = NOW) -> dict:
    """Through the real workflow: application, documents, field visit, approval."""
    step(call, STAFF, lks, "submit", now=now)
    step(call, STAFF, lks, "start_document_check", now=now)
    verify_all_required(call, app, lks)
    step(call, STAFF, lks, "start_field_verification", now=now)
    call(approved_verification_visit, lks["id"], now=now)
    return step(call, STAFF, lks, "approve", now=now)


def sensitive_lks(call, app, make_lks) -> dict:
    """A registered LKSA with residents, contacts, an open incident and a finding."""
    from inspections.incidents import services as incidents

    lks = make_lks(
        "LKSA Harapan Bangsa", phone="0812 3456 7890", email="pengurus@contoh.id", head_name="Budi Sentosa",
        yayasan_name="Yayasan Kasih Tersembunyi", address="Jl. Kenanga Rahasia No. 9", capacity=40,
        residents={"m_6_12": 7, "f_6_12": 5, "m_13_17": 3, "f_13_17": 4},
    )
    register(call, app, lks)
    call(incidents.record_incident, ADMIN, lks_id=lks["id"], source="public_complaint", category="physical_abuse",
         severity="high", occurred_on=NOW.date().isoformat(), description="Anak dipukul oleh pengasuh malam hari.", now=NOW)
    add_finding(call, lks["id"])
    row = call(Lks.select().where(Lks.id == lks["id"]).first().run)
    assert row["open_incident"] and row["residents_total"] == 19  # the restricted data is really there
    return row


def assert_nothing_restricted(text: str) -> None:
    for bit in SECRET_BITS:
        assert bit not in text, f"{bit!r} is on a public page"


def test_register_shows_what_anyone_may_know_and_nothing_more(client, call, app, make_lks):
    lks = sensitive_lks(call, app, make_lks)
    page = client.get("/register?q=harapan")
    assert page.status_code == 200
    html = page.text
    assert "LKSA Harapan Bangsa" in html and "Terdaftar" in html and "Kunciran Indah" in html and "Pinang" in html
    assert "berlaku sampai" in html and "Belum terakreditasi" in html
    assert_nothing_restricted(html)

    body = client.get("/api/v1/public/lks?q=harapan").json()
    assert body["total"] == 1 and not body["total_capped"]
    item = body["items"][0]
    assert set(item) == PUBLIC_KEYS
    assert item["id"] == lks["id"] and item["registration_status"] == "registered" and item["kecamatan"] == "Pinang"
    assert item["valid_until"] == lks["valid_until"].isoformat()
    assert_nothing_restricted(json.dumps(body))

    # The search covers names only: a person's name or an address finds nothing.
    assert client.get("/api/v1/public/lks?q=Budi Sentosa").json()["items"] == []
    assert client.get("/api/v1/public/lks?q=kenanga").json()["items"] == []
    assert "Tidak ada LKS" in client.get("/register?q=kenanga").text


def test_which_lks_are_listed(client, call, app, make_lks):
    registered = make_lks("Panti Werdha Terdaftar", kind="elderly")
    register(call, app, registered)
    applying = make_lks("LKSA Sedang Mendaftar")
    step(call, STAFF, applying, "submit")
    make_lks("LKSA Laporan Mitra Belum Dicek")  # unregistered: an unverified report
    closed = make_lks("LKSA Sudah Tutup")
    step(call, STAFF, closed, "close", reason="Yayasan membubarkan diri.")
    other_kecamatan = make_lks("LKSA Di Karawaci", kelurahan_code="36.71.04.1001")
    register(call, app, other_kecamatan)

    def names(query: str = "") -> list[str]:
        return [i["name"] for i in client.get("/api/v1/public/lks" + query).json()["items"]]

    assert names() == ["LKSA Di Karawaci", "LKSA Sedang Mendaftar", "Panti Werdha Terdaftar"]
    in_process = client.get("/api/v1/public/lks?q=mendaftar").json()["items"][0]
    assert in_process["registration_status"] == "in_process" and in_process["valid_until"] is None
    assert names("?q=tutup") == ["LKSA Sudah Tutup"]  # a closed one only when searched by name
    accented = make_lks("Panti Asuhan Santa Thérèse")
    register(call, app, accented)
    assert names("?q=therese") == names("?q=THÉRÈSE santa") == ["Panti Asuhan Santa Thérèse"]
    assert names("?q=100%25") == names("?q=___") == []  # LIKE's wildcards are plain characters
    assert names("?q=as thérèse") == ["Panti Asuhan Santa Thérèse"]  # a short word with a longer one
    short = client.get("/api/v1/public/lks?q=zz")
    assert short.status_code == 422 and short.json()["fields"]["q"] == "Ketik sedikitnya 3 huruf dari nama LKS."
    page = client.get("/register?q=zz")
    assert page.status_code == 422 and "Ketik sedikitnya 3 huruf" in page.text and 'aria-invalid="true"' in page.text
    assert names("?q=belum dicek") == []
    assert names("?kind=elderly") == ["Panti Werdha Terdaftar"]
    assert names("?kecamatan=36.71.04") == ["LKSA Di Karawaci"]
    assert names("?kind=nonsense&kecamatan=99") == names()  # unknown filters are no filter
    assert client.get("/api/v1/public/lks?page=0").status_code == 400
    assert client.get("/api/v1/public/lks?page=99999").json()["page"] == 1


def test_public_answers_set_no_cookie_are_cacheable_and_the_same_for_signed_in_users(client, call, app, make_lks, as_role):
    register(call, app, make_lks("LKSA Cahaya"))
    anonymous = client.get("/register")
    assert "set-cookie" not in anonymous.headers
    assert anonymous.headers["cache-control"] == "public, max-age=60"
    etag = anonymous.headers["etag"]
    assert etag.startswith('W/"')
    again = client.get("/register", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert "set-cookie" not in client.get("/verify").headers
    api = client.get("/api/v1/public/lks")
    assert "set-cookie" not in api.headers and api.headers["cache-control"] == "public, max-age=60" and api.headers["etag"]

    as_role("staff")
    signed_in = client.get("/register")
    assert "set-cookie" not in signed_in.headers and signed_in.headers["cache-control"] == "public, max-age=60"
    assert signed_in.text == anonymous.text  # no name, no menu, no token: nothing personal to cache
    assert "csrf" not in signed_in.text.lower()


def test_register_language_switch_by_link(client, call, app, make_lks):
    register(call, app, make_lks("LKSA Bahasa"))
    indonesian = client.get("/register")
    assert 'lang="id"' in indonesian.text and "Terdaftar" in indonesian.text and "?lang=en" in indonesian.text
    english = client.get("/register?lang=en")
    assert 'lang="en"' in english.text and "Registered" in english.text
    assert 'name="lang" value="en"' in english.text  # the search keeps the language
    assert "Cookie" not in english.headers.get("vary", "")  # the URL decides: cacheable as it is
    assert "Cookie" in indonesian.headers["vary"]  # the language cookie decides


def test_sign_in_page_links_to_the_public_pages(client):
    html = client.get("/login").text
    assert 'href="/register"' in html and 'href="/verify"' in html


# --- certificate check ---------------------------------------------------------


def certificate(client, lks_id: int) -> tuple[str, str, bytes]:
    """(code, URL) printed on the Tanda Daftar, read back from the PDF."""
    pdf = client.get(f"/lks/{lks_id}/certificate.pdf")
    assert pdf.status_code == 200
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    printed = re.search(r"Kode cek: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", text)
    assert printed, text
    code = printed.group(1).replace("-", "")
    url = f"http://127.0.0.1:8000/verify/{code}"
    assert url in text
    return code, url, pdf.content


def test_the_tanda_daftar_carries_a_qr_code_and_a_short_code(client, call, app, make_lks, as_role):
    lks = register(call, app, make_lks("LKSA Pelita"))
    as_role("staff")
    code, url, pdf = certificate(client, lks["id"])
    zxingcpp = pytest.importorskip("zxingcpp")
    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    decoded = [b.text for image in images for b in zxingcpp.read_barcodes(image.image)]
    assert decoded == [url]
    assert certificate(client, lks["id"])[0] == code  # printed again: the same code


def test_verify_a_genuine_certificate_through_its_life(client, call, app, make_lks, as_role):
    lks = register(call, app, make_lks("LKSA Mentari"))
    staff = as_role("staff")
    code, _url, _pdf = certificate(client, lks["id"])
    client.cookies.clear()

    page = client.get(f"/verify/{code}")
    assert page.status_code == 200 and "set-cookie" not in page.headers
    assert "Asli dan berlaku" in page.text and "LKSA Mentari" in page.text and lks["certificate_number"] in page.text
    body = client.get(f"/api/v1/public/verify/{code.lower()[:4]}-{code.lower()[4:8]}-{code.lower()[8:]}").json()
    assert body["genuine"] and body["status"] == "valid" and body["certificate_number"] == lks["certificate_number"]
    assert body["lks_name"] == "LKSA Mentari"

    def status(now: datetime = NOW) -> str:
        return call(services.verify, code, now=now)["status"]

    assert status(NOW + timedelta(days=4 * 365)) == "expired"
    step(call, STAFF, lks, "suspend", reason="Izin operasional dibekukan sementara.")
    assert status() == "suspended" and "ditangguhkan" in client.get(f"/verify/{code}").text
    step(call, STAFF, lks, "reinstate", reason="Pembekuan dicabut setelah perbaikan.")
    assert status() == "valid"

    # A renewal issues a new number: the old certificate is superseded, the new one valid.
    later = datetime.combine(lks["valid_until"] - timedelta(days=60), datetime.min.time(), tzinfo=timezone.utc)
    renewed = register_renewal(call, app, lks, later)
    assert renewed["certificate_number"] != lks["certificate_number"]
    old = call(services.verify, code, now=later)
    assert old["status"] == "superseded" and old["superseded_by_number"] == renewed["certificate_number"]
    login(client, staff["username"])
    new_code = certificate(client, lks["id"])[0]
    assert new_code != code and call(services.verify, new_code, now=later)["status"] == "valid"
    step(call, STAFF, lks, "revoke", reason="Terbukti menelantarkan anak asuh.", now=later)
    assert call(services.verify, new_code, now=later)["status"] == "revoked"
    assert call(services.verify, code, now=later)["status"] == "superseded"


def register_renewal(call, app, lks: dict, now: datetime) -> dict:
    step(call, STAFF, lks, "renew", now=now)
    step(call, STAFF, lks, "start_document_check", now=now)
    step(call, STAFF, lks, "start_field_verification", now=now)
    call(approved_verification_visit, lks["id"], now=now)
    return step(call, STAFF, lks, "approve", now=now)


def test_forged_tampered_and_truncated_codes_are_refused(client, call, app, make_lks, as_role):
    lks = register(call, app, make_lks("LKSA Bintang"))
    as_role("staff")
    code, _url, _pdf = certificate(client, lks["id"])
    client.cookies.clear()
    swapped = code[:3] + code[4] + code[3] + code[5:] if code[3] != code[4] else code[:3] + "0" + code[4:]
    other_key = services.code_for(lks["certificate_number"], lks["registered_on"], secret_key="kunci-pemalsu")
    made_up = services.code_for("0001/TD-LKS/36.71/2026", lks["registered_on"] - timedelta(days=1))
    cases = {
        code[:-1]: "mistyped",  # truncated
        code[:5] + ("A" if code[5] != "A" else "B") + code[6:]: "mistyped",  # one character changed
        swapped: "mistyped",
        "<script>alert(1)</script>": "mistyped",
        "x" * 500: "mistyped",
        other_key: "not_genuine",  # well-formed, made with another key
        made_up: "not_genuine",  # the right key, but never issued
    }
    for token, expected in cases.items():
        body = client.get(f"/api/v1/public/verify/{token}").json()
        assert body == {**body, "genuine": False, "status": expected}, token
        assert "lks_name" not in body or body["lks_name"] is None
        page = client.get(f"/verify/{token}")
        assert page.status_code == 200, token
        assert "Tidak asli" in page.text and "LKSA Bintang" not in page.text
        assert "<script>alert(1)</script>" not in page.text


def test_the_verify_form_accepts_what_people_type(client, call, app, make_lks, as_role):
    lks = register(call, app, make_lks("LKSA Fajar"))
    as_role("staff")
    code, _url, _pdf = certificate(client, lks["id"])
    client.cookies.clear()
    typed = f" {code[:4].lower()} {code[4:8]}-{code[8:].lower()} ".replace("0", "o").replace("1", "l")
    redirect = client.get("/verify", params={"code": typed}, follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == f"/verify/{code}"
    wrong = client.get("/verify", params={"code": "ABC-123"})
    assert wrong.status_code == 422 and "Kode ini tidak sah" in wrong.text and 'aria-invalid="true"' in wrong.text
    assert "set-cookie" not in wrong.headers


# --- rate limit ----------------------------------------------------------------


@pytest.mark.parametrize("store", ["folder", "redis"])
def test_too_many_requests_get_429_with_a_translated_message(settings, store):
    from sigap.app import create_app

    limited = dataclasses.replace(settings, public_rate_limit=3)
    if store == "redis":
        from tests.sigap.test_sessions_redis import _redis_or_fail

        _redis_or_fail().flushdb()
        limited = dataclasses.replace(limited, redis_url=REDIS_URL)
    else:
        shutil.rmtree(settings.var_dir / "rate-limit", ignore_errors=True)
    with app_client(create_app(limited)) as (client, _call):
        for _ in range(3):
            assert client.get("/api/v1/public/lks").status_code == 200
        page = client.get("/register")
        assert page.status_code == 429
        assert "Terlalu banyak permintaan" in page.text and "set-cookie" not in page.headers
        assert int(page.headers["retry-after"]) > 0 and "public" not in page.headers.get("cache-control", "")
        api = client.get("/api/v1/public/verify/ABCD")
        assert api.status_code == 429 and api.json()["error"] == "throttled"
        assert api.json()["message"] == "Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi."
        assert "Too many requests" in client.get("/verify?lang=en").text
        # Without SIGAP_TRUST_PROXY a forwarded address is not believed.
        assert client.get("/register", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
        assert client.get("/lks").status_code != 429  # only the public pages are limited
    with app_client(create_app(dataclasses.replace(limited, trust_proxy_headers=True))) as (client, _call):
        assert client.get("/register", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200  # its own allowance
        assert client.get("/register").status_code == 429  # shared by every app (worker) on this store


# --- query counts --------------------------------------------------------------


def test_public_pages_query_budget(client, call, app, make_lks, as_role, count_queries):
    lks = register(call, app, make_lks("LKSA Hitung 000"))
    as_role("staff")
    code = certificate(client, lks["id"])[0]
    client.cookies.clear()
    for path in ("/register", "/register?q=hitung", f"/verify/{code}", "/api/v1/public/lks?q=hitung", f"/api/v1/public/verify/{code}"):
        client.get(path)  # warm: region names are cached per process
        count_queries.reset()
        assert client.get(path).status_code == 200
        few = len(count_queries)
        budget = 2 if "verify" in path else 4
        assert few <= budget, f"{path}: {few} statements:\n" + "\n".join(count_queries.statements)
    for i in range(1, 20):
        call(Lks.update({Lks.registration_status: "registered"}).where(Lks.id == make_lks(f"LKSA Hitung {i:03d}", kelurahan_code="36.71.04.1001")["id"]).run)
    for path in ("/register", "/register?q=hitung", "/api/v1/public/lks?q=hitung"):
        client.get(path)
        count_queries.reset()
        assert client.get(path).status_code == 200
        assert len(count_queries) <= 4, f"{path} with 20 LKS:\n" + "\n".join(count_queries.statements)


def test_a_suspended_lks_does_not_read_as_valid_on_the_register(client, call, app, make_lks):
    lks = make_lks("LKSA Sedang Ditangguhkan")
    register(call, app, lks)
    assert "berlaku sampai" in client.get("/register?q=ditangguhkan").text
    step(call, STAFF, lks, "suspend", reason="Sedang ditangani insiden.")
    html = client.get("/register?q=ditangguhkan").text
    assert "Ditangguhkan" in html and "tidak berlaku selama ditangguhkan" in html
    assert "berlaku sampai" not in html
