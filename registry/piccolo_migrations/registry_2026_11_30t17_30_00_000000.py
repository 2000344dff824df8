"""Sort indexes for the LKS list on PostgreSQL (issue 13, the list at
100,000 LKS). The list orders by a column and then by id; PostgreSQL had
single-column indexes only, so it walked the column's index and sorted
each run of equal values by id (an "incremental sort"), and for the
status and kecamatan orders it read every matching row: at 100,000 LKS,
``?sort=kecamatan&registration_status=registered&page=3`` took 9-34 ms
and ``?sort=status&kind=elderly`` 14-138 ms (the machine was busy),
0.3-2 ms with these. SQLite has had its covering sort indexes since the
migrations of 2026-11-22 and 2026-11-30 14:10, so nothing changes there.
Additive: indexes only.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "LKS list sort indexes (column, id) on PostgreSQL"

POSTGRES_SORT_INDEXES = {
    "registry_lks_sort_name": "name",
    "registry_lks_sort_valid_until": "valid_until",
    "registry_lks_sort_status": "registration_status",
    "registry_lks_sort_kecamatan": "kecamatan_code",
}


async def _run(forwards: bool) -> None:
    from registry.tables import Lks

    if Lks._meta.db.engine_type == "sqlite":
        return
    for name, column in POSTGRES_SORT_INDEXES.items():
        if forwards:
            await Lks.raw(f"CREATE INDEX IF NOT EXISTS {name} ON registry_lks ({column}, id)")
        else:
            await Lks.raw(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run_forwards() -> None:
        await _run(forwards=True)

    async def run_backwards() -> None:
        await _run(forwards=False)

    manager.add_raw(run_forwards)
    manager.add_raw_backwards(run_backwards)
    return manager
