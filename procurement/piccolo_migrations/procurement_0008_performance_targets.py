"""A tender's performance targets (绩效目标, 财库〔2021〕22号; 预算法 Art. 32): [{indicator, unit,
target, direction, figure}], part of its public terms; tenders made before have none."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T14:50:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "performance targets"

SQL = """
ALTER TABLE tenders ADD COLUMN performance_targets jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(performance_targets) = 'array');
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        await db.execute(SQL)

    manager.add_raw(run)
    return manager
