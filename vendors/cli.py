"""Vendors' commands: `govbuy recompute-ratings` rates every vendor (set-based, batched)."""

from __future__ import annotations

import argparse
import time


def cmd_recompute_ratings(args: argparse.Namespace) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from govbuy import database as db
    from vendors import service

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("rating vendors", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        started = time.perf_counter()
        stored = db.run_job(lambda: service.recompute_all(batch=args.batch, progress=progress))
    print(f"{stored} ratings changed and stored in {time.perf_counter() - started:.1f} s")


def register_commands(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("recompute-ratings", help="recompute every vendor's credit rating")
    command.add_argument("--batch", type=int, default=5000, help="vendors per transaction")
    command.set_defaults(func=cmd_recompute_ratings)
