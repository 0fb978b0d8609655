"""Procurement's commands: `govbuy open-due-tenders` opens every tender whose bid deadline has
passed (for a cron job or a worker; requests open them anyway)."""

from __future__ import annotations

import argparse


def cmd_open_due_tenders(args: argparse.Namespace) -> None:
    from govbuy import database as db
    from procurement import service

    opened = db.run_job(lambda: service.open_due_tenders(limit=args.limit))
    print(f"opened {opened} tender(s)")


def register_commands(subparsers: argparse._SubParsersAction) -> None:
    opener = subparsers.add_parser("open-due-tenders", help="open every tender whose bid deadline has passed")
    opener.add_argument("--limit", type=int, default=1000, help="at most this many tenders")
    opener.set_defaults(func=cmd_open_due_tenders)
