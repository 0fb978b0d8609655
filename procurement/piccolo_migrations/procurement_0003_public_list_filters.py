"""Indexes for the public tender list filtered by status or by bureau
(`/api/v1/public/tenders?status=…`, `?bureau_id=…`), which is ordered by publication time.

Without them those filters walk the publication-time index and drop what does not match: at a
million tenders `?status=awarded` skipped 20,000 rows (15 ms) and grew with the table; with
them each filter reads its first page straight off an index (see docs/performance.md). Both are
partial, like `tenders_public_list`: drafts are never listed publicly.
"""

from govbuy.migration import sql_migration

ID = "2026-11-22T04:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "public tender list: status and bureau filters"

SQL = """
CREATE INDEX tenders_public_status ON tenders (status, published_at DESC, id DESC) WHERE published_at IS NOT NULL;
CREATE INDEX tenders_public_bureau ON tenders (bureau_id, published_at DESC, id DESC) WHERE published_at IS NOT NULL;
"""


forwards = sql_migration(ID, "procurement", DESCRIPTION, SQL)
