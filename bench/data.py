"""Fill a SIGAP database with N synthetic LKS, fast, before its server starts.

    python -m bench.data --database-url sqlite:////tmp/x/sigap.sqlite3 [--count 100000] [--seed 3671]
    python -m bench.data --database-url postgresql://postgres@127.0.0.1:5432/sigap_bench_x

The database must already be migrated (``sigap migrate``: the tables and the
regions). Rows go in set-based, never through the ORM one by one: SQLite with
``executemany`` in one transaction (plain ``sqlite3``), PostgreSQL with one
``COPY`` (``asyncpg.copy_records_to_table``), then ``VACUUM (ANALYZE)`` there,
as autovacuum would do within a minute of such a load. SQLite gets no ANALYZE
(the app never runs one), unless ``--analyze`` is given.

The data look like a real register at scale: names from word lists plus a
number (all distinct), the five kinds, yayasan and head names, street
addresses, every one of Kota Tangerang's 104 kelurahan (from
``registry/data/kota-tangerang/villages.csv``), registration and
accreditation statuses in realistic proportions, risk levels, an open
incident on ~2 %, documents complete on about half. ``search_text`` is
computed by ``registry.services.search_text`` itself, so searching the
generated rows behaves exactly as searching rows the app wrote.

Deterministic for a given ``--seed``. Prints how long generation and the
insert took.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VILLAGES_CSV = ROOT / "registry" / "data" / "kota-tangerang" / "villages.csv"
BBOX = (-6.280, 106.550, -6.080, 106.750)  # registry/data/kota-tangerang/bbox.csv
REGION = "36.71"

KIND_WEIGHTS = {"lksa": 55, "elderly": 17, "disability": 14, "rehabilitation": 8, "other": 6}
KIND_PREFIX = {
    "lksa": ["Panti Asuhan", "LKSA", "Rumah Anak", "Panti Asuhan Anak", "Asrama Yatim"],
    "elderly": ["Panti Werdha", "Griya Lansia", "Rumah Lansia"],
    "disability": ["Rumah Disabilitas", "Wisma Difabel", "Panti Tuna Netra"],
    "rehabilitation": ["Pusat Rehabilitasi", "Rumah Pemulihan", "Balai Rehabilitasi"],
    "other": ["Rumah Singgah", "Pondok Sosial"],
}
# Word pairs of LKS and yayasan names. The first list is common (each word in
# a few per cent of names), the second rare (each in ~0.1-0.5 %), so searches
# range from thousands of matches to a few dozen; "Thérèse" and "Benoît"
# carry accents (Catholic foundations), found by "therese" and by "thérèse".
COMMON_WORDS = [
    "Kasih", "Bunda", "Cahaya", "Harapan", "Mentari", "Budi", "Luhur", "Nur", "Hidayah", "Pelita", "Hati",
    "Tunas", "Bangsa", "Bina", "Insani", "Sinar", "Damai", "Permata", "Bakti", "Mulia", "Baru", "Citra",
    "Lentera", "Karya", "Asih", "Mutiara", "Bintang", "Timur", "Sejahtera", "Amanah", "Barokah", "Rahmat",
    "Ikhlas", "Sentosa", "Abadi", "Jaya", "Sakinah", "Al-Ikhlas", "Darul", "Ulum", "Yatim", "Piatu",
]
RARE_WORDS = [
    "Thérèse", "Benoît", "Vincentius", "Fransiskus", "Gembala", "Baiturrahman", "Nusantara", "Pertiwi",
    "Cendekia", "Kartini", "Dharma", "Wisma", "Sahabat", "Pelangi", "Samudra", "Matahari",
]
FIRST_NAMES = [
    "Siti", "Sri", "Dewi", "Ratna", "Nur", "Lestari", "Wulan", "Fitri", "Ahmad", "Muhammad", "Budi", "Agus",
    "Yusuf", "Hasan", "Joko", "Bambang", "Rudi", "Hendra", "Maria", "Yohanes", "Agnes", "Stefanus", "Rahmat",
]
LAST_NAMES = [
    "Rahayu", "Wijaya", "Santoso", "Hidayat", "Kusuma", "Saputra", "Lubis", "Siregar", "Nasution", "Gunawan",
    "Setiawan", "Purnomo", "Hartono", "Suryadi", "Pratama", "Nugroho", "Susanti", "Handayani", "Simanjuntak",
]
TITLES = ["Ibu", "Bapak", "Hj.", "H.", "Sr.", "Pdt.", "Ustadz"]
STREETS = [
    "Jl. Melati", "Jl. Kenanga", "Jl. Mawar", "Jl. Anggrek", "Jl. Flamboyan", "Jl. Cempaka", "Jl. Dahlia",
    "Jl. Teratai", "Jl. Raya Cipondoh", "Jl. KH. Hasyim Ashari", "Jl. Imam Bonjol", "Jl. Daan Mogot",
    "Jl. Gatot Subroto", "Jl. Sudirman", "Jl. MH. Thamrin", "Jl. Perintis Kemerdekaan", "Jl. Benteng Betawi",
    "Jl. Marsekal Suryadarma", "Jl. Husein Sastranegara", "Jl. Raden Saleh", "Gg. Masjid", "Gg. Haji Mali",
]
HOUSING = ["", "", "", "Perumahan Banjar Wijaya", "Perum Poris Indah", "Komplek Taman Cibodas", "Perumnas I", "Modernland"]
# Registration status mix (per cent), close to the 72 LKS of Kota Tangerang.
STATUS_WEIGHTS = {
    "registered": 58, "expired": 9, "applied": 5, "document_check": 4, "field_verification": 3,
    "unregistered": 14, "suspended": 3, "revoked": 1, "closed": 3,
}
ACCREDITATION_WEIGHTS = {"none": 64, "in_process": 13, "accredited": 20, "expired": 3}
RISK_WEIGHTS = {None: 30, "low": 40, "medium": 20, "high": 10}
SERVICE_CODES = [
    "residential_care", "family_based_care", "day_care", "education", "health", "vocational", "psychosocial",
    "spiritual", "family_tracing", "advocacy", "other",
]
RESIDENT_KEYS = tuple(f"{sex}_{band}" for band in ("0_5", "6_12", "13_17", "18") for sex in ("m", "f"))
AGE_WEIGHTS = {  # which age bands live where
    "lksa": (1, 4, 4, 0.3), "elderly": (0, 0, 0, 1), "disability": (0.3, 1, 1, 2), "rehabilitation": (0, 0, 1, 3),
    "other": (1, 1, 1, 1),
}

COLUMNS = (
    "name", "kind", "legal_entity", "yayasan_name", "akta_number", "akta_date", "sk_kemenkumham_number", "npwp",
    "address", "rt", "rw", "kelurahan_code", "kecamatan_code", "latitude", "longitude", "phone", "email", "head_name",
    "capacity", "residents", "residents_total", "staff_caregivers", "staff_social_workers", "staff_other", "services",
    "registration_status", "status_reason", "certificate_number", "registered_on", "valid_until",
    "accreditation_status", "accreditation_grade", "accreditation_valid_until", "open_incident",
    "documents_complete", "search_text", "version", "created_at", "updated_at",
)


def villages() -> list[tuple[str, str]]:
    """(kelurahan code, kecamatan code) of the region's 104 kelurahan."""
    with VILLAGES_CSV.open(newline="", encoding="utf-8") as fh:
        rows = [(r["code"], r["district_code"]) for r in csv.DictReader(fh)]
    if not rows:
        raise SystemExit(f"no kelurahan in {VILLAGES_CSV}")
    return rows


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _words(rng: random.Random) -> str:
    first = rng.choice(RARE_WORDS) if rng.random() < 0.04 else rng.choice(COMMON_WORDS)
    second = rng.choice(COMMON_WORDS)
    while second == first:
        second = rng.choice(COMMON_WORDS)
    return f"{first} {second}"


def _residents(rng: random.Random, occupied: int, bands: tuple[float, ...]) -> dict[str, int]:
    """``occupied`` people spread over the age bands (by the kind's weights,
    with some noise) and over both sexes."""
    residents = dict.fromkeys(RESIDENT_KEYS, 0)
    shares = [w * rng.uniform(0.5, 1.5) for w in bands]
    total = sum(shares)
    left = occupied
    for band, share in enumerate(shares):
        people = left if band == len(shares) - 1 else min(left, round(occupied * share / total))
        left -= people
        male = round(people * rng.uniform(0.3, 0.7))
        residents[RESIDENT_KEYS[band * 2]] += male
        residents[RESIDENT_KEYS[band * 2 + 1]] += people - male
    return residents


def _person(rng: random.Random) -> str:
    return f"{rng.choice(TITLES)} {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def make_rows(count: int, *, seed: int = 3671, now: datetime | None = None) -> list[dict]:
    """``count`` LKS rows as dicts of Python values (dates, datetimes, bools;
    JSON columns as JSON text), keys as in ``COLUMNS``."""
    from registry.services import (
        search_text,  # the app's own function, so searches find what they should
    )

    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    today = now.date()
    places = villages()
    kinds = list(KIND_WEIGHTS)
    kind_w = list(KIND_WEIGHTS.values())
    rows: list[dict] = []
    cert_seq = 0
    for n in range(1, count + 1):
        kind = rng.choices(kinds, weights=kind_w)[0]
        legal = rng.random() < 0.9
        name = f"{rng.choice(KIND_PREFIX[kind])} {_words(rng)} {n}"
        yayasan = f"Yayasan {_words(rng)}" if legal else ""
        kelurahan, kecamatan = rng.choice(places)
        housing = rng.choice(HOUSING)
        address = f"{rng.choice(STREETS)} No. {rng.randint(1, 250)}" + (f", {housing}" if housing else "")
        head = _person(rng)
        has_coords = rng.random() < 0.8
        capacity = rng.choice((10, 15, 20, 25, 30, 40, 50, 60, 80, 100))
        occupied = int(capacity * rng.uniform(0.4, 1.05))
        residents = _residents(rng, occupied, AGE_WEIGHTS[kind])
        services = sorted(rng.sample(SERVICE_CODES, rng.randint(1, 5)), key=SERVICE_CODES.index)
        if kind in ("lksa", "elderly", "disability", "rehabilitation") and "residential_care" not in services:
            services.insert(0, "residential_care")

        status = _pick(rng, STATUS_WEIGHTS)
        cert = registered_on = valid_until = None
        if status in ("registered", "expired", "suspended"):
            cert_seq += 1
            if status == "expired":
                registered_on = today - timedelta(days=rng.randint(3 * 365 + 1, 6 * 365))
            else:
                registered_on = today - timedelta(days=rng.randint(0, 3 * 365 - 1))
            valid_until = _add_years(registered_on, 3)
            cert = f"{cert_seq:06d}/TD-LKS/{REGION}/{registered_on.year}"
        accreditation = _pick(rng, ACCREDITATION_WEIGHTS) if status in ("registered", "expired", "suspended") else "none"
        grade = acc_valid = None
        if accreditation in ("accredited", "expired"):
            grade = rng.choices("ABC", weights=(3, 5, 2))[0]
            years = {"A": 5, "B": 3, "C": 2}[grade]
            acc_start = today - timedelta(days=rng.randint(0, years * 365 - 1) if accreditation == "accredited" else rng.randint(years * 365 + 1, 8 * 365))
            acc_valid = _add_years(acc_start, years)
        created = now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        updated = created + (now - created) * rng.random()
        row = {
            "name": name,
            "kind": kind,
            "legal_entity": legal,
            "yayasan_name": yayasan,
            "akta_number": f"{rng.randint(1, 99):02d}" if legal else "",
            "akta_date": (today - timedelta(days=rng.randint(400, 30 * 365))) if legal else None,
            "sk_kemenkumham_number": f"AHU-{rng.randint(1, 99999):07d}.AH.01.04.Tahun {rng.randint(2010, 2024)}" if legal else "",
            "npwp": str(rng.randrange(10**14, 10**16)) if rng.random() < 0.7 else "",
            "address": address,
            "rt": f"{rng.randint(1, 15):03d}",
            "rw": f"{rng.randint(1, 12):03d}",
            "kelurahan_code": kelurahan,
            "kecamatan_code": kecamatan,
            "latitude": round(rng.uniform(BBOX[0], BBOX[2]), 6) if has_coords else None,
            "longitude": round(rng.uniform(BBOX[1], BBOX[3]), 6) if has_coords else None,
            "phone": f"08{rng.randint(11, 99)}{rng.randint(1000000, 99999999)}" if rng.random() < 0.9 else "",
            "email": f"lks{n}@example.org" if rng.random() < 0.5 else "",
            "head_name": head,
            "capacity": capacity,
            "residents": json.dumps(residents),
            "residents_total": sum(residents.values()),
            "staff_caregivers": rng.randint(1, 12),
            "staff_social_workers": rng.randint(0, 3),
            "staff_other": rng.randint(0, 6),
            "services": json.dumps(services),
            "registration_status": status,
            "status_reason": "",
            "certificate_number": cert,
            "registered_on": registered_on,
            "valid_until": valid_until,
            "accreditation_status": accreditation,
            "accreditation_grade": grade,
            "accreditation_valid_until": acc_valid,
            "risk_level": _pick(rng, RISK_WEIGHTS),
            "open_incident": rng.random() < 0.02,
            "documents_complete": rng.random() < (0.8 if status == "registered" else 0.25),
            "version": 1,
            "created_at": created,
            "updated_at": updated,
        }
        row["search_text"] = search_text(row)
        rows.append(row)
    return rows


# --- inserting -----------------------------------------------------------------------


def insert_sqlite(path: str, rows: list[dict], *, analyze: bool = False) -> None:
    import sqlite3

    # Piccolo's SQLite engine registers the adapters that decide how dates and
    # datetimes are stored (ISO text, datetimes in UTC); the rows must be
    # stored exactly as the app stores them.
    import piccolo.engine.sqlite  # noqa: F401

    names = ", ".join(f'"{c}"' for c in COLUMNS)
    sql = f"INSERT INTO registry_lks ({names}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    con = sqlite3.connect(path, timeout=30)
    try:
        with con:  # one transaction
            first = con.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM registry_lks").fetchone()[0]
            con.executemany(sql, ([row[c] for c in COLUMNS] for row in rows))
            con.executemany(
                "INSERT INTO registry_lks_risk (lks, level) VALUES (?, ?)", _risk_rows(rows, first, _ids(con, first))
            )
        if analyze:
            con.execute("ANALYZE")
    finally:
        con.close()


def _ids(con, first: int) -> list[int]:
    return [r[0] for r in con.execute("SELECT id FROM registry_lks WHERE id >= ? ORDER BY id", (first,))]


def _risk_rows(rows: list[dict], first: int, ids: list[int]) -> list[tuple[int, str]]:
    """(lks id, level) for the rows that have a level: the risk levels live
    in their own table (registry.risk_cache). The rows were inserted into a
    table whose ids continue from ``first``, in order."""
    if len(ids) != len(rows) or ids != list(range(first, first + len(rows))):
        raise SystemExit("bench.data: the inserted LKS did not get consecutive ids; use an empty, migrated database")
    return [(lks_id, row["risk_level"]) for lks_id, row in zip(ids, rows) if row["risk_level"]]


async def insert_postgres(url: str, rows: list[dict]) -> None:
    import asyncpg

    con = await asyncpg.connect(url, timeout=10)
    try:
        async with con.transaction():
            await con.copy_records_to_table(
                "registry_lks", records=[tuple(row[c] for c in COLUMNS) for row in rows], columns=list(COLUMNS)
            )
            ids = [r["id"] for r in await con.fetch("SELECT id FROM registry_lks ORDER BY id DESC LIMIT $1", len(rows))]
            ids.reverse()  # the serial handed them out in the order of the rows
            await con.copy_records_to_table(
                "registry_lks_risk", records=_risk_rows(rows, ids[0], ids), columns=["lks", "level"]
            )
        # What autovacuum does soon after a bulk insert: statistics for the
        # planner, hint bits and the visibility map (index-only scans).
        await con.execute("VACUUM (ANALYZE) registry_lks")
        await con.execute("VACUUM (ANALYZE) registry_lks_risk")
    finally:
        await con.close()


@dataclass
class Generated:
    count: int
    generate_s: float
    insert_s: float

    def __str__(self) -> str:
        total = self.generate_s + self.insert_s
        return (
            f"{self.count:,} LKS in {total:.1f} s ({self.generate_s:.1f} s generating,"
            f" {self.insert_s:.1f} s inserting, {self.count / total:,.0f} rows/s)"
        )


def fill(database_url: str, count: int, *, seed: int = 3671, analyze_sqlite: bool = False) -> Generated:
    scheme = urlsplit(database_url).scheme
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise SystemExit(f"unsupported database URL scheme {scheme!r}")
    started = time.perf_counter()
    rows = make_rows(count, seed=seed)
    generated = time.perf_counter()
    if scheme == "sqlite":
        insert_sqlite(database_url[len("sqlite:///") :], rows, analyze=analyze_sqlite)
    else:
        asyncio.run(insert_postgres(database_url, rows))
    done = time.perf_counter()
    return Generated(count, generated - started, done - generated)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.data", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="sqlite:///PATH or postgresql://... of a migrated database")
    parser.add_argument("--count", type=int, default=100_000, help="LKS to add (default 100000)")
    parser.add_argument("--seed", type=int, default=3671)
    parser.add_argument("--analyze", action="store_true", help="also run ANALYZE on SQLite (PostgreSQL: always)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    result = fill(args.database_url, args.count, seed=args.seed, analyze_sqlite=args.analyze)
    print(f"bench.data: {result}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
