"""`govbuy ocds-backfill`: publish a first release for every published process that has none
(data loaded before the feed existed, or by a process that ran without the feed's listener).

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


def register_commands(subparsers: Any) -> None:
    feed.register()
    subparsers.add_parser(
        "ocds-backfill", help="publish an OCDS release for every published tender that has none"
    ).set_defaults(func=cmd_backfill)
