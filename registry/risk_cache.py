"""The LKS's risk level is a cache of joint monitoring's assessment, kept in
its own narrow table (``LksRisk``, registry_lks_risk) rather than on the
LKS row: the daily plan rewrites tens of thousands of levels at a time
(issue 13). Only joint monitoring writes it, through this module; every
reader gets it as the ``risk_level`` of an LKS row through ``RISK_LEVEL``
(a column for ``Lks.select``) or ``lks_columns()`` (all of an LKS's columns),
and filters by it with ``risk_filter``. The old registry_lks.risk_level
column is no longer written or read."""

from __future__ import annotations

from piccolo.columns.combination import WhereRaw
from piccolo.query import SelectRaw

from registry.tables import Lks, LksRisk, RiskLevel
from sigap.db import insert_many, is_sqlite

# One lookup by the unique key per row returned (a page's 25, one LKS).
RISK_LEVEL = SelectRaw(
    '(SELECT "registry_lks_risk"."level" FROM "registry_lks_risk"'
    ' WHERE "registry_lks_risk"."lks" = "registry_lks"."id") AS "risk_level"'
)


def lks_columns() -> tuple:
    """Every column of an LKS row, its risk level from the cache."""
    return (*Lks.all_columns(exclude=[Lks.risk_level]), RISK_LEVEL)


def risk_filter(level: str, *, drive: bool = True) -> WhereRaw:
    """LKS at ``level``. ``drive=False`` (SQLite's page queries, which walk a
    sort index) looks up each row met in the unique (lks) index, rather than
    first listing every LKS at that level (26,000 "high" of 100,000: 3.8 ms
    to list, 0.1 ms to walk to a page of 25 with the lookup; with
    "accredited" too, 4.8 -> 0.9 ms)."""
    RiskLevel(level)
    if not drive and is_sqlite():
        return WhereRaw(
            '(SELECT "registry_lks_risk"."level" FROM "registry_lks_risk"'
            ' WHERE "registry_lks_risk"."lks" = "registry_lks"."id") = {}',
            level,
        )
    return WhereRaw(
        '"registry_lks"."id" IN (SELECT "registry_lks_risk"."lks" FROM "registry_lks_risk"'
        ' WHERE "registry_lks_risk"."level" = {})',
        level,
    )


async def count_at(level: str) -> int:
    """How many LKS are at ``level``: the narrow table's (level, lks) index
    answers alone (a risk row's LKS exists: the foreign key cascades)."""
    RiskLevel(level)
    rows = await LksRisk.raw('SELECT COUNT(*) AS n FROM "registry_lks_risk" WHERE "level" = {}', level)
    return rows[0]["n"]


async def set_levels(levels: dict[int, str]) -> None:
    """Store the levels of many LKS at once (insert or update by LKS, in
    batches: SQLite multi-row statements, PostgreSQL COPY + one upsert)."""
    for level in set(levels.values()):
        RiskLevel(level)  # a wrong value is a bug of the caller
    await insert_many(
        LksRisk, [LksRisk.lks, LksRisk.level], list(levels.items()), conflict=LksRisk.lks, update=[LksRisk.level]
    )


async def set_level(lks_id: int, level: str) -> None:
    """One LKS's level (inside the caller's write transaction, if any)."""
    RiskLevel(level)
    await LksRisk.raw(
        'INSERT INTO "registry_lks_risk" ("lks", "level") VALUES ({}, {}) '
        'ON CONFLICT ("lks") DO UPDATE SET "level" = excluded."level"',
        lks_id, level,
    )
