"""Indexes for the LKS list and search at 100,000 LKS (make bench-registry).

SQLite has no statistics (nothing runs ANALYZE): it assumes an equality on an
indexed column matches ~10 rows. With single-column indexes on
low-cardinality columns it therefore reads e.g. all 58,000 "registered" LKS
through the status index and sorts them, for a page of 25, and counts the
same way (~60 ms each). So on SQLite:

* those indexes go (kind, registration_status, accreditation_status,
  risk_level, open_incident, documents_complete, kecamatan_code), and so do
  the plain name and valid_until ones;
* in their place, covering indexes in the order of the list's main sorts
  (name, valid_until, updated_at), each followed by id (the tie-breaker) and
  every filter column: a page walks the index in order and checks the
  filters inside it (25 table reads); a count scans a narrow index instead of
  the 90 MB table. No covering index starts with a low-cardinality column:
  that is the trap above. Sorting by status or kecamatan scans
  registry_lks_list_name and sorts (~30-60 ms at 100,000 LKS);
* search_text gets an FTS5 trigram index (substring search, as LIKE
  '%word%'), kept in step with the table by triggers.

PostgreSQL has statistics and uses the single-column indexes well; it gets
an index for the "recently changed" sort (updated_at, id) and a pg_trgm GIN
index on search_text, which LIKE '%word%' uses.

The Lks table keeps its ``index=True`` flags (true on PostgreSQL); this
migration is the only place that knows SQLite differs.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "LKS list and search indexes for large registers"

FILTERS = (
    "kind", "registration_status", "kecamatan_code", "kelurahan_code",
    "accreditation_status", "risk_level", "open_incident", "documents_complete",
)
SQLITE_DROPPED = (
    "registry_lks_kind", "registry_lks_registration_status", "registry_lks_accreditation_status",
    "registry_lks_risk_level", "registry_lks_open_incident", "registry_lks_documents_complete",
    "registry_lks_kecamatan_code", "registry_lks_name", "registry_lks_valid_until",
)
SQLITE_LIST_INDEXES = {
    "registry_lks_list_name": "name",
    "registry_lks_list_valid_until": "valid_until",
    "registry_lks_list_updated": "updated_at",
}
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE registry_lks_fts USING fts5("
    "search_text, content='registry_lks', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER registry_lks_fts_insert AFTER INSERT ON registry_lks BEGIN"
    " INSERT INTO registry_lks_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER registry_lks_fts_delete AFTER DELETE ON registry_lks BEGIN"
    " INSERT INTO registry_lks_fts(registry_lks_fts, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER registry_lks_fts_update AFTER UPDATE OF search_text ON registry_lks BEGIN"
    " INSERT INTO registry_lks_fts(registry_lks_fts, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text);"
    " INSERT INTO registry_lks_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO registry_lks_fts(registry_lks_fts) VALUES ('rebuild')",
]
POSTGRES = [
    "CREATE INDEX registry_lks_updated ON registry_lks (updated_at, id)",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX registry_lks_search_trgm ON registry_lks USING gin (search_text gin_trgm_ops)",
]


def _sqlite_forwards() -> list[str]:
    out = [f"DROP INDEX IF EXISTS {name}" for name in SQLITE_DROPPED]
    for name, column in SQLITE_LIST_INDEXES.items():
        columns = ", ".join([column, "id", *FILTERS])
        out.append(f"CREATE INDEX {name} ON registry_lks ({columns})")
    return out + SQLITE_FTS


def _sqlite_backwards() -> list[str]:
    out = [
        "DROP TRIGGER IF EXISTS registry_lks_fts_insert",
        "DROP TRIGGER IF EXISTS registry_lks_fts_delete",
        "DROP TRIGGER IF EXISTS registry_lks_fts_update",
        "DROP TABLE IF EXISTS registry_lks_fts",
    ]
    out += [f"DROP INDEX IF EXISTS {name}" for name in SQLITE_LIST_INDEXES]
    for name in SQLITE_DROPPED:
        out.append(f"CREATE INDEX IF NOT EXISTS {name} ON registry_lks ({name.removeprefix('registry_lks_')})")
    return out


async def _run(forwards: bool) -> None:
    from registry.tables import Lks

    if Lks._meta.db.engine_type == "sqlite":
        statements = _sqlite_forwards() if forwards else _sqlite_backwards()
    else:
        statements = POSTGRES if forwards else [
            "DROP INDEX IF EXISTS registry_lks_search_trgm",
            "DROP INDEX IF EXISTS registry_lks_updated",
        ]
    for sql in statements:
        await Lks.raw(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run_forwards() -> None:
        await _run(forwards=True)

    async def run_backwards() -> None:
        await _run(forwards=False)

    manager.add_raw(run_forwards)
    manager.add_raw_backwards(run_backwards)
    return manager
