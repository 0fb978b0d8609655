"""When the bureau's answer to each challenge is due (政府采购法 Art. 53: 7 working days).

Existing challenges get theirs computed from their filing time with the calendar as recorded
(the same rule the service applies to new ones).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T10:20:00:000004"
VERSION = "1.38.0"
DESCRIPTION = "challenge reply due"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)

    async def run():
        from govbuy import clock
        from govbuy import database as db
        from procurement.rules import challenge_reply_due

        await db.execute("ALTER TABLE tender_challenges ADD COLUMN reply_due timestamptz")
        calendar = await clock.load_calendar()
        rows = await db.fetch("SELECT id, filed_at FROM tender_challenges")
        if rows:
            await db.execute(
                """UPDATE tender_challenges c SET reply_due = u.due
                   FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, due) WHERE c.id = u.id""",
                [r["id"] for r in rows],
                [challenge_reply_due(r["filed_at"], calendar) for r in rows],
            )
        await db.execute(
            """ALTER TABLE tender_challenges ALTER COLUMN reply_due SET NOT NULL,
                   ADD CONSTRAINT tender_challenges_reply_due CHECK (reply_due > filed_at)"""
        )

    manager.add_raw(run)
    return manager
