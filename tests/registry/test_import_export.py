"""Import of the office's spreadsheet (dry run, then commit) and export of the
filtered register as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pytest

from registry import services
from registry.tables import Lks
from registry.transfer import columns, export, planning, reading, staging
from registry.transfer import services as transfer
from sigap.audit import Actor
from sigap.errors import Forbidden, ValidationError
from sigap.i18n import WIB, use_locale
from sigap.storage import LocalStorage
from sigap.tables import AuditEvent, Role
from tests.conftest import csrf_token, form, login

STAFF = Actor(user_id=None, username="test", role=Role.staff)
BASE = {
    "kind": "lksa",
    "legal_entity": True,
    "yayasan_name": "Yayasan Uji Coba",
    "address": "Jl. Melati No. 1",
    "rt": "001",
    "rw": "002",
    "kelurahan_code": "36.71.11.1005",  # Kunciran Indah, Pinang
    "capacity": 30,
}


def now() -> datetime:
    return datetime.now(timezone.utc)


def make(call, name: str, **fields) -> dict:
    row, _warnings = call(services.create_lks, STAFF, {**BASE, "name": name, **fields}, now=now())
    return row


def existing_home(call) -> dict:
    return make(
        call,
        "Panti Asuhan Kasih Ibu",
        yayasan_name="Yayasan Kasih Ibu",
        phone="021-5550000",
        residents={"m_6_12": 10, "f_6_12": 12},
        services=["residential_care"],
    )


HEADER = [
    "nama", "jenis", "badan_hukum", "nama_yayasan", "npwp", "alamat", "rt", "rw", "kode_kelurahan", "kelurahan",
    "kapasitas", "penghuni_l_6_12", "penghuni_p_6_12", "telepon", "layanan",
]
ROWS = [
    # 2: new, kelurahan by name (case-insensitive), services by code
    ["Panti Werdha Sejahtera", "lansia", "ya", "Yayasan Sejahtera", "01.234.567.8-901.000", "Jl. Mawar 2", "1", "2", "",
     "KUNCIRAN  indah", "20", "0", "0", "021-5551234", "residential_care, health"],
    # 3: bad NPWP
    ["LKSA Salah NPWP", "LKSA", "ya", "Yayasan A", "12345", "Jl. A", "1", "1", "36.71.11.1005", "", "10", "", "", "", ""],
    # 4: unknown kelurahan
    ["LKSA Tanpa Wilayah", "LKSA", "ya", "Yayasan B", "", "Jl. B", "1", "1", "", "Atlantis", "10", "", "", "", ""],
    # 5: negative count
    ["LKSA Angka Negatif", "LKSA", "ya", "Yayasan C", "", "Jl. C", "1", "1", "36.71.11.1005", "", "-5", "", "", "", ""],
    # 6: the same LKS as row 2 (accents and case differ, kelurahan by code)
    ["PANTI WERDHA SÉJAHTERA", "lansia", "ya", "Yayasan Sejahtera", "", "Jl. Mawar 2", "1", "2", "36.71.11.1005", "",
     "20", "", "", "", ""],
    # 7: a registered LKS (by name + kelurahan): only the phone differs
    ["panti asuhan kasih ibu", "LKSA", "ya", "Yayasan Kasih Ibu", "", "Jl. Melati No. 1", "001", "002", "36.71.11.1005",
     "Kunciran Indah", "30", "10", "12", "0812 3456 7890", "residential_care"],
    # 8: new, not a legal entity, more residents than capacity (a warning)
    ["Rumah Singgah Harapan", "rehabilitasi", "tidak", "", "", "Jl. D", "3", "4", "36.71.01.1001", "", "5", "4", "3", "",
     "Dukungan psikososial; advocacy"],
]
COUNT_COLUMNS = {"kapasitas", "penghuni_l_6_12", "penghuni_p_6_12"}


def csv_bytes(rows=ROWS, header=HEADER, delimiter=",", bom=False) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


def xlsx_bytes(rows=ROWS, header=HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        # Counts as number cells, as a spreadsheet program would store them.
        sheet.append([int(v) if h in COUNT_COLUMNS and v.lstrip("-").isdigit() else (v or None) for h, v in zip(header, row)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def dry_run(call, content: bytes, actor: Actor = STAFF) -> planning.ImportReport:
    return call(transfer.dry_run, actor, io.BytesIO(content), now=now())


def in_english(call, fn, *args, **kwargs):
    async def run():
        with use_locale("en"):
            return await fn(*args, **kwargs)

    return call(run)


def summary(report: planning.ImportReport) -> list[tuple]:
    return [(r.row, r.outcome, [c for c, _m in r.errors], r.changes, len(r.warnings)) for r in report.rows]


def lks_snapshot(call) -> list[dict]:
    return call(Lks.select(Lks.id, Lks.name, Lks.phone, Lks.version).order_by(Lks.id).run)


def audit_actions(call) -> list[str]:
    return [r["action"] for r in call(AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id).run)]


EXPECTED = [
    (2, "create", [], [], 0),
    (3, "reject", ["npwp"], [], 0),
    (4, "reject", ["kelurahan"], [], 0),
    (5, "reject", ["kapasitas"], [], 0),
    (6, "duplicate", [""], [], 0),
    (7, "update", [], ["telepon"], 0),
    (8, "create", [], [], 1),
]


# --- dry run and commit ------------------------------------------------------------


def test_dry_run_reports_each_row_and_changes_nothing(call):
    home = existing_home(call)
    other = make(call, "LKSA Tidak Disebut")
    before, audit_before = lks_snapshot(call), audit_actions(call)

    report = dry_run(call, csv_bytes())

    assert summary(report) == EXPECTED
    assert report.counts == {"create": 2, "update": 1, "unchanged": 0, "skip": 0, "reject": 3, "duplicate": 1}
    assert report.file_format == "csv" and not report.committed
    rows = {r.row: r for r in report.rows}
    # Reasons in Indonesian (the default language), under the column they concern.
    assert rows[3].errors == [("npwp", "NPWP terdiri dari 15 atau 16 angka.")]
    assert rows[5].errors == [("kapasitas", "Harus 0 atau lebih.")]
    assert "Atlantis" in rows[4].errors[0][1]
    assert "2" in rows[6].errors[0][1]  # points at the first row about that LKS
    assert rows[7].lks_id == home["id"] and rows[7].name == "panti asuhan kasih ibu"
    assert rows[8].warnings == ["Jumlah penghuni (7) melebihi kapasitas (5)."]
    assert other["id"] not in {r.lks_id for r in report.rows}

    assert lks_snapshot(call) == before
    assert audit_actions(call) == audit_before


def test_reasons_in_english_name_the_problem(call):
    existing_home(call)
    report = in_english(call, transfer.dry_run, STAFF, io.BytesIO(csv_bytes()), now=now())
    rows = {r.row: r for r in report.rows}
    assert rows[3].errors == [("npwp", "An NPWP has 15 or 16 digits.")]
    assert "no kelurahan named “Atlantis”" in rows[4].errors[0][1]
    assert "Row 2 of this file" in rows[6].errors[0][1]


def test_commit_applies_exactly_the_valid_rows_with_audit(call):
    home = existing_home(call)
    audit_before = audit_actions(call)

    report = call(transfer.commit, STAFF, io.BytesIO(csv_bytes()), now=now())

    assert summary(report) == EXPECTED
    assert report.committed
    rows = {r.row: r for r in report.rows}
    assert rows[2].lks_id and rows[8].lks_id and rows[7].lks_id == home["id"]
    all_rows = {r["name"]: services.decode(r) for r in call(Lks.select().run)}
    assert set(all_rows) == {"Panti Asuhan Kasih Ibu", "Panti Werdha Sejahtera", "Rumah Singgah Harapan"}
    werdha = all_rows["Panti Werdha Sejahtera"]
    assert werdha["kind"] == "elderly" and werdha["kelurahan_code"] == "36.71.11.1005" and werdha["kecamatan_code"] == "36.71.11"
    assert werdha["npwp"] == "012345678901000" and werdha["rt"] == "001" and werdha["services"] == ["residential_care", "health"]
    singgah = all_rows["Rumah Singgah Harapan"]
    assert singgah["legal_entity"] is False and singgah["kind"] == "rehabilitation" and singgah["residents_total"] == 7
    assert singgah["services"] == ["psychosocial", "advocacy"]  # a label and a code
    updated = all_rows["Panti Asuhan Kasih Ibu"]
    assert updated["phone"] == "081234567890" and updated["version"] == home["version"] + 1
    assert updated["residents"]["m_6_12"] == 10 and updated["yayasan_name"] == "Yayasan Kasih Ibu"

    new_events = audit_actions(call)[len(audit_before):]
    assert sorted(new_events) == ["lks.create", "lks.create", "lks.import", "lks.update"]
    event = call(AuditEvent.select().where(AuditEvent.action == "lks.update").first().run)
    assert event["entity_id"] == str(home["id"]) and "081234567890" in event["after"]

    # The same file again: nothing left to do.
    again = dry_run(call, csv_bytes())
    assert [r.outcome for r in again.rows] == ["unchanged", "reject", "reject", "reject", "duplicate", "unchanged", "unchanged"]


def test_xlsx_import_gives_the_same_report(call):
    existing_home(call)
    from_csv = dry_run(call, csv_bytes())
    from_xlsx = dry_run(call, xlsx_bytes())
    assert from_xlsx.file_format == "xlsx"
    assert summary(from_xlsx) == summary(from_csv) == EXPECTED
    assert [r.errors for r in from_xlsx.rows] == [r.errors for r in from_csv.rows]


def test_semicolon_csv_with_bom_is_read(call):
    existing_home(call)
    report = dry_run(call, csv_bytes(delimiter=";", bom=True))
    assert summary(report) == EXPECTED


def test_update_by_id_and_unknown_id(call):
    home = existing_home(call)
    header = ["id", "nama", "jenis", "kode_kelurahan", "kapasitas"]
    rows = [
        [str(home["id"]), "Panti Asuhan Kasih Ibu Baru", "LKSA", "36.71.11.1005", "40"],
        ["99999", "LKSA Hantu", "LKSA", "36.71.11.1005", "1"],
        ["abc", "LKSA Salah Nomor", "LKSA", "36.71.11.1005", "1"],
        [str(home["id"]), "Panti Asuhan Kasih Ibu", "LKSA", "36.71.11.1005", "30"],
    ]
    report = dry_run(call, csv_bytes(rows, header))
    assert summary(report) == [
        (2, "update", [], ["nama", "kapasitas"], 0),
        (3, "reject", ["id", "nama_yayasan"], [], 0),  # every reason is listed
        (4, "reject", ["id", "nama_yayasan"], [], 0),
        (5, "duplicate", [""], [], 0),  # the same LKS as row 2
    ]
    assert "99999" in report.rows[1].errors[0][1]
    call(transfer.commit, STAFF, io.BytesIO(csv_bytes(rows, header)), now=now())
    row = call(Lks.select().where(Lks.id == home["id"]).first().run)
    assert row["name"] == "Panti Asuhan Kasih Ibu Baru" and row["capacity"] == 40
    assert row["yayasan_name"] == "Yayasan Kasih Ibu"  # a column not in the file keeps its value


def test_commit_revalidates_against_the_current_database(call):
    content = csv_bytes(ROWS[:1])
    assert dry_run(call, content).counts["create"] == 1
    call(transfer.commit, STAFF, io.BytesIO(content), now=now())
    # Committing the same file again creates nothing new: the LKS now exists.
    second = call(transfer.commit, STAFF, io.BytesIO(content), now=now())
    assert [r.outcome for r in second.rows] == ["unchanged"]
    assert call(Lks.count().run) == 1


def test_only_staff_may_import_or_export(call):
    for role in (Role.manager, Role.inspector, Role.partner, None):
        actor = Actor(user_id=None, username="x", role=role, lks_id=1)
        with pytest.raises(Forbidden):
            dry_run(call, csv_bytes(), actor)
        with pytest.raises(Forbidden):
            call(transfer.commit, actor, io.BytesIO(csv_bytes()), now=now())
        with pytest.raises(Forbidden):
            call(transfer.export_csv, actor, services.LksFilter(), "name", now=now())
        with pytest.raises(Forbidden):
            call(transfer.export_xlsx, actor, services.LksFilter(), "name", now=now())
    assert call(Lks.count().run) == 0


# --- files that cannot be imported -------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize(
    "content",
    [PNG, PDF, b"PK\x03\x04not really a zip", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, b""],
    ids=["png", "pdf", "zip", "xls", "empty"],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused(call, content):
    with pytest.raises(ValidationError) as err:
        in_english(call, transfer.dry_run, STAFF, io.BytesIO(content), now=now())
    assert "file" in err.value.fields
    message = err.value.message
    assert any(text in message for text in ("neither a CSV nor an XLSX", "old Excel file (.xls)", "The file is empty")), message


def test_a_docx_is_not_an_xlsx(call):
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ValidationError) as err:
        in_english(call, transfer.dry_run, STAFF, io.BytesIO(buf.getvalue()), now=now())
    assert "neither a CSV nor an XLSX" in err.value.message


def test_csv_in_windows_1252_is_read_and_other_encodings_refused_with_advice(call):
    content = "nama,jenis,badan_hukum,kode_kelurahan\nPanti Werdhá,lansia,tidak,36.71.11.1005\n".encode("cp1252")
    report = dry_run(call, content)
    assert [(r.outcome, r.name) for r in report.rows] == [("create", "Panti Werdhá")]
    # Bytes that are neither UTF-8 nor Windows-1252 (0x81 is unassigned there).
    with pytest.raises(ValidationError) as err:
        in_english(call, transfer.dry_run, STAFF, io.BytesIO(b"nama,jenis,kode_kelurahan\nPanti \x81\xc3,lansia,36.71.11.1005\n"), now=now())
    assert "UTF-8" in err.value.message


def test_missing_and_unknown_headers_are_named(call):
    with pytest.raises(ValidationError) as err:
        in_english(call, transfer.dry_run, STAFF, io.BytesIO(b"nama,alamat,telpon\nLKSA Satu,Jl. A,0812\n"), now=now())
    message = err.value.message
    assert "Unknown columns: telpon." in message
    assert "Required columns are missing: jenis, kode_kelurahan / kelurahan." in message
    # The same in Indonesian still names the columns.
    with pytest.raises(ValidationError) as err:
        dry_run(call, b"nama,alamat,telpon\nLKSA Satu,Jl. A,0812\n")
    assert "telpon" in err.value.message and "jenis" in err.value.message


def test_headers_are_matched_loosely_and_blank_rows_skipped(call):
    content = b"Nama ,JENIS,Kode Kelurahan, Badan-Hukum\n\nLKSA Satu,LKSA,36.71.11.1005,tidak\n,,,\n"
    report = dry_run(call, content)
    assert [(r.row, r.outcome) for r in report.rows] == [(2, "skip"), (3, "create")]  # a blank row is reported


def test_row_and_size_limits(call, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 2)
    rows = [[f"LKSA Nomor {i}", "LKSA", "36.71.11.1005"] for i in range(3)]
    with pytest.raises(ValidationError) as err:
        in_english(call, transfer.dry_run, STAFF, io.BytesIO(csv_bytes(rows, ["nama", "jenis", "kode_kelurahan"])), now=now())
    assert "more than 2 data rows" in err.value.message
    with pytest.raises(ValidationError) as err:
        reading.read_limited(io.BytesIO(b"x" * (1024 * 1024 + 1)), 1024 * 1024)
    assert "1 MB" in err.value.message


def test_ambiguous_kelurahan_names_are_rejected_unless_the_kecamatan_decides():
    places = planning.Places(
        [
            {"code": "36.71.01.1001", "name": "Sukamaju", "parent_code": "36.71.01"},
            {"code": "36.71.02.1001", "name": "Sukamaju", "parent_code": "36.71.02"},
        ],
        [{"code": "36.71.01", "name": "Tangerang"}, {"code": "36.71.02", "name": "Jatiuwung"}],
    )
    code, column, error, _warning = places.resolve({"kelurahan": "SUKAMAJU"})
    assert code == "" and column == "kelurahan" and "36.71.01.1001" in error and "36.71.02.1001" in error
    assert places.resolve({"kelurahan": "Kelurahan Sukamaju", "kecamatan": "jatiuwung"})[:3] == ("36.71.02.1001", "kelurahan", None)
    assert places.resolve({"kelurahan": "36.71.01.1001"})[0] == "36.71.01.1001"


def test_kelurahan_name_that_contradicts_the_code_is_a_warning(call):
    content = csv_bytes([["LKSA Satu", "LKSA", "Yayasan Satu", "36.71.11.1005", "Cipete"]], ["nama", "jenis", "nama_yayasan", "kode_kelurahan", "kelurahan"])
    report = dry_run(call, content)
    assert report.rows[0].outcome == "create" and "Cipete" in report.rows[0].warnings[0]


def test_dates_and_numbers_from_a_spreadsheet(call):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["nama", "jenis", "badan_hukum", "kode_kelurahan", "tanggal_akta", "npwp", "telepon", "latitude", "longitude", "kapasitas"])
    sheet.append(["LKSA Satu", "LKSA", False, "36.71.11.1005", datetime(2015, 3, 12), 12345678901000, 81234567890, -6.2251, 106.6291, 30.0])
    buf = io.BytesIO()
    workbook.save(buf)
    call(transfer.commit, STAFF, io.BytesIO(buf.getvalue()), now=now())
    row = call(Lks.select().first().run)
    assert row["akta_date"] == date(2015, 3, 12) and row["npwp"] == "012345678901000" and row["phone"] == "081234567890"
    assert row["latitude"] == pytest.approx(-6.2251, abs=1e-5) and row["capacity"] == 30
    # Day-first dates in a CSV, as an Indonesian spreadsheet writes them.
    report = dry_run(
        call, csv_bytes([["LKSA Dua", "LKSA", "tidak", "36.71.11.1005", "12/03/2015"]], ["nama", "jenis", "badan_hukum", "kode_kelurahan", "tanggal_akta"])
    )
    assert [(r.outcome, r.errors) for r in report.rows] == [("create", [])]
    report = dry_run(
        call, csv_bytes([["LKSA Tiga", "LKSA", "tidak", "36.71.11.1005", "31/02/2015"]], ["nama", "jenis", "badan_hukum", "kode_kelurahan", "tanggal_akta"])
    )
    assert [c for c, _m in report.rows[0].errors] == ["tanggal_akta"]


# --- export ----------------------------------------------------------------------


@pytest.fixture
def register(call) -> dict[str, dict]:
    return {
        "kasih": make(
            call, "Panti Asuhan Kasih Ibu", npwp="012345678901000", akta_date="2015-03-12", latitude="-6.2251",
            longitude="106.6291", phone="021-5550000", residents={"m_6_12": 10, "f_6_12": 12}, services=["residential_care", "education"],
        ),
        "formula": make(call, "=HYPERLINK(\"http://contoh\")", kelurahan_code="36.71.11.1001", head_name="-Budi"),
        "werdha": make(call, "Panti Werdha Sejahtera", kind="elderly", kelurahan_code="36.71.01.1001", legal_entity=False, yayasan_name=""),
    }


def staff_client(client, make_user):
    make_user("petugas", "staff")
    login(client, "petugas")
    return client


def test_export_csv_of_a_filtered_list(client, call, make_user, register):
    staff_client(client, make_user)
    response = client.get("/lks/export.csv", params={"kind": "lksa", "sort": "name"})
    assert response.status_code == 200, response.text
    today = datetime.now(WIB).date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="lks-{today}.csv"'
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    records = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(records[0].keys()) == list(columns.HEADERS)
    assert [r["nama"] for r in records] == ["'=HYPERLINK(\"http://contoh\")", "Panti Asuhan Kasih Ibu"]
    kasih = records[1]
    assert kasih["id"] == str(register["kasih"]["id"]) and kasih["jenis"] == "LKSA" and kasih["badan_hukum"] == "ya"
    assert kasih["tanggal_akta"] == "2015-03-12" and kasih["npwp"] == "012345678901000"
    assert kasih["kode_kelurahan"] == "36.71.11.1005" and kasih["kelurahan"] == "Kunciran Indah" and kasih["kecamatan"] == "Pinang"
    assert float(kasih["latitude"]) == pytest.approx(-6.2251, abs=1e-5)
    assert kasih["penghuni_l_6_12"] == "10" and kasih["penghuni_p_6_12"] == "12" and kasih["layanan"] == "residential_care, education"
    assert kasih["insiden_terbuka"] == "tidak" and kasih["berlaku_sampai"] == ""
    assert records[0]["kepala"] == "'-Budi"

    by_area = client.get("/lks/export.csv", params={"kecamatan": "36.71.01"})
    names = [r["nama"] for r in csv.DictReader(io.StringIO(by_area.content.decode("utf-8-sig")))]
    assert names == ["Panti Werdha Sejahtera"]
    assert "lks.export" in audit_actions(call)


def test_export_xlsx_of_a_filtered_list(client, make_user, register):
    staff_client(client, make_user)
    response = client.get("/lks/export.xlsx", params={"kecamatan": "36.71.11", "sort": "-name"})
    assert response.status_code == 200
    today = datetime.now(WIB).date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="lks-{today}.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == columns.HEADERS
    names = [r[1] for r in rows[1:]]
    assert names == ["Panti Asuhan Kasih Ibu", "=HYPERLINK(\"http://contoh\")"]  # -name: Z to A
    kasih = dict(zip(rows[0], rows[1]))
    assert kasih["id"] == register["kasih"]["id"] and kasih["npwp"] == "012345678901000" and kasih["telepon"] == "0215550000"
    assert kasih["tanggal_akta"].date() == date(2015, 3, 12)
    # A name that looks like a formula is stored as text.
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.worksheets[0]["B3"].data_type == "s"


def test_a_control_character_stored_earlier_does_not_break_the_export(client, call, make_user, register):
    """Input refuses control characters now; a row that has one from before
    (or from a direct database edit) still exports, without it."""
    call(Lks.update({Lks.head_name: "Ibu\x01 Sri\x1b"}).where(Lks.id == register["kasih"]["id"]).run)
    staff_client(client, make_user)
    response = client.get("/lks/export.xlsx")
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    kasih = next(dict(zip(rows[0], r)) for r in rows[1:] if r[0] == register["kasih"]["id"])
    assert kasih["kepala"] == "Ibu Sri"


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_an_exported_file_imports_as_unchanged(client, call, make_user, register, extension):
    staff_client(client, make_user)
    response = client.get(f"/lks/export.{extension}")
    report = dry_run(call, response.content)
    assert report.file_format == extension
    assert [(r.outcome, r.lks_id, r.errors) for r in report.rows] == [
        ("unchanged", row["id"], []) for row in sorted(register.values(), key=lambda r: r["name"])
    ]
    assert report.notes  # the read-only columns are named as ignored


def test_template_lists_the_columns_and_its_example_is_valid(client, call, make_user):
    staff_client(client, make_user)
    response = client.get("/lks/import/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == export.XLSX_MEDIA_TYPE
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert workbook.sheetnames == ["LKS", "Petunjuk", "Kelurahan", "Layanan"]
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == columns.TEMPLATE_HEADERS and len(rows) == 2
    report = dry_run(call, response.content)
    assert [(r.outcome, r.errors) for r in report.rows] == [("create", [])]


# --- pages -------------------------------------------------------------------------


def upload(client, content: bytes, filename: str = "lks.csv"):
    return client.post(
        "/lks/import",
        files={"file": (filename, content, "application/octet-stream")},
        data={"_csrf_token": csrf_token(client)},
    )


def page_rows(html: str) -> list[tuple[int, str]]:
    return [(int(n), o) for n, o in re.findall(r'data-row="(\d+)" data-outcome="(\w+)"', html)]


def page_counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">[^<]*<strong>(\d+)</strong>', html)}


def test_import_pages_dry_run_then_commit(client, call, make_user):
    home = existing_home(call)
    staff_client(client, make_user)

    page = client.get("/lks/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and 'name="_csrf_token"' in page.text
    assert "/lks/import/template.xlsx" in page.text and "penghuni_l_0_5" in page.text

    before = lks_snapshot(call)
    checked = upload(client, csv_bytes())
    assert checked.status_code == 200, checked.text
    assert page_rows(checked.text) == [(n, outcome) for n, outcome, *_rest in EXPECTED]
    assert page_counts(checked.text) == {"create": 2, "update": 1, "unchanged": 0, "skip": 0, "reject": 3, "duplicate": 1}
    assert "NPWP terdiri dari 15 atau 16 angka." in checked.text
    assert f'href="/lks/{home["id"]}"' in checked.text
    assert lks_snapshot(call) == before
    token = re.search(r'name="token" value="([0-9a-f]{32})"', checked.text).group(1)

    done = form(client, "/lks/import/commit", {"token": token})
    assert done.status_code == 200, done.text
    assert page_counts(done.text) == {"create": 2, "update": 1, "unchanged": 0, "skip": 0, "reject": 3, "duplicate": 1}
    assert call(Lks.count().run) == 3  # the updated one and the two new ones
    # The same token cannot be applied twice.
    again = form(client, "/lks/import/commit", {"token": token})
    assert again.status_code == 409 and 'data-outcome' not in again.text
    assert "sudah diterapkan" in again.text
    assert call(Lks.count().run) == 3


def test_import_page_refuses_other_files_with_a_message(client, call, make_user, settings):
    staff_client(client, make_user)
    folder = settings.var_dir / "imports"
    kept = set(folder.glob("*")) if folder.exists() else set()
    response = upload(client, PDF, filename="lks.csv")
    assert response.status_code == 422
    assert 'class="alert alert-error"' in response.text and "data-outcome" not in response.text
    response = upload(client, b"nama;alamat\nLKSA;Jl\n")
    assert response.status_code == 422 and "jenis" in response.text
    assert set(folder.glob("*")) == kept  # nothing kept for a refused file


def test_nothing_to_import_offers_no_commit(client, call, make_user):
    staff_client(client, make_user)
    response = upload(client, csv_bytes([ROWS[1]]))
    assert response.status_code == 200
    assert page_rows(response.text) == [(2, "reject")] and 'action="/lks/import/commit"' not in response.text


def test_unknown_or_malformed_token(client, make_user):
    staff_client(client, make_user)
    for token in ("0" * 32, "../../etc/passwd", ""):
        response = form(client, "/lks/import/commit", {"token": token})
        assert response.status_code == 404
        assert 'class="alert alert-error"' in response.text


def test_old_uploads_are_removed(call, tmp_path):
    store = LocalStorage(tmp_path / "documents")
    folder = tmp_path / "documents" / "staging" / "import"
    old = call(staging.stage, store, csv_bytes(), now=now() - timedelta(days=2))
    path = folder / old
    assert path.exists()
    assert call(staging.claim, store, old, now=now()) is None  # expired
    new = call(staging.stage, store, csv_bytes(), now=now())
    assert not path.exists() and (folder / new).exists()
    assert (folder / new).stat().st_mode & 0o777 == 0o600
    reader, mapping = call(staging.claim, store, new, now=now())
    assert reader.read() == csv_bytes() and mapping == ""
    reader.close()


@pytest.mark.parametrize("role", ["manager", "inspector"])
def test_other_roles_get_403(client, make_user, role):
    make_user("orang", role)
    login(client, "orang")
    for path in ("/lks/import", "/lks/import/template.xlsx", "/lks/export.csv", "/lks/export.xlsx"):
        assert client.get(path).status_code == 403, path
    assert upload(client, csv_bytes()).status_code == 403
    assert form(client, "/lks/import/commit", {"token": "0" * 32}).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/lks/export.csv", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_row_changed_by_someone_else_since_the_plan_is_rejected_not_overwritten(call, monkeypatch):
    home = existing_home(call)
    plan = planning.plan

    async def plan_then_someone_edits(*args, **kwargs):
        planned = await plan(*args, **kwargs)
        await services.update_lks(STAFF, home["id"], {"head_name": "Ibu Ani"}, version=home["version"], now=now())
        return planned

    monkeypatch.setattr(planning, "plan", plan_then_someone_edits)
    monkeypatch.setattr(transfer, "COMMIT_BATCH", 2)
    report = call(transfer.commit, STAFF, io.BytesIO(csv_bytes()), now=now())
    rows = {r.row: r for r in report.rows}
    assert rows[7].outcome == "reject" and [c for c, _m in rows[7].errors] == [""]
    assert report.counts == {"create": 2, "update": 0, "unchanged": 0, "skip": 0, "reject": 4, "duplicate": 1}
    row = call(Lks.select().where(Lks.id == home["id"]).first().run)
    assert row["head_name"] == "Ibu Ani" and row["phone"] == "0215550000"
    assert call(Lks.count().run) == 3
