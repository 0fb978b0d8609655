"""Contracts' commands: `govbuy release-withheld` releases the withheld part of payments made
before withheld money left the commitment at payment (once, after upgrading)."""

from __future__ import annotations

import argparse


def cmd_release_withheld(args: argparse.Namespace) -> None:
    from contracts import service
    from govbuy import database as db

    released = db.run_job(lambda: service.release_outstanding_withheld())
    print(f"released the withheld part of {released} payment(s)")


def register_commands(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser(
        "release-withheld", help="release withheld money of payments made before it was released at payment"
    ).set_defaults(func=cmd_release_withheld)
