"""A user's full name (姓名), optional: an expert's appears in the award notice's list of the
panel (评审专家名单, 财政部令第87号 Art. 69), which a username is not."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "user full name"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="govbuy", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        await db.execute(
            """ALTER TABLE users ADD COLUMN full_name varchar(64)
                   CHECK (full_name IS NULL OR length(btrim(full_name)) > 0)"""
        )

    manager.add_raw(run)
    return manager
