"""When the withheld part of a payment left its budget line's commitment. Payments made before
govbuy released withheld money keep NULL here until `govbuy release-withheld` releases them
(through the service, so each release is audited)."""

from govbuy.migration import sql_migration

ID = "2026-12-03T14:40:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "withheld money released"

SQL = """
ALTER TABLE payments ADD COLUMN withheld_released_at timestamptz;
CREATE INDEX payments_withheld_unreleased ON payments (created_at, id)
    WHERE withheld_amount > 0 AND withheld_released_at IS NULL;
"""


forwards = sql_migration(ID, "contracts", DESCRIPTION, SQL)
