"""`govbuy ocds-backfill`: publish a first release for every published process that has none
(data loaded before the feed existed, or by a process that ran without the feed's listener).
`govbuy retry-releases`: publish the releases owed by changes whose release could not be built
(run it periodically; `/health` counts what is owed).

Registering its commands also registers the feed's audit listener, so every CLI command that
changes a process publishes its releases.
"""

from __future__ import annotations

import argparse
from typing import Any

from govbuy import database as db
from govbuy.public import feed


async def backfill() -> int:
    """Publish the current state of every published tender without a release; how many."""
    return await feed.backfill()


def cmd_backfill(_: argparse.Namespace) -> None:
    published = db.run_job(backfill)
    print(f"published {published} release(s)")


def cmd_retry(_: argparse.Namespace) -> None:
    published, failing = db.run_job(feed.retry_owed)
    print(f"published {published} release(s) owed, {failing} still failing")
    if failing:
        raise SystemExit(1)


def register_commands(subparsers: Any) -> None:
    feed.register()
    subparsers.add_parser(
        "ocds-backfill", help="publish an OCDS release for every published tender that has none"
    ).set_defaults(func=cmd_backfill)
    subparsers.add_parser(
        "retry-releases", help="publish the OCDS releases owed by changes whose release could not be built"
    ).set_defaults(func=cmd_retry)
