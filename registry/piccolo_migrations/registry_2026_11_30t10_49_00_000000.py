"""The LKS risk level moves to its own narrow table (issue 13, the plan job
at 100,000 LKS): registry_lks_risk, created by the previous migration, gets
the levels stored so far on registry_lks, and an index (level, lks) that
answers the list's risk filter without reading the table.

registry_lks.risk_level stays (migrations are additive) but is no longer
written or read: see registry/risk_cache.py."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T10:49:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "LKS risk levels in their own table"


async def _run(forwards: bool) -> None:
    from registry.tables import Lks

    if forwards:
        await Lks.raw(
            'INSERT INTO "registry_lks_risk" ("lks", "level") SELECT "id", "risk_level" FROM "registry_lks"'
            ' WHERE "risk_level" IS NOT NULL ON CONFLICT ("lks") DO NOTHING'
        )
        await Lks.raw('CREATE INDEX IF NOT EXISTS "registry_lks_risk_level_lks" ON "registry_lks_risk" ("level", "lks")')
    else:
        await Lks.raw('DROP INDEX IF EXISTS "registry_lks_risk_level_lks"')
        await Lks.raw(
            'UPDATE "registry_lks" SET "risk_level" = (SELECT "level" FROM "registry_lks_risk"'
            ' WHERE "registry_lks_risk"."lks" = "registry_lks"."id")'
        )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run_forwards() -> None:
        await _run(forwards=True)

    async def run_backwards() -> None:
        await _run(forwards=False)

    manager.add_raw(run_forwards)
    manager.add_raw_backwards(run_backwards)
    return manager
