"""Regions by Kemendagri code. Kota Tangerang ships with the project; the
national files (``idn-area-data`` layout) load with ``sigap regions import``."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from registry.tables import Region, RegionLevel
from sigap.db import write_transaction

SHIPPED_DIR = Path(__file__).parent / "data" / "kota-tangerang"
FILES = (
    ("provinces.csv", RegionLevel.province, None),
    ("regencies.csv", RegionLevel.regency, "province_code"),
    ("districts.csv", RegionLevel.district, "regency_code"),
    ("villages.csv", RegionLevel.village, "district_code"),
)
BATCH = 500


class RegionFileError(Exception):
    pass


def read_region_files(folder: Path) -> list[dict]:
    """Rows of the four CSV files (any of them may be missing, not all)."""
    rows: list[dict] = []
    found = 0
    for filename, level, parent_column in FILES:
        path = folder / filename
        if not path.exists():
            continue
        found += 1
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            expected = {"code", "name"} | ({parent_column} if parent_column else set())
            if not reader.fieldnames or not expected <= set(reader.fieldnames):
                raise RegionFileError(f"{path.name}: expected columns {sorted(expected)}, found {reader.fieldnames}")
            for line_no, record in enumerate(reader, start=2):
                code = (record.get("code") or "").strip()
                name = (record.get("name") or "").strip()
                if not code or not name:
                    raise RegionFileError(f"{path.name} line {line_no}: code and name are required")
                parent = (record.get(parent_column) or "").strip() if parent_column else None
                rows.append({"code": code, "parent_code": parent or None, "level": level.value, "name": name})
    if not found:
        raise RegionFileError(f"no provinces.csv, regencies.csv, districts.csv or villages.csv in {folder}")
    return rows


async def import_regions(folder: Path) -> tuple[int, int]:
    """Insert new codes and rename changed ones; returns (added, updated)."""
    rows = read_region_files(folder)
    existing = {r["code"]: r for r in await Region.select(Region.code, Region.name, Region.parent_code)}
    new = [r for r in rows if r["code"] not in existing]
    changed = [
        r for r in rows if r["code"] in existing and (existing[r["code"]]["name"], existing[r["code"]]["parent_code"]) != (r["name"], r["parent_code"])
    ]
    for start in range(0, len(new), BATCH):
        async with write_transaction():
            await Region.insert(*(Region(**r) for r in new[start : start + BATCH]))
    for start in range(0, len(changed), BATCH):
        async with write_transaction():
            for r in changed[start : start + BATCH]:
                await Region.update({Region.name: r["name"], Region.parent_code: r["parent_code"]}).where(
                    Region.code == r["code"]
                )
    region_cache_clear()
    return len(new), len(changed)


async def ensure_shipped_regions() -> None:
    """Kota Tangerang is always there (run by ``sigap migrate``)."""
    if not await Region.exists().where(Region.code == "36.71.11.1005"):
        await import_regions(SHIPPED_DIR)


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


@lru_cache
def bounding_box(code: str) -> BoundingBox | None:
    path = SHIPPED_DIR / "bbox.csv"
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["code"] == code:
                return BoundingBox(*(float(row[k]) for k in ("min_lat", "min_lon", "max_lat", "max_lon")))
    return None


# Region names are read on almost every page: cache them per process.
_names: dict[str, str] = {}
# So are the lists behind the kecamatan and kelurahan pickers and filters:
# reference data, changed only by `sigap regions import` (another process:
# a running server sees it within LIST_TTL_S) or `sigap migrate`.
_lists: dict[tuple, tuple[float, list[dict]]] = {}
LIST_TTL_S = 300.0


def region_cache_clear() -> None:
    _names.clear()
    _lists.clear()


async def _cached_list(key: tuple, load) -> list[dict]:
    hit = _lists.get(key)
    now = time.monotonic()
    if hit is None or now - hit[0] > LIST_TTL_S:
        if len(_lists) >= 256:  # keys come from requests (?parent=): stay small
            _lists.clear()
        hit = _lists[key] = (now, await load())
    return [dict(row) for row in hit[1]]  # callers may change their copy


async def region_names(codes: set[str]) -> dict[str, str]:
    missing = [c for c in codes if c and c not in _names]
    if missing:
        for row in await Region.select(Region.code, Region.name).where(Region.code.is_in(missing)):
            _names[row["code"]] = row["name"]
    return {c: _names.get(c, c) for c in codes if c}


async def districts(region: str) -> list[dict]:
    return await _cached_list(
        ("districts", region),
        lambda: Region.select(Region.code, Region.name).where(Region.parent_code == region).order_by(Region.name).run(),
    )


async def villages(region: str, district: str | None = None) -> list[dict]:
    def load():  # only on a miss: building the query costs more than the cache hit
        query = Region.select(Region.code, Region.name, Region.parent_code).where(
            (Region.level == RegionLevel.village.value) & (Region.code.like(f"{region}.%"))
        )
        if district:
            query = query.where(Region.parent_code == district)
        return query.order_by(Region.name).run()

    return await _cached_list(("villages", region, district), load)


async def village(code: str) -> dict | None:
    return await Region.select().where((Region.code == code) & (Region.level == RegionLevel.village.value)).first()
