"""The `regulator` role (DESIGN §1): users of a bureau that is its region's 政府采购监督管理部门,
who handle complaints (投诉, 财政部令第94号) and may suspend a procurement."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T13:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "regulator role"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="govbuy", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        await db.execute(
            """ALTER TABLE users DROP CONSTRAINT users_role_check,
                   ADD CONSTRAINT users_role_check CHECK (role IN
                       ('admin','bureau','vendor','expert','evaluator','regulator','supervisor'))"""
        )

    manager.add_raw(run)
    return manager
