"""Indexes for the staff dashboard (overview.dashboard.services.snapshot).

The dashboard counts every LKS by kecamatan, registration status,
accreditation status and grade, and risk level in one GROUP BY, and the
certificates issued per month by ``registered_on``. Without these indexes
both read the whole table (about 0.4 s together at 100,000 LKS on SQLite);
with them each reads a covering index in GROUP BY order (about 15 ms).
Created on both databases (PostgreSQL: an index-only scan once vacuumed).
Additive: indexes only.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "LKS indexes for the dashboard's counts"

INDEXES = {
    "registry_lks_overview": "kecamatan_code, registration_status, accreditation_status, accreditation_grade, risk_level",
    "registry_lks_registered_on": "registered_on",
}


async def _run(forwards: bool) -> None:
    from registry.tables import Lks

    for name, columns in INDEXES.items():
        if forwards:
            await Lks.raw(f"CREATE INDEX IF NOT EXISTS {name} ON registry_lks ({columns})")
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
