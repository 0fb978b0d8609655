"""The store of rendered reports: PDF bytes kept in PostgreSQL (`rendered_reports`), keyed by the
render cache key (the data digest under the renderer version, `reports.render_cache_key`).

`reports.render_pdf` looks in its in-process cache, then here, and only then renders, storing
what it rendered: every API process and host serves a report rendered once by any of them, and
a restart keeps it. Two processes that render the same report at once store it once
(`ON CONFLICT DO NOTHING`); the bytes are the same anyway (same input, same bytes).

Bounded by the settings `report_store_max_bytes` and `report_store_max_age_days`: after each new
render the longest unserved reports are dropped until the rest fit. `served_at` is moved on at
most once per TOUCH_INTERVAL_SECONDS per report, so that serving a report is not a write each
time. The times are the database's wall clock, not the service's (sandbox) clock: they describe
the store, not the procurement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from govbuy import database as db
from govbuy.settings import get_settings

if TYPE_CHECKING:
    from govbuy.reports import RenderedPdf

TOUCH_INTERVAL_SECONDS = 600

_LOAD_SQL = """
WITH touched AS (
    UPDATE rendered_reports SET served_at = now()
    WHERE cache_key = $1 AND served_at < now() - make_interval(secs => $2)
)
SELECT content, sha256, data_digest, page_count FROM rendered_reports WHERE cache_key = $1
"""

_TOUCH_SQL = """
UPDATE rendered_reports SET served_at = now()
WHERE cache_key = $1 AND served_at < now() - make_interval(secs => $2)
"""

_SAVE_SQL = """
INSERT INTO rendered_reports (cache_key, data_digest, renderer_version, template, subject, content, sha256,
                              page_count, size, created_at, served_at)
VALUES ($1, $2, $3, $4, $5, $6::bytea, $7, $8, octet_length($6::bytea), now(), now())
ON CONFLICT (cache_key) DO NOTHING
"""

# Keep the most recently served reports whose sizes add up to the byte bound, and none unserved
# for longer than the age bound (0 days: no age bound).
_EVICT_SQL = """
WITH ranked AS (
    SELECT cache_key, served_at, sum(size) OVER (ORDER BY served_at DESC, cache_key DESC) AS kept_bytes
    FROM rendered_reports
)
DELETE FROM rendered_reports r USING ranked
WHERE r.cache_key = ranked.cache_key
  AND (ranked.kept_bytes > $1 OR ($2 > 0 AND ranked.served_at < now() - make_interval(days => $2)))
"""


async def load(key: str) -> RenderedPdf | None:
    """The stored report of a render cache key, or None; marks it served."""
    from govbuy.reports import RenderedPdf

    row = await db.fetchrow(_LOAD_SQL, key, TOUCH_INTERVAL_SECONDS)
    if row is None:
        return None
    return RenderedPdf(bytes(row["content"]), row["sha256"], row["data_digest"], row["page_count"])


async def touch(key: str) -> None:
    """Mark a report served (one the in-process cache served), unless it was lately."""
    await db.execute(_TOUCH_SQL, key, TOUCH_INTERVAL_SECONDS)


async def save(key: str, rendered: RenderedPdf, *, renderer_version: str, template: str, subject: str | None) -> bool:
    """Store a rendered report, unless its key is stored already; then keep the store in its
    bounds. Whether this call stored it."""
    status = await db.execute(
        _SAVE_SQL, key, rendered.data_digest, renderer_version, template, subject,
        rendered.content, rendered.sha256, rendered.page_count,
    )
    stored = status == "INSERT 0 1"
    if stored:
        await evict()
    return stored


async def evict(max_bytes: int | None = None, max_age_days: int | None = None) -> int:
    """Drop the longest unserved reports beyond the bounds (the settings' unless given); how many."""
    settings = get_settings()
    max_bytes = settings.report_store_max_bytes if max_bytes is None else max_bytes
    max_age_days = settings.report_store_max_age_days if max_age_days is None else max_age_days
    status = await db.execute(_EVICT_SQL, max_bytes, max_age_days)
    return int(status.split()[-1])


async def stored_subjects(template: str, subjects: Sequence[str], *, renderer_version: str) -> set[str]:
    """Which of these subjects have a stored report of this template by this renderer version
    (of any data digest: not necessarily their current data)."""
    rows = await db.fetch(
        """SELECT DISTINCT subject FROM rendered_reports
           WHERE template = $1 AND renderer_version = $2 AND subject = ANY($3::text[])""",
        template, renderer_version, list(subjects),
    )
    return {r["subject"] for r in rows}
