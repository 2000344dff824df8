"""LKS records: validation, create, edit with versions, search and filters."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from registry import risk_cache, search, services
from registry.tables import Lks
from sigap.audit import Actor
from sigap.errors import Conflict, Forbidden, ValidationError
from sigap.tables import AuditEvent, Role
from tests.conftest import LKS_DEFAULTS, csrf_token, form, login

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)


def now():
    return datetime.now(timezone.utc)


def fields_of(call, data) -> dict[str, str]:
    with pytest.raises(ValidationError) as err:
        call(services.create_lks, STAFF, {**LKS_DEFAULTS, "name": "LKSA Uji", **data}, now=now())
    return err.value.fields


def test_validation_messages_in_indonesian(call):
    cases = {
        "npwp": ({"npwp": "12.345.678"}, "NPWP"),
        "phone": ({"phone": "12345"}, "nomor telepon"),
        "latitude": ({"latitude": "-7.80", "longitude": "110.36"}, "di luar wilayah"),
        "longitude": ({"latitude": "-6.2"}, "Isi lintang dan bujur"),
        "capacity": ({"capacity": "-1"}, "atau lebih"),
        "residents_f_6_12": ({"residents": {"f_6_12": "-2"}}, "atau lebih"),
        "staff_caregivers": ({"staff_caregivers": "dua"}, "bilangan bulat"),
        "kelurahan_code": ({"kelurahan_code": "32.73.01.1001"}, "kelurahan di wilayah ini"),
        "name": ({"name": "X"}, "nama LKS"),
        "kind": ({"kind": "panti"}, "jenis LKS"),
        "yayasan_name": ({"yayasan_name": ""}, "nama yayasan"),
        "email": ({"email": "bukan-surel"}, "alamat surel"),
        "rt": ({"rt": "12a"}, "3 angka"),
        "akta_date": ({"akta_date": "2999-01-01"}, "masa depan"),
        "services": ({"services": ["terbang"]}, "terbang"),
    }
    for field, (data, text) in cases.items():
        errors = fields_of(call, data)
        assert field in errors, (field, errors)
        assert text.lower() in errors[field].lower(), (field, errors[field])
    assert call(Lks.count().run) == 0


def test_odd_values_get_a_message_and_store_nothing(call):
    """Control characters, overlong text and wrong JSON types are refused
    next to their field; nothing is stored and nothing is cut."""
    cases = {
        "name": ({"name": "LKSA \x01 Kasih"}, "karakter kontrol"),
        "head_name": ({"head_name": "Ibu \x1b Sri"}, "karakter kontrol"),
        "address": ({"address": "Jl. " + "Melati " * 80}, "paling banyak 500"),
        "yayasan_name": ({"yayasan_name": "Y" * 201}, "paling banyak 200"),
        "capacity": ({"capacity": 10**20}, "atau kurang"),
        "staff_other": ({"staff_other": 1.5}, "bilangan bulat"),
        "residents": ({"residents": [1, 2]}, "kelompok umur"),
        "services": ({"services": [{}]}, "daftar"),
    }
    for field, (data, text) in cases.items():
        errors = fields_of(call, data)
        assert field in errors, (field, errors)
        assert text.lower() in errors[field].lower(), (field, errors[field])
    assert fields_of(call, {"services": 5}).keys() == {"services"}
    assert fields_of(call, {"residents": 5}).keys() == {"residents"}
    assert call(Lks.count().run) == 0


def test_valid_npwp_phone_coordinates_are_normalized(call):
    row, warnings = call(
        services.create_lks,
        STAFF,
        {**LKS_DEFAULTS, "name": "  LKSA   Kasih  ", "npwp": "01.234.567.8-901.000", "phone": "0812-3456 7890",
         "latitude": "-6,2251", "longitude": "106.6824", "rt": "1", "services": ["education", "residential_care"]},
        now=now(),
    )
    assert row["name"] == "LKSA Kasih" and row["npwp"] == "012345678901000" and row["phone"] == "081234567890"
    assert row["latitude"] == pytest.approx(-6.2251) and row["rt"] == "001"
    assert row["kecamatan_code"] == "36.71.11"  # from the kelurahan
    assert row["services"] == ["residential_care", "education"]
    assert warnings == []


def test_not_a_legal_entity_needs_no_foundation(call):
    row, _w = call(services.create_lks, STAFF, {**LKS_DEFAULTS, "name": "Rumah Singgah", "legal_entity": False, "yayasan_name": ""}, now=now())
    assert row["legal_entity"] is False


def test_residents_over_capacity_is_a_warning_not_an_error(call):
    row, warnings = call(
        services.create_lks, STAFF, {**LKS_DEFAULTS, "name": "LKSA Penuh", "capacity": 10, "residents": {"m_6_12": 8, "f_6_12": 5}}, now=now()
    )
    assert row["residents_total"] == 13
    assert warnings and "13" in warnings[0] and "10" in warnings[0]


def test_only_staff_create(call, make_lks):
    lks = make_lks()
    manager = Actor(user_id=1, username="m", role=Role.manager, lks_id=lks["id"])
    with pytest.raises(Forbidden):
        call(services.create_lks, manager, {**LKS_DEFAULTS, "name": "LKSA Lain"}, now=now())


def test_stale_patch_gets_409_and_changes_nothing(client, make_user, make_lks):
    make_user("petugas", "staff")
    lks = make_lks("LKSA Versi")
    login(client, "petugas")
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.patch(f"/api/v1/lks/{lks['id']}", json={"version": lks["version"], "capacity": 40}, headers=h)
    assert r.status_code == 200 and r.json()["version"] == lks["version"] + 1 and r.json()["capacity"] == 40
    r = client.patch(f"/api/v1/lks/{lks['id']}", json={"version": lks["version"], "capacity": 99}, headers=h)
    assert r.status_code == 409
    assert r.json()["error"] == "conflict" and "diubah oleh orang lain" in r.json()["message"]
    assert client.get(f"/api/v1/lks/{lks['id']}").json()["capacity"] == 40
    r = client.patch(f"/api/v1/lks/{lks['id']}", json={"capacity": 50}, headers=h)
    assert r.status_code == 422 and "version" in r.json()["fields"]
    r = client.patch(f"/api/v1/lks/{lks['id']}", json={"version": lks["version"] + 1, "registration_status": "registered"}, headers=h)
    assert r.status_code == 422  # statuses move only through the workflow


def test_edit_form_with_stale_version_shows_conflict(client, make_user, make_lks, call):
    make_user("petugas", "staff")
    lks = make_lks("LKSA Formulir")
    login(client, "petugas")
    page = client.get(f"/lks/{lks['id']}/edit")
    assert page.status_code == 200 and f'name="version" value="{lks["version"]}"' in page.text
    data = {"version": str(lks["version"]), "name": "LKSA Formulir Baru", "kind": "lksa", "legal_entity_present": "1", "legal_entity": "1",
            "yayasan_name": "Yayasan Uji Coba", "kelurahan_code": "36.71.11.1005", "capacity": "30", "services_present": "1"}
    assert form(client, f"/lks/{lks['id']}/edit", data).status_code == 303
    r = form(client, f"/lks/{lks['id']}/edit", {**data, "name": "Tertimpa"})
    assert r.status_code == 409 and "diubah oleh orang lain" in r.text
    assert call(Lks.select(Lks.name).where(Lks.id == lks["id"]).first().run)["name"] == "LKSA Formulir Baru"


def test_every_change_is_audited_with_before_and_after(call, make_lks):
    lks = make_lks("LKSA Audit")
    call(services.update_lks, STAFF, lks["id"], {"capacity": 45, "phone": "021-5551234"}, version=lks["version"], now=now())
    rows = call(AuditEvent.select().where(AuditEvent.entity_type == "lks").order_by(AuditEvent.id).run)
    assert [r["action"] for r in rows] == ["lks.create", "lks.update"]
    import json

    after = json.loads(rows[1]["after"])
    assert after == {"capacity": 45, "phone": "0215551234", "version": lks["version"] + 1, "updated_at": after["updated_at"]}


def test_concurrent_edits_one_wins(call, make_lks):
    import asyncio

    lks = make_lks("LKSA Rebutan")

    async def both():
        return await asyncio.gather(
            *(services.update_lks(STAFF, lks["id"], {"capacity": 30 + i}, version=lks["version"], now=now()) for i in range(10)),
            return_exceptions=True,
        )

    results = call(both)
    assert sum(1 for r in results if isinstance(r, tuple)) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, tuple))


# --- lists -------------------------------------------------------------------


@pytest.fixture
def register(make_lks):
    make_lks("Panti Asuhan Kasih Bunda", yayasan_name="Yayasan Bunda Sejahtera")
    make_lks("LKSA Cahaya Hati", kelurahan_code="36.71.05.1001", address="Jl. Kenanga 5")
    make_lks("Panti Werdha Mulia", kind="elderly", yayasan_name="Yayasan Lansia Mulia", kelurahan_code="36.71.06.1001")
    make_lks("Rumah Disabilitas Ceria", kind="disability", address="Jl. Sétiabudi 7")
    make_lks("Panti Asuhan Nur Ilahi", kelurahan_code="36.71.05.1002")


def names(client, query: str) -> list[str]:
    r = client.get(f"/api/v1/lks?{query}")
    assert r.status_code == 200, r.text
    return [item["name"] for item in r.json()["items"]]


def test_search_is_case_and_accent_insensitive(client, make_user, register):
    make_user("petugas", "staff")
    login(client, "petugas")
    assert names(client, "q=kasih") == ["Panti Asuhan Kasih Bunda"]
    assert names(client, "q=BUNDA%20sejahtera") == ["Panti Asuhan Kasih Bunda"]  # name + yayasan
    assert names(client, "q=setiabudi") == ["Rumah Disabilitas Ceria"]  # accent in the data
    assert names(client, "q=c%C3%A9ria") == ["Rumah Disabilitas Ceria"]  # accent in the query
    assert names(client, "q=kenanga") == ["LKSA Cahaya Hati"]  # address


def test_list_totals_match_the_rows_for_searches_and_filters(client, make_user, register, make_lks):
    """The total a list shows (counted another way than the page on SQLite:
    in the search index alone, or through the count indexes) is the number
    of LKS the pages hold, with a search, a filter, both, or a closed LKS."""
    make_lks("Panti Asuhan Kasih Ibu", kelurahan_code="36.71.05.1001")
    make_lks("Panti Asuhan Kasih Tutup", registration_status="closed")
    make_user("petugas", "staff")
    login(client, "petugas")
    for query in ("q=kasih", "q=panti%20asuhan", "q=kasih&kecamatan=36.71.05", "kecamatan=36.71.05&kind=lksa",
                  "q=panti&kind=elderly", "q=zz", "registration_status=closed", "documents_missing=1&q=asuhan"):
        body = client.get(f"/api/v1/lks?{query}&per_page=100").json()
        assert body["total"] == len(body["items"]), query
    assert client.get("/api/v1/lks?q=kasih").json()["total"] == 3


def test_a_search_counts_the_same_on_every_page_and_past_the_last(client, make_user, register, make_lks):
    """A search's total (on PostgreSQL counted with the page, in one read)
    is the same on each page and on a page past the last, which is empty
    and says how many there are; the count is not an item field."""
    for n in range(4):
        make_lks(f"Panti Kasih Nomor {n}")
    make_user("petugas", "staff")
    login(client, "petugas")
    pages = [client.get(f"/api/v1/lks?q=kasih&per_page=25&page={p}").json() for p in (1, 2, 9)]
    assert [p["total"] for p in pages] == [5, 5, 5]  # four + Panti Asuhan Kasih Bunda
    assert [len(p["items"]) for p in pages] == [5, 0, 0]
    assert all("matches" not in item for item in pages[0]["items"])
    assert pages[2]["pages"] == 1
    assert client.get("/lks?q=kasih&page=9").status_code == 200


def test_a_search_with_many_matches_pages_as_one_with_few(client, make_user, register, make_lks, monkeypatch):
    """Past SORT_FETCHED_UP_TO matches a search's page walks the sort's index
    (SQLite) instead of sorting the fetched matches: the same LKS, in the
    same order, on every page and sort, with or without a filter."""
    for n, kind in enumerate(["lksa", "elderly", "lksa", "disability", "lksa", "elderly", "lksa"]):
        make_lks(f"Panti Kasih {chr(90 - n)} {n}", kind=kind)
    make_user("petugas", "staff")
    login(client, "petugas")
    queries = [f"q=kasih&per_page=25&page={p}&sort={s}" for p in (1, 2) for s in ("name", "-name", "updated", "valid_until", "status", "kecamatan")]
    queries += ["q=kasih&kind=lksa", "q=kasih&kind=elderly&sort=-name", "q=panti%20kasih", "q=kasih%20z"]
    # Read in order at once (a short word or another filter), on every sort and a second page.
    queries += [f"q=kasih%20{w}&per_page=25&page={p}&sort={s}" for w in ("z", "u") for p in (1, 2)
                for s in ("name", "-name", "updated", "valid_until", "status", "kecamatan")]
    fetched = {q: client.get(f"/api/v1/lks?{q}").json() for q in queries}
    monkeypatch.setattr(search, "SORT_FETCHED_UP_TO", 0)
    for q in queries:
        assert client.get(f"/api/v1/lks?{q}").json() == fetched[q], q
    assert [i["name"] for i in fetched["q=kasih&kind=elderly&sort=-name"]["items"]] == ["Panti Kasih Y 1", "Panti Kasih U 5"]


def test_search_takes_percent_and_underscore_literally(client, make_user, register, make_lks):
    """``%`` and ``_`` are what the user typed, not wildcards that match
    everything (short words go through LIKE on both databases)."""
    make_lks("Rumah 100% Ceria_Anak")
    make_user("petugas", "staff")
    login(client, "petugas")
    assert names(client, "q=%25") == ["Rumah 100% Ceria_Anak"]
    assert names(client, "q=_") == ["Rumah 100% Ceria_Anak"]
    assert names(client, "q=a_a") == ["Rumah 100% Ceria_Anak"]
    assert names(client, "q=a%25a") == []
    assert names(client, "q=%5C") == []  # a lone backslash is a character too


def test_filters_sort_and_pages(client, make_user, register, call, make_lks):
    make_user("petugas", "staff")
    login(client, "petugas")
    assert names(client, "kecamatan=36.71.05") == ["LKSA Cahaya Hati", "Panti Asuhan Nur Ilahi"]
    assert names(client, "kind=elderly") == ["Panti Werdha Mulia"]
    assert names(client, "kecamatan=36.71.05&sort=-name") == ["Panti Asuhan Nur Ilahi", "LKSA Cahaya Hati"]
    assert names(client, "kelurahan=36.71.05.1002") == ["Panti Asuhan Nur Ilahi"]
    assert names(client, "documents_missing=1&kind=disability") == ["Rumah Disabilitas Ceria"]
    assert names(client, "registration_status=registered") == []
    call(Lks.update({Lks.open_incident: True}).where(Lks.name == "Panti Werdha Mulia").run)
    werdha = call(Lks.select(Lks.id).where(Lks.name == "Panti Werdha Mulia").first().run)["id"]
    call(risk_cache.set_level, werdha, "high")  # what joint monitoring's assessment writes
    assert names(client, "open_incident=1") == ["Panti Werdha Mulia"]
    assert names(client, "risk_level=high") == ["Panti Werdha Mulia"]
    # Counted in the risk table alone, or with the LKS's other filters: the same LKS.
    assert client.get("/api/v1/lks?risk_level=high").json()["total"] == 1
    assert client.get("/api/v1/lks?risk_level=high&kind=elderly").json()["total"] == 1
    assert names(client, "risk_level=high&kind=lksa") == [] and names(client, "risk_level=medium") == []
    assert client.get("/api/v1/lks?risk_level=high&kind=lksa").json()["total"] == 0
    page1 = client.get("/api/v1/lks?per_page=25&page=1").json()
    assert page1["total"] == 5 and page1["pages"] == 1
    for i in range(30):
        make_lks(f"LKSA Banyak {i:02d}")
    p2 = client.get("/api/v1/lks?q=banyak&per_page=25&page=2").json()
    assert p2["total"] == 30 and p2["pages"] == 2 and [i["name"] for i in p2["items"]] == [f"LKSA Banyak {i:02d}" for i in range(25, 30)]
    assert client.get("/api/v1/lks?per_page=1000").status_code == 400


def test_list_page_shows_flags_and_filters(client, make_user, register, call):
    make_user("petugas", "staff")
    login(client, "petugas")
    call(Lks.update({Lks.open_incident: True}).where(Lks.name == "Panti Werdha Mulia").run)
    page = client.get("/lks?kind=elderly")
    assert page.status_code == 200
    assert "Panti Werdha Mulia" in page.text and "Panti Asuhan Kasih Bunda" not in page.text
    assert "Kasus terbuka" in page.text or "Insiden terbuka" in page.text
