"""Search of tender titles for the public listing (`/api/v1/public/tenders?q=`): a trigram GIN
index, which serves `title ILIKE '%…%'` for Chinese as well as for Latin text (see docs/ocds.md),
and an index for the public listing's order (publication time, newest first).

Owned by the public disclosure layer (govbuy/public); it lives here because it must run after
the tenders table exists.
"""

from govbuy.migration import sql_migration

ID = "2026-11-22T03:29:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "public tender search"

SQL = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tenders_title_trgm ON tenders USING gin (title gin_trgm_ops);
CREATE INDEX tenders_public_list ON tenders (published_at DESC, id DESC) WHERE published_at IS NOT NULL;
"""


forwards = sql_migration(ID, "procurement", DESCRIPTION, SQL)
