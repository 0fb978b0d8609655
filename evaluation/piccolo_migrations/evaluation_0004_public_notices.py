"""The acceptance results among the public notices (`/api/v1/public/notices`, DESIGN §8): an
index in the list's order. Owned by the public disclosure layer; it lives here because it must
run after the evaluations table exists."""

from govbuy.migration import sql_migration

ID = "2026-12-03T15:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "acceptance notices"

SQL = """
CREATE INDEX evaluations_notices ON evaluations (accepted_at DESC, id DESC) WHERE accepted_at IS NOT NULL;
"""


forwards = sql_migration(ID, "evaluation", DESCRIPTION, SQL)
