"""The office's own spreadsheet, imported as it is: title rows above the
header, the office's column names, a running number, blank and totals rows,
RT/RW and children by sex in one cell, every Indonesian date habit, Yay.,
Kec./Kel. and misspelt kelurahan, accreditation words, the same LKS twice.
XLSX and CSV (comma and semicolon, UTF-8 and Windows-1252), the mapping
page, the API, the caps on what a cell holds and a report repeats, and the
demo register exported and imported straight back."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from datetime import date, datetime, timezone

import openpyxl
import pytest

from registry import services
from registry.demo import load_registry_demo
from registry.tables import Lks, StatusChange
from registry.transfer import office, reading
from registry.transfer import services as transfer
from registry.transfer.tables import ImportMapping, StagedImport
from sigap.audit import Actor
from sigap.errors import ValidationError
from sigap.i18n import use_locale
from sigap.tables import Role
from tests.conftest import csrf_token, form, login

STAFF = Actor(user_id=None, username="test", role=Role.staff)
TITLE = ["DAFTAR LEMBAGA KESEJAHTERAAN SOSIAL (LKS) KOTA TANGERANG"]
SUBTITLE = ["Keadaan per November 2026"]
HEADER = [
    "NO", "NAMA LKS", "NAMA YAYASAN", "ALAMAT", "RT/RW", "KELURAHAN", "KECAMATAN", "JENIS", "NO. TELP / HP",
    "KETUA / PIMPINAN", "JML ANAK ASUH (L/P)", "MASA BERLAKU S.D.", "NO. TANDA DAFTAR", "AKREDITASI",
]
EXCEL_DATE = datetime(2030, 6, 30)  # a date cell in the XLSX, "30/06/2030" in the CSV
SERIAL = 47000  # an Excel serial number (2028-09-04), a number cell in the XLSX
DATA = [
    # row 5: everything in one cell, a Yay., a Kec. prefix, an Indonesian month name
    [1, "Panti Asuhan Kasih Bunda", "Yay. Kasih Bunda", "Jl. Melati No. 1", "003/005", "Kunciran Indah", "Kec. Pinang", "LKSA",
     "0812-3456-7890", "Ibu Sri", "12/9", "12 Januari 2030", "001/TD-LKS/2025", "A"],
    # row 6: Karangtengah for Karang Tengah, "8 / 7", a past day-first date ⇒ expired
    [2, "LKSA Harapan Bangsa", "Yayasan Harapan Bangsa", "Jl. Mawar 2", "3 / 5", "Karangtengah", "Karang Tengah", "LKSA",
     "021-5551234", "Bapak Ahmad", "8 / 7", "31/12/2024", "002/TD-LKS/2022", "B"],
    # row 7: L: 4, P: 6 for an elderly home, a date cell, "proses"
    [3, "Panti Werdha Sejahtera", "Yay Sejahtera", "Jl. Kenanga 3", "RT 01 RW 02", "Kel. Sudimara Pinang", "PINANG", "lansia",
     "", "Ibu Wati", "L: 4, P: 6", EXCEL_DATE, "003/TD-LKS/2025", "proses"],
    # row 8: a misspelt kelurahan, an ISO date, "Belum"
    [4, "LKSA Cahaya Hati", "Yayasan Cahaya Hati", "Jl. Anggrek 4", "004/006", "Kunciran Indh", "", "LKSA",
     "", "", "5/5", "2024-06-30", "004/TD-LKS/2021", "Belum"],
    # row 9: blank
    [None] * 14,
    # row 10: "12 Jan 2030", an unknown accreditation word
    [5, "LKSA Bina Insani", "Yayasan Bina Insani", "Jl. Dahlia 5", "005/001", "Cipete", "Pinang", "LKSA",
     "", "", "3/2", "12 Jan 2030", "005/TD-LKS/2025", "Unggul"],
    # row 11: 30 February: no date at all (column L)
    [6, "LKSA Tanggal Salah", "Yayasan Tanggal Salah", "Jl. Teratai 6", "006/002", "Cipete", "Pinang", "LKSA",
     "", "", "1/1", "30-02-2026", "006/TD-LKS/2025", "C"],
    # row 12: the same LKS as row 5, spelt otherwise
    [7, "PANTI ASUHAN KASIH BUNDA", "Yayasan Kasih Bunda", "Jl. Melati No. 1", "003/005", "kunciran indah", "Pinang", "LKSA",
     "", "", "12/9", "12 Januari 2030", "001/TD-LKS/2025", "A"],
    # row 13: an LKS of the register, in another kelurahan in the sheet
    [8, "Panti Asuhan Al Ikhlas", "Yayasan Al Ikhlas", "Jl. Flamboyan 8", "008/003", "Cikokol", "Tangerang", "LKSA",
     "", "", "4/4", "", "", ""],
    # row 14: an LKS of the register without a Tanda Daftar: the sheet's is taken; an Excel serial date
    [9, "LKSA Mekar Sari", "Yayasan Mekar Sari", "Jl. Cempaka 9", "009/004", "Cipete", "Pinang", "LKSA",
     "", "", "", SERIAL, "009/TD-LKS/2024", "C"],
    # row 15: 31-12-2025 (past), counts that are no counts
    [10, "LKSA Tunas Muda", "Yayasan Tunas Muda", "Jl. Seroja 10", "010/005", "Cipete", "Pinang", "LKSA",
     "", "", "banyak", "31-12-2025", "010/TD-LKS/2020", "B"],
    # row 16: totals
    ["JUMLAH", None, None, None, None, None, None, None, None, None, "33/25", None, None, None],
]
EXPECTED = {
    5: "create", 6: "create", 7: "create", 8: "create", 9: "skip", 10: "reject", 11: "reject", 12: "duplicate",
    13: "duplicate", 14: "update", 15: "reject", 16: "skip",
}


def now() -> datetime:
    return datetime.now(timezone.utc)


def register(call) -> dict[str, dict]:
    base = {"kind": "lksa", "yayasan_name": "Yayasan", "address": "Jl. A", "capacity": 30}
    ikhlas, _w = call(services.create_lks, STAFF, {**base, "name": "Panti Asuhan Al Ikhlas", "kelurahan_code": "36.71.11.1005"}, now=now())
    mekar, _w = call(
        services.create_lks, STAFF,
        {**base, "name": "LKSA Mekar Sari", "yayasan_name": "Yayasan Mekar Sari", "address": "Jl. Cempaka 9", "rt": "9", "rw": "4",
         "kelurahan_code": "36.71.11.1007"},
        now=now(),
    )
    return {"ikhlas": ikhlas, "mekar": mekar}


def office_xlsx(data=DATA) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (TITLE, SUBTITLE, [], HEADER, *data):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    return str(value)


def office_csv(data=DATA, delimiter=",", encoding="utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    for row in (TITLE, SUBTITLE, [], HEADER, *data):
        writer.writerow([_csv_value(v) for v in row])
    return buf.getvalue().encode(encoding)


def dry_run(call, content: bytes, mapping=None, locale="en"):
    async def run():
        with use_locale(locale):
            return await transfer.dry_run(STAFF, io.BytesIO(content), now=now(), mapping=mapping)

    return call(run)


def messages(result) -> list[tuple[str, str]]:
    return [(result.cell(column), text) for column, text in result.errors]


# --- the dry run ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        office_xlsx,
        lambda: office_csv(),
        lambda: office_csv(delimiter=";", encoding="cp1252"),
        lambda: office_csv(delimiter=";", encoding="utf-8"),
    ],
    ids=["xlsx", "csv-comma-utf8", "csv-semicolon-cp1252", "csv-semicolon-utf8"],
)
def test_the_office_sheet_row_by_row(call, make):
    people = register(call)
    before = call(Lks.select(Lks.id, Lks.version).order_by(Lks.id).run)
    report = dry_run(call, make())

    assert report.header_row == 4
    assert report.mapping["NAMA LKS"] == "nama" and report.mapping["NO"] == "" and report.mapping["RT/RW"] == "rt_rw"
    rows = {r.row: r for r in report.rows}
    assert {n: r.outcome for n, r in rows.items()} == EXPECTED
    assert report.counts == {"create": 4, "update": 1, "unchanged": 0, "skip": 2, "reject": 3, "duplicate": 2}

    kasih = rows[5].values
    assert kasih["name"] == "Panti Asuhan Kasih Bunda" and kasih["yayasan_name"] == "Yayasan Kasih Bunda"
    assert (kasih["rt"], kasih["rw"]) == ("003", "005") and kasih["kelurahan_code"] == "36.71.11.1005"
    assert kasih["residents"]["m_6_12"] == 12 and kasih["residents"]["f_6_12"] == 9
    assert kasih["phone"] == "081234567890"
    assert (kasih["registration_status"], kasih["valid_until"], kasih["certificate_number"]) == ("registered", "2030-01-12", "001/TD-LKS/2025")
    assert (kasih["accreditation_status"], kasih["accreditation_grade"]) == ("accredited", "A")

    harapan = rows[6]
    assert harapan.values["kelurahan_code"] == "36.71.12.1001" and harapan.values["registration_status"] == "expired"
    assert (harapan.values["rt"], harapan.values["rw"]) == ("003", "005") and harapan.values["residents"]["f_6_12"] == 7
    assert any("Karangtengah" in w and "Karang Tengah" in w and "36.71.12.1001" in w for w in harapan.warnings)

    werdha = rows[7].values
    assert werdha["kelurahan_code"] == "36.71.11.1002" and werdha["yayasan_name"] == "Yayasan Sejahtera"
    assert (werdha["rt"], werdha["rw"]) == ("001", "002") and werdha["residents"]["m_18"] == 4 and werdha["residents"]["f_18"] == 6
    assert werdha["valid_until"] == "2030-06-30" and werdha["accreditation_status"] == "in_process"

    cahaya = rows[8]
    assert cahaya.values["kelurahan_code"] == "36.71.11.1005" and any("Kunciran Indh" in w for w in cahaya.warnings)
    assert cahaya.values["valid_until"] == "2024-06-30" and cahaya.values["registration_status"] == "expired"
    assert cahaya.values["accreditation_status"] == "none"

    assert messages(rows[9]) == [("", "Blank row: skipped.")]
    assert messages(rows[10]) == [("N10", "Unknown accreditation “Unggul”: write A, B, C, Belum or proses.")]
    assert messages(rows[11]) == [("L11", "“30-02-2026” is not a date: write it as 31/12/2025, 12 Januari 2026 or 2025-12-31.")]
    assert "Row 5 of this file" in messages(rows[12])[0][1]
    assert f"number {people['ikhlas']['id']}" in messages(rows[13])[0][1] and "Kunciran Indah" in messages(rows[13])[0][1]
    mekar = rows[14]
    assert mekar.lks_id == people["mekar"]["id"]
    assert set(mekar.changes) == {"nomor_tanda_daftar", "berlaku_sampai", "akreditasi"}
    assert mekar.values["valid_until"] == "2028-09-04" and mekar.values["registration_status"] == "registered"
    assert [c for c, _m in messages(rows[15])] == ["K15"] and "banyak" in messages(rows[15])[0][1]
    assert messages(rows[16]) == [("", "Totals row (JUMLAH / TOTAL): skipped.")]
    assert any("row 4" in n for n in report.notes)

    assert call(Lks.select(Lks.id, Lks.version).order_by(Lks.id).run) == before  # a dry run changes nothing


def test_reasons_in_indonesian_name_the_cell(call):
    report = dry_run(call, office_xlsx(), locale="id")
    rows = {r.row: r for r in report.rows}
    cell, text = messages(rows[11])[0]
    assert cell == "L11" and "30-02-2026" in text and "bukan tanggal" in text
    assert messages(rows[16])[0][1] == "Baris jumlah (JUMLAH / TOTAL): dilewati."


def test_commit_writes_the_status_and_accreditation_once(call):
    people = register(call)
    report = call(transfer.commit, STAFF, io.BytesIO(office_xlsx()), now=now())
    assert report.committed and report.counts["create"] == 4 and report.counts["update"] == 1
    by_name = {r["name"]: r for r in call(Lks.select().run)}
    assert len(by_name) == 6  # two registered + four new; no second Kasih Bunda, no second Al Ikhlas
    kasih = by_name["Panti Asuhan Kasih Bunda"]
    assert (kasih["registration_status"], kasih["certificate_number"], kasih["valid_until"]) == ("registered", "001/TD-LKS/2025", date(2030, 1, 12))
    assert (kasih["accreditation_status"], kasih["accreditation_grade"], kasih["rt"], kasih["rw"]) == ("accredited", "A", "003", "005")
    assert by_name["LKSA Harapan Bangsa"]["registration_status"] == "expired"
    mekar = by_name["LKSA Mekar Sari"]
    assert mekar["id"] == people["mekar"]["id"] and mekar["certificate_number"] == "009/TD-LKS/2024"
    assert mekar["registration_status"] == "registered" and mekar["accreditation_grade"] == "C"
    history = call(StatusChange.select().where(StatusChange.lks == mekar["id"]).run)
    assert [(h["from_status"], h["to_status"], h["action"]) for h in history] == [("unregistered", "registered", "import")]
    # The same sheet again: what was applied is unchanged now.
    again = dry_run(call, office_xlsx())
    assert {r.row: r.outcome for r in again.rows if r.row in (5, 6, 7, 8, 14)} == dict.fromkeys((5, 6, 7, 8, 14), "unchanged")


def test_a_registered_lks_keeps_its_own_tanda_daftar(call):
    row, _w = call(
        services.create_lks, STAFF,
        {"name": "LKSA Mekar Sari", "kind": "lksa", "yayasan_name": "Yayasan Mekar Sari", "address": "Jl. Cempaka 9", "rt": "9", "rw": "4",
         "kelurahan_code": "36.71.11.1007"},
        now=now(),
    )
    call(Lks.update({Lks.registration_status: "registered", Lks.certificate_number: "TD-SIGAP-1", Lks.valid_until: date(2029, 1, 1)}).where(Lks.id == row["id"]).run)
    report = dry_run(call, office_xlsx([DATA[9]]))
    result = report.rows[0]
    assert result.outcome == "update" and result.changes == ["akreditasi"]
    assert any("TD-SIGAP-1" in w for w in result.warnings)


# --- mapping -------------------------------------------------------------------------


def test_a_changed_mapping_is_used_and_remembered_for_the_same_header(call, app):
    content = office_csv()
    report = dry_run(call, content)
    mapping = dict(report.mapping)
    mapping["ALAMAT"] = ""  # staff leave the address out
    storage = app.state.storage
    _sheet, token = call(transfer.stage_upload, STAFF, content, storage=storage, now=now())
    confirmed = call(transfer.confirm_mapping, STAFF, token, mapping, storage=storage, now=now())
    assert confirmed.mapping["ALAMAT"] == "" and "address" not in {k for r in confirmed.rows for k in r.values if r.values.get("address")}
    # Next file, same header in other case and spacing: offered the same mapping.
    other = content.replace(b"NAMA LKS", b"Nama  LKS").replace(b"KELURAHAN", b"Kelurahan")
    sheet = call(transfer.read_sheet, STAFF, io.BytesIO(other))
    proposal = call(transfer.propose, sheet)
    assert proposal.remembered and proposal.mapping["ALAMAT"] == "" and proposal.mapping["Nama LKS"] == "nama"
    assert call(ImportMapping.count().run) == 1


def test_a_mapping_without_the_required_fields_is_refused_with_the_reason(call):
    mapping = {h: office.target_of(h) or "" for h in HEADER}
    mapping["NAMA LKS"] = ""
    with pytest.raises(ValidationError) as err:
        dry_run(call, office_xlsx(), mapping=mapping)
    assert "Required columns are missing: nama." in err.value.message
    mapping["NAMA LKS"] = "nama"
    mapping["NAMA YAYASAN"] = "nama"
    with pytest.raises(ValidationError) as err:
        dry_run(call, office_xlsx(), mapping=mapping)
    assert "NAMA YAYASAN" in err.value.fields


def test_header_found_below_title_rows_and_template_words_still_work():
    sheet = reading.Sheet("csv", [(1, ["Judul"]), (2, []), (3, ["nama", "jenis", "kode_kelurahan"]), (4, ["LKSA A", "LKSA", "36.71.11.1005"])])
    assert sheet.headers() == (3, ["nama", "jenis", "kode_kelurahan"])
    table = reading.to_table(sheet)
    assert table.rows == [(4, {"nama": "LKSA A", "jenis": "LKSA", "kode_kelurahan": "36.71.11.1005"})] and table.cell(4, "jenis") == "B4"


# --- caps ----------------------------------------------------------------------------


def test_an_overlong_cell_rejects_its_row_and_is_not_echoed(call):
    data = [list(DATA[0])]
    data[0][3] = "Jl. " + "Panjang " * 2000  # 16 000 characters of address
    report = dry_run(call, office_xlsx(data))
    result = report.rows[0]
    assert result.outcome == "reject"
    assert messages(result) == [("D5", "This cell holds 16.003 characters; at most 1000 are read. Shorten it.")]
    assert sum(len(str(v)) for v in result.values.values()) < 2000


def test_a_huge_cell_is_refused_quickly_in_xlsx_and_csv(call):
    # 100 MB of text in one cell compresses to a small XLSX: the unpacked size decides.
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(office_xlsx()), "r") as source, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/padding.xml", b"A" * (100 * 1024 * 1024))
    content = buf.getvalue()
    assert len(content) < 1024 * 1024
    started = time.monotonic()
    with pytest.raises(ValidationError) as err:
        dry_run(call, content)
    assert time.monotonic() - started < 5
    assert "unpacks to more than 80 MB" in err.value.message and len(err.value.message) < 300
    # A CSV cell beyond the csv module's limit: the row is named, the cell is not repeated.
    big = b"nama,jenis,kelurahan\nLKSA A,LKSA,\"" + b"x" * 200_000 + b"\"\n"
    with pytest.raises(ValidationError) as err:
        dry_run(call, big)
    assert "Row 2" in err.value.message and len(err.value.message) < 300


# --- the demo register, exported and imported straight back ---------------------------


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_the_demo_register_exported_imports_as_unchanged(client, call, make_user, app, extension):
    call(load_registry_demo, now=now(), storage=app.state.storage)
    count = call(Lks.count().run)
    assert count > 70
    make_user("rina", "staff")
    login(client, "rina")
    response = client.get(f"/lks/export.{extension}")
    assert response.status_code == 200
    report = dry_run(call, response.content)
    assert report.counts["unchanged"] == count, [(r.row, r.outcome, r.changes, r.errors) for r in report.rows if r.outcome != "unchanged"][:5]


# --- pages -----------------------------------------------------------------------------


def test_upload_mapping_dry_run_commit_pages(client, call, make_user):
    register(call)
    make_user("rina", "staff")
    login(client, "rina")
    page = client.post(
        "/lks/import", files={"file": ("daftar lks.xlsx", office_xlsx(), "application/octet-stream")}, data={"_csrf_token": csrf_token(client)}
    )
    assert page.status_code == 200, page.text
    assert "Kolom mana berisi apa" in page.text and "ditemukan pada baris 4" in page.text
    chosen = dict(re.findall(r'<tr data-header="([^"]+)"[^>]*>.*?data-chosen="([^"]*)"', page.text, re.S))
    assert chosen["NAMA LKS"] == "nama" and chosen["JML ANAK ASUH (L/P)"] == "anak_l_p" and chosen["NO"] == ""
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page.text).group(1)
    fields = {f"col-{i}": office.target_of(h) or "" for i, h in enumerate(HEADER)}
    checked = form(client, "/lks/import/mapping", {"token": token, "filename": "daftar lks.xlsx", **fields})
    assert checked.status_code == 200, checked.text
    outcomes = dict((int(n), o) for n, o in re.findall(r'data-row="(\d+)" data-outcome="(\w+)"', checked.text))
    assert outcomes == EXPECTED
    assert 'data-cell="L11"' in checked.text
    done = form(client, "/lks/import/commit", {"token": token})
    assert done.status_code == 200 and call(Lks.count().run) == 6
    again = form(client, "/lks/import/commit", {"token": token})
    assert again.status_code == 409 and call(Lks.count().run) == 6


def test_a_mapping_page_error_sits_next_to_the_column(client, call, make_user):
    make_user("rina", "staff")
    login(client, "rina")
    page = client.post("/lks/import", files={"file": ("a.csv", office_csv(), "text/csv")}, data={"_csrf_token": csrf_token(client)})
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page.text).group(1)
    fields = {f"col-{i}": office.target_of(h) or "" for i, h in enumerate(HEADER)}
    fields["col-2"] = "nama"  # NAMA YAYASAN as the name too
    again = form(client, "/lks/import/mapping", {"token": token, **fields})
    assert again.status_code == 422
    assert re.search(r'<tr data-header="NAMA YAYASAN" class="has-error">', again.text)


# --- API -------------------------------------------------------------------------------


def test_api_dry_run_json_and_commit_once(client, call, make_user):
    register(call)
    make_user("rina", "staff")
    login(client, "rina")
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.post("/api/v1/lks/imports", files={"file": ("lks.csv", office_csv(delimiter=";", encoding="cp1252"), "text/csv")}, headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) >= {"id", "header_row", "mapping", "rows", "summary"}
    assert body["header_row"] == 4 and body["mapping"]["KELURAHAN"] == "kelurahan"
    assert {row["row"]: row["action"] for row in body["rows"]} == EXPECTED
    assert body["summary"] == {"create": 4, "update": 1, "unchanged": 0, "skip": 2, "reject": 3, "duplicate": 2}
    row11 = next(row for row in body["rows"] if row["row"] == 11)
    assert row11["messages"][0]["cell"] == "L11" and set(row11["messages"][0]) == {"cell", "message"}
    row5 = next(row for row in body["rows"] if row["row"] == 5)
    assert row5["values"]["kelurahan"] == "Kunciran Indah" and row5["values"]["kecamatan"] == "Pinang"
    assert call(Lks.count().run) == 2

    done = client.post(f"/api/v1/lks/imports/{body['id']}/commit", headers=h)
    assert done.status_code == 200 and done.json()["summary"]["create"] == 4
    assert call(Lks.count().run) == 6
    # The sheet's accreditation became real accreditation records (the LKS
    # row's fields follow them): the board counts what the LKS pages show.
    from accreditation.cycles.tables import Cycle

    cycles = call(Cycle.select(Cycle.lks.name, Cycle.stage, Cycle.grade).order_by(Cycle.id).run)
    lks = {r["id"]: r for r in call(Lks.select(Lks.id, Lks.accreditation_status, Lks.accreditation_grade).run)}
    by_name = {c["lks.name"]: (c["stage"], c["grade"]) for c in cycles}
    assert by_name["Panti Asuhan Kasih Bunda"] == ("accredited", "A") and by_name["Panti Werdha Sejahtera"][0] == "preparing"
    assert sum(1 for r in lks.values() if r["accreditation_status"] != "none") == len(cycles)
    again = client.post(f"/api/v1/lks/imports/{body['id']}/commit", headers=h)
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert call(Lks.count().run) == 6
    unknown = client.post(f"/api/v1/lks/imports/{'0' * 32}/commit", headers=h)
    assert unknown.status_code == 404


def test_api_with_a_given_mapping_and_bad_input(client, call, make_user):
    make_user("rina", "staff")
    login(client, "rina")
    h = {"X-CSRFToken": csrf_token(client)}
    mapping = {h_: office.target_of(h_) or "" for h_ in HEADER}
    mapping["AKREDITASI"] = ""
    r = client.post("/api/v1/lks/imports", files={"file": ("lks.xlsx", office_xlsx(), "application/octet-stream")}, data={"mapping": json.dumps(mapping)}, headers=h)
    assert r.status_code == 201 and r.json()["mapping"]["AKREDITASI"] == ""
    assert next(row for row in r.json()["rows"] if row["row"] == 10)["action"] == "create"  # "Unggul" no longer read
    bad = client.post("/api/v1/lks/imports", files={"file": ("lks.xlsx", office_xlsx(), "application/octet-stream")}, data={"mapping": "[1]"}, headers=h)
    assert bad.status_code == 422 and "mapping" in bad.json()["fields"]
    pdf = client.post("/api/v1/lks/imports", files={"file": ("a.pdf", b"%PDF-1.4 x", "application/pdf")}, headers=h)
    assert pdf.status_code == 422 and "file" in pdf.json()["fields"]
    nofile = client.post("/api/v1/lks/imports", data={"mapping": "{}"}, headers=h)
    assert nofile.status_code in (400, 422)
    assert call(StagedImport.count().where(StagedImport.claimed_at.is_not_null()).run) == 0


@pytest.mark.parametrize("role", ["manager", "inspector", "partner"])
def test_api_is_staff_only(client, as_role, role):
    as_role(role)
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.post("/api/v1/lks/imports", files={"file": ("lks.csv", office_csv(), "text/csv")}, headers=h)
    assert r.status_code == 403
    assert client.post(f"/api/v1/lks/imports/{'0' * 32}/commit", headers=h).status_code == 403


# --- query counts ------------------------------------------------------------------


def _many(n: int) -> list[list]:
    return [
        [i, f"LKSA Nomor {i}", f"Yayasan Nomor {i}", "Jl. A", "001/002", "Cipete", "Pinang", "LKSA", "", "", "3/2", "12 Januari 2030", f"{i}/TD", "A"]
        for i in range(1, n + 1)
    ]


def test_import_pages_queries_are_bounded(client, call, make_user, count_queries):
    make_user("rina", "staff")
    login(client, "rina")
    counts = {}
    for n in (5, 40):
        count_queries.reset()
        page = client.post("/lks/import", files={"file": ("a.xlsx", office_xlsx(_many(n)), "application/octet-stream")}, data={"_csrf_token": csrf_token(client)})
        assert page.status_code == 200
        mapping_queries = len(count_queries)
        token = re.search(r'name="token" value="([0-9a-f]{32})"', page.text).group(1)
        fields = {f"col-{i}": office.target_of(h) or "" for i, h in enumerate(HEADER)}
        count_queries.reset()
        assert form(client, "/lks/import/mapping", {"token": token, **fields}).status_code == 200
        counts[n] = (mapping_queries, len(count_queries))
    # The mapping page does not grow with the rows; the dry run by one
    # statement a row at most (services.check_fields looks the kelurahan up).
    print("query counts (mapping page, dry run):", counts)
    assert counts[5][0] == counts[40][0] <= 10, counts
    assert counts[40][1] - counts[5][1] <= 35 and counts[5][1] <= 25, counts
