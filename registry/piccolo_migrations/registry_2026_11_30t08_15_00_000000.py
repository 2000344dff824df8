"""Count indexes for the LKS list on SQLite (issue 13, search at 100,000).

The list runs a page query and a count. Since 2026-11-22 SQLite has only
covering indexes in sort order (see that migration): a page walks one and
stops after 25 rows, but every filtered count scanned a whole covering index
(100,000 entries) whatever the filter. These narrow indexes lead with the
filter columns, so a count reads only the matching entries (e.g. 1,467
"elderly, expired" instead of 100,000). The trap that migration describes
(SQLite without statistics fetching 58,000 "registered" LKS through such an
index for a page, and sorting them) is avoided by the page query, which
writes its filter terms as ``+column = ?`` (registry.search.filtered):
only counts use these indexes.

PostgreSQL keeps its single-column indexes and statistics: nothing changes.
Additive: indexes only.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T08:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "LKS count indexes on SQLite"

# Each leads with a filter column and holds every other filter column, so a
# count never reads the table (risk_level only in the accreditation one: the
# daily plan rewrites risk levels, and each index holding it costs there).
OTHERS = ("kind", "registration_status", "accreditation_status", "open_incident", "documents_complete",
          "kecamatan_code", "kelurahan_code")
SQLITE_COUNT_INDEXES = {
    "registry_lks_count_kecamatan": ("kecamatan_code",),
    "registry_lks_count_kind": ("kind",),
    "registry_lks_count_status": ("registration_status",),
    "registry_lks_count_accreditation": ("accreditation_status", "risk_level"),
    "registry_lks_count_incident": ("open_incident",),
    "registry_lks_count_documents": ("documents_complete",),
}


def _columns(lead: tuple[str, ...]) -> str:
    return ", ".join([*lead, *(c for c in OTHERS if c not in lead)])


async def _run(forwards: bool) -> None:
    from registry.tables import Lks

    if Lks._meta.db.engine_type != "sqlite":
        return
    for name, lead in SQLITE_COUNT_INDEXES.items():
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
