"""`govbuy prerender-reports`: render, ahead of the requests, the reports whose current data has no
stored render yet (the store: govbuy/report_store.py), so that the API serves them from the store:

- the evaluation reports of accepted evaluations: with `--since`, those whose data changed at or
  after that time (re-rendered only if their new data digest is not stored); without it, those
  with no stored render at all;
- each bureau's annual report of the budget year (the service clock's year in Asia/Shanghai,
  unless `--year`): every bureau with budget lines that year.

Meant to run periodically (a job of the worker, or cron), each run with `--since` the start of
the last one. Candidates are found with a few set-based statements; each report then gathers
its data and renders as a request would, through `render_pdf`, which skips what is stored.

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from time import perf_counter
from uuid import UUID

from contracts import reports as contract_reports
from evaluation import reports as evaluation_reports
from govbuy import clock, report_store, reports
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.rules import SHANGHAI
from planning import service as planning

log = logging.getLogger("govbuy.prerender")

# Reads as an admin does: every report is the same document whoever reads it.
SYSTEM_READER = Actor(UUID(int=0), "system", "admin", UUID(int=0), "platform")


@dataclass(frozen=True)
class Summary:
    year: int
    evaluation_reports: int  # looked at
    annual_reports: int  # looked at
    rendered: int
    skipped: int  # already stored
    failed: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"prerender-reports: {self.rendered} rendered, {self.skipped} already stored, {self.failed} failed"
            f" (looked at {self.evaluation_reports} evaluation report(s) and {self.annual_reports} annual"
            f" report(s) of {self.year}) in {self.seconds:.1f} s"
        )


async def evaluations_to_render(changed_since: datetime | None, limit: int | None = None) -> list[UUID]:
    """Accepted evaluations whose report changed since the time given, else those without any
    stored render; at most `limit`."""
    ids = await evaluation_reports.accepted_report_ids(changed_since)
    if changed_since is None:
        stored = await report_store.stored_subjects(
            evaluation_reports.TEMPLATE, [str(i) for i in ids], renderer_version=reports.RENDERER_VERSION
        )
        ids = [i for i in ids if str(i) not in stored]
    return ids[:limit] if limit is not None else ids


async def bureaus_of_year(year: int) -> list[UUID]:
    """The bureaus with budget lines in the year: those that have an annual report."""
    rows = await db.fetch(
        f"SELECT DISTINCT bl.bureau_id FROM {planning.budget_lines_sql()} bl WHERE bl.year = $1 ORDER BY 1", year
    )
    return [r["bureau_id"] for r in rows]


async def _run_all(jobs: Sequence[Callable[[], Awaitable[object]]], concurrency: int) -> int:
    """Run the jobs, `concurrency` at a time; how many failed (each is logged)."""
    pending = iter(jobs)
    failed = 0

    async def runner() -> None:
        nonlocal failed
        for job in pending:
            try:
                await job()
            except Exception:  # one report's failure must not stop the others
                failed += 1
                log.exception("pre-rendering %s failed", job)

    await asyncio.gather(*(runner() for _ in range(concurrency)))
    return failed


async def prerender(changed_since: datetime | None = None, year: int | None = None, limit: int | None = None) -> Summary:
    """Render every report whose current data digest has no stored render (see the module)."""
    started = perf_counter()
    renders_before = reports.render_count()
    year = year or (await clock.today()).year
    evaluation_ids = await evaluations_to_render(changed_since, limit)
    bureau_ids = await bureaus_of_year(year)
    # The annual reports first: the longest renders start while the short ones fill the pool.
    jobs = [partial(contract_reports.annual_report, SYSTEM_READER, year, b) for b in bureau_ids]
    jobs += [partial(evaluation_reports.evaluation_report, SYSTEM_READER, e) for e in evaluation_ids]
    # One more runner than renderer processes keeps them busy while a runner gathers data.
    failed = await _run_all(jobs, concurrency=reports.report_workers() + 1)
    rendered = reports.render_count() - renders_before
    return Summary(
        year, len(evaluation_ids), len(bureau_ids), rendered, len(jobs) - rendered - failed, failed,
        perf_counter() - started,
    )


def parse_since(value: str) -> datetime:
    """An ISO date or time; without an offset it is Beijing time."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def cmd_prerender_reports(args: argparse.Namespace) -> None:
    async def work() -> Summary:
        try:
            return await prerender(args.since, args.year, args.limit)
        finally:
            reports.shutdown_renderer()

    print(db.run_job(work))


def register_commands(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "prerender-reports", help="render the evaluation and annual reports whose current data has no stored render"
    )
    command.add_argument("--since", type=parse_since, help="evaluations whose report changed at or after this time "
                         "(ISO 8601; Beijing time without an offset); default: those without a stored render")
    command.add_argument("--year", type=int, help="the budget year of the annual reports (default: the current one)")
    command.add_argument("--limit", type=int, help="at most this many evaluation reports")
    command.set_defaults(func=cmd_prerender_reports)
