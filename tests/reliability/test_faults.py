"""The database going away under load: clean 503s, recovery by itself, and every write accounted for.

The service runs as on a bare machine, with its own embedded PostgreSQL in a temporary folder;
the test stops that server (`pg_ctl stop -m immediate`: as abrupt as a crash for the data) in the
middle of bids, grades and tender publications, and starts it again (bench/faults.py does the
work; `python -m bench.faults` is the long version with its figures).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys

import pytest

from bench import faults, harness
from govbuy.embedded import watch_embedded_server


@pytest.fixture(scope="module")
def embedded_service(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("faults")
    server = harness.start_server(data_dir)
    try:
        harness.accounts_for_every_role(server, roles=("bureau", "vendor", "supervisor"))
        yield server
    finally:
        server.stop()
        harness.stop_embedded(data_dir)


@pytest.fixture(scope="module")
def restart_report(embedded_service) -> faults.FaultReport:
    report = asyncio.run(
        faults.run(embedded_service, vendors=3, tenders=8, fault_at=1.5, outage=2.5, duration=6.0, mode="immediate")
    )
    print("\n" + report.table())
    return report


def test_requests_during_the_outage_fail_with_503_problem_json_and_never_hang(restart_report):
    during = restart_report.during_outage()
    assert during, "the load did not overlap the outage"
    failed = [o for o in during if o.status >= 400 or o.status == 0]
    assert failed, "nothing failed while the database was down"
    assert {(o.status, o.code) for o in failed} <= {(503, "database_unavailable"), (503, "database_timeout")}
    assert all(o.problem_json for o in failed)
    assert max(o.latency for o in restart_report.outcomes) < 10, "a request waited on the dead database"


def test_no_server_error_other_than_503_and_every_accepted_write_is_whole(restart_report):
    assert not restart_report.violations, "\n".join(restart_report.violations)
    assert restart_report.checked["bids"] > 0 and restart_report.checked["grades"] > 0


def test_the_service_recovers_by_itself_when_the_database_is_back(restart_report):
    assert restart_report.recovery_seconds is not None
    assert restart_report.recovery_seconds < 5, f"first accepted write {restart_report.recovery_seconds:.1f} s after"
    assert restart_report.ready_after is not None


def test_health_says_the_embedded_server_stopped_and_the_log_says_so_once(restart_report, embedded_service):
    assert restart_report.health_during_outage == "stopped"
    lines = [r["message"] for r in embedded_service.log_records() if (r["level"], r["logger"]) == ("ERROR", "govbuy.embedded")]
    assert len([line for line in lines if "server is down" in line]) == 1, lines
    assert len([line for line in lines if "server is back" in line]) == 1, lines


async def test_the_watchdog_logs_a_vanished_postmaster_once_and_its_return_once(tmp_path, caplog):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()

    def postmaster() -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        (pgdata / "postmaster.pid").write_text(f"{process.pid}\n{pgdata}\n")
        return process

    first = postmaster()
    caplog.set_level(logging.INFO, logger="govbuy.embedded")
    watchdog = asyncio.create_task(watch_embedded_server(tmp_path, interval=0.02))
    try:
        await asyncio.sleep(0.1)
        first.kill()
        first.wait()
        await asyncio.sleep(0.2)  # ten looks at a missing postmaster: one line
        second = postmaster()
        await asyncio.sleep(0.2)
        second.kill()
        second.wait()
    finally:
        watchdog.cancel()
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "govbuy.embedded"]
    assert [level for level, _ in records] == [logging.ERROR, logging.ERROR], records
    assert "is down" in records[0][1] and "is back" in records[1][1]
    assert str(second.pid) in records[1][1]
