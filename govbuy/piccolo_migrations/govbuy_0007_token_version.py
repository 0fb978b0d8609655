"""A user's token version: every bearer token carries the version it was issued under, and only
tokens of the current version are accepted. Logging out, changing the password and disabling the
account raise it, so that no earlier token works again — not even after the account is enabled."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T15:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "token version"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="govbuy", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        await db.execute("ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 1 CHECK (token_version > 0)")

    manager.add_raw(run)
    return manager
