"""The inbox's order (`GET /api/v1/notifications`: unread first, then newest): an index that
serves it for one organisation without sorting."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T15:40:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "notification inbox"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="govbuy", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        await db.execute(
            """CREATE INDEX notifications_unread_first
                   ON notifications (organisation_id, (read_at IS NOT NULL), created_at DESC, id DESC)"""
        )

    manager.add_raw(run)
    return manager
