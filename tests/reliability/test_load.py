"""A short load: 200 concurrent clients, a few requests each, bidding while a deadline passes,
paying milestones with repeated Idempotency-Keys and reading what is public (bench/load.py does
the work; `python -m bench.load` is the long run with its figures)."""

from __future__ import annotations

import asyncio

import pytest

from bench import load
from tests.reliability.live import live_server as start_live_server

CLIENTS = 200


@pytest.fixture(scope="module")
def load_report(server_dsn, tmp_path_factory) -> load.LoadReport:
    # A server of its own: the fuzzer's writes (clock, calendar) must not shape this run.
    with start_live_server(server_dsn, tmp_path_factory.mktemp("load"), pool_max_size=16) as server:
        report = asyncio.run(
            load.run(server, server.env["DATABASE_URL"], clients=CLIENTS, duration=60, requests_per_client=3,
                     vendors=6, tenders=4, contracts=1, deadline_at=1.5)
        )
    print("\n" + report.table())
    return report


def test_two_hundred_clients_get_no_server_error(load_report):
    assert len(load_report.samples) == CLIENTS * 3
    assert not load_report.server_errors(), load_report.table()


def test_no_write_is_lost_or_duplicated(load_report):
    assert not load_report.violations, "\n".join(load_report.violations)
    assert load_report.checked["bids"] > 0


def test_bids_race_the_deadline_and_payments_race_each_other(load_report):
    outcomes = {(s.kind, s.status, s.code) for s in load_report.samples}
    assert ("bid", 201, None) in outcomes
    assert ("bid", 409, "bid_already_submitted") in outcomes or ("bid", 409, "bid_deadline_passed") in outcomes
    if load_report.checked.get("payments") is not None:
        assert load_report.payments, "no payment was made"
        assert all(len(ids) == 1 for ids in load_report.payments.values())


def test_memory_is_sampled_and_does_not_run_away(load_report):
    assert len(load_report.rss) >= 2
    assert load_report.rss_end() - load_report.rss_start() < 150 * 1024 * 1024, load_report.table()
