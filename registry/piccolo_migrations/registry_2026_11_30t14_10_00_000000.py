"""Sort indexes for the LKS list's "status" and "kecamatan" orders on SQLite
(issue 13, the list at 100,000 LKS). The migration of 2026-11-22 gave the
name, validity and last-change sorts a covering index in sort order (the
column, id, every filter column): a page walks it and stops after its
rows. Sorting by registration status or kecamatan had none: SQLite read
every matching row and sorted them (``?sort=kecamatan&registration_status=
registered&page=3``: 17.6 ms of SQLite's CPU for 25 rows, 0.1 ms with
its index; ``?sort=status&kind=elderly``: 5.3 -> 0.1 ms). Same shape, less
the old registry_lks.risk_level column (no longer read: registry.risk_cache).
PostgreSQL sorts well with its statistics and single-column indexes, but
counted a list filtered on two columns by reading the whole table
(``?kind=lksa&registration_status=registered``: 97 ms, a sequential scan of
62 MB); it gets one narrow index of every filter column, which such counts
read alone (index-only scan: 4.4 ms; kind + status + kecamatan ... in any
combination).
Additive: indexes only.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "LKS list sort indexes for status and kecamatan on SQLite, a count index on PostgreSQL"

FILTERS = (
    "kind", "registration_status", "kecamatan_code", "kelurahan_code", "accreditation_status", "open_incident",
    "documents_complete",
)
SQLITE_SORT_INDEXES = {
    "registry_lks_list_status": "registration_status",
    "registry_lks_list_kecamatan": "kecamatan_code",
}


def _columns(lead: str) -> str:
    return ", ".join([lead, "id", *(c for c in FILTERS if c != lead)])


POSTGRES_COUNT_INDEX = (
    "registry_lks_count_filters",
    "registration_status, kind, kecamatan_code, accreditation_status, open_incident, documents_complete, kelurahan_code",
)


async def _run(forwards: bool) -> None:
    from registry.tables import Lks

    if Lks._meta.db.engine_type != "sqlite":
        name, columns = POSTGRES_COUNT_INDEX
        if forwards:
            await Lks.raw(f"CREATE INDEX IF NOT EXISTS {name} ON registry_lks ({columns})")
        else:
            await Lks.raw(f"DROP INDEX IF EXISTS {name}")
        return
    for name, lead in SQLITE_SORT_INDEXES.items():
        if forwards:
            await Lks.raw(f"CREATE INDEX IF NOT EXISTS {name} ON registry_lks ({_columns(lead)})")
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
