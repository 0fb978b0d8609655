"""The public notices (`/api/v1/public/notices`, DESIGN §8): an index per kind of notice in the
list's order (publication time, newest first), so that a page of notices merges four index
scans and never sorts a table. Tenders have theirs since procurement_0002.

Owned by the public disclosure layer (govbuy/public); it lives here because it must run after
the tables exist.
"""

from govbuy.migration import sql_migration

ID = "2026-12-03T14:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "public notices"

SQL = """
CREATE INDEX tender_awards_notices ON tender_awards (awarded_at DESC, id DESC);
CREATE INDEX tender_challenges_notices ON tender_challenges (resolved_at DESC, id DESC)
    WHERE status IN ('upheld', 'dismissed');
CREATE INDEX complaints_notices ON complaints (decided_at DESC, id DESC) WHERE status = 'decided';
"""


forwards = sql_migration(ID, "procurement", DESCRIPTION, SQL)
