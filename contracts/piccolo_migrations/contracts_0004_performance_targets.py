"""The performance targets a contract inherits from its tender (绩效目标, 财库〔2021〕22号)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T14:50:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "contract performance targets"

SQL = """
ALTER TABLE contracts ADD COLUMN performance_targets jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(performance_targets) = 'array');
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contracts", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        await db.execute(SQL)

    manager.add_raw(run)
    return manager
