"""The public notices of contracts (`/api/v1/public/notices`, DESIGN §8): an index in the list's
order for contract notices (signature) and terminations. Owned by the public disclosure layer
(govbuy/public); it lives here because it must run after the contracts table exists."""

from govbuy.migration import sql_migration

ID = "2026-12-03T15:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "contract notices"

SQL = """
CREATE INDEX contracts_notices ON contracts (activated_at DESC, id DESC) WHERE activated_at IS NOT NULL;
CREATE INDEX contracts_terminations ON contracts (terminated_at DESC) WHERE terminated_at IS NOT NULL;
"""


forwards = sql_migration(ID, "contracts", DESCRIPTION, SQL)
