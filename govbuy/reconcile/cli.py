"""`govbuy reconcile`: the stored money against the audit log (see govbuy/reconcile/service.py);
exits 1 when anything differs, for a cron job's alert."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from govbuy import database as db
from govbuy.reconcile import service


def cmd_reconcile(args: argparse.Namespace) -> None:
    result = db.run_job(lambda: service.reconcile(args.limit))
    for d in result.differences:
        print(f"{d.entity_type} {d.entity_id} {d.field}: stored {d.stored}, from events {d.from_events}")
    print(f"{result.differences_total} difference(s) over {', '.join(result.fields_checked)}")
    if not result.ok:
        sys.exit(1)


def register_commands(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "reconcile", help="compare budget lines, contracts and payments with their audit events"
    )
    command.add_argument("--limit", type=int, default=service.MAX_DIFFERENCES, help="at most this many differences listed")
    command.set_defaults(func=cmd_reconcile)
