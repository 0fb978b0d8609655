"""Planning's commands: `govbuy import-catalogue` loads a whole guidance catalogue (指导性目录)
from an .xlsx or .csv file with a progress bar; `govbuy negative-list` prints the negative list
(负面清单) in force as the JSON a GOVBUY_NEGATIVE_LIST_FILE holds, or checks one."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

Progress = Callable[[str, int, "int | None"], None]  # (stage, rows done, rows in all)


async def import_file(
    path: Path,
    *,
    catalogue_id: UUID | str | None = None,
    region_code: str | None = None,
    year: int | None = None,
    title: str | None = None,
    publish: bool = False,
    progress: Progress | None = None,
) -> Any:
    """Import `path` into a draft catalogue (an existing one, or a new draft for the region and
    year), as the platform operator; publish it afterwards if asked."""
    from govbuy import database as db
    from planning import service
    from planning.schemas import CatalogueCreate

    content = path.read_bytes()
    if catalogue_id is None and not (region_code and year):
        raise SystemExit("give --catalogue-id, or --region-code and --year for a new draft")
    # One transaction: a file with a bad row leaves no new draft behind either.
    async with db.transaction():
        if catalogue_id is None:
            catalogue = await service.create_catalogue(
                None, CatalogueCreate(region_code=region_code, year=year, title=title or f"{year} 政府购买服务指导性目录")
            )
            catalogue_id = catalogue.id
        result = await service.import_catalogue(None, UUID(str(catalogue_id)), path.name, content, progress)
        if publish:
            await service.publish_catalogue(None, UUID(str(catalogue_id)), None)
    return result


def cmd_import_catalogue(args: argparse.Namespace) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from govbuy import database as db

    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        sys.exit(2)
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{stage} {path.name}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        started = time.perf_counter()
        result = db.run_job(
            lambda: import_file(
                path,
                catalogue_id=args.catalogue_id,
                region_code=args.region_code,
                year=args.year,
                title=args.title,
                publish=args.publish,
                progress=progress,
            )
        )
    levels = ", ".join(f"level {k}: {v}" for k, v in sorted(result.by_level.items()))
    print(
        f"imported {result.imported} items ({levels}) into catalogue {result.catalogue_id}"
        f"{' and published it' if args.publish else ''} in {time.perf_counter() - started:.1f} s"
    )


def cmd_negative_list(args: argparse.Namespace) -> None:
    import json

    from planning import rules, service

    try:
        if args.check:
            patterns = rules.negative_patterns_from_data(json.loads(Path(args.check).read_text(encoding="utf-8")))
        else:
            patterns = service.negative_patterns()
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    if args.check:
        print(f"{args.check}: {len(patterns)} patterns, all valid")
        return
    print(json.dumps(rules.negative_patterns_as_data(patterns), ensure_ascii=False, indent=2))


def register_commands(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "import-catalogue", help="import a guidance catalogue (指导性目录) from an .xlsx or .csv file"
    )
    command.add_argument("file", help="file with a header row: code, name, description")
    command.add_argument("--catalogue-id", help="an existing draft catalogue to import into")
    command.add_argument("--region-code", help="start a new draft for this region (6 digits) …")
    command.add_argument("--year", type=int, help="… and year")
    command.add_argument("--title", help="title of the new draft")
    command.add_argument("--publish", action="store_true", help="publish the catalogue after the import")
    command.set_defaults(func=cmd_import_catalogue)

    command = subparsers.add_parser(
        "negative-list",
        help="print the negative list (负面清单) in force as JSON, the format of GOVBUY_NEGATIVE_LIST_FILE",
    )
    command.add_argument("--check", metavar="FILE", help="check a negative-list file instead, and say what is wrong")
    command.set_defaults(func=cmd_negative_list)
