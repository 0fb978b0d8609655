"""A frozen database stalls no request: with the embedded PostgreSQL stopped by SIGSTOP, a
public read and a write each answer 503 `database_unavailable` with Retry-After within the
request deadline, `/health` says degraded, and after SIGCONT everything works again.

Before the deadline (govbuy/deadline.py) and the pool's acquire timeout, a 45 s freeze gave the
writes a 503 after 40 s and the reads nothing at all while `/health` said ok. The server here
has a 2 s deadline so that the test stays short (bench/stalls.py freeze: the default 10 s).
"""

from __future__ import annotations

import pytest

from bench import harness, stalls

DEADLINE = 2.0
HEALTH_TIMEOUT = 0.5
# Allowed on top of the deadline and the probe for the answer to come back on a noisy machine.
SLACK = 3.0
FREEZE = DEADLINE + HEALTH_TIMEOUT + SLACK + 1


@pytest.fixture(scope="module")
def frozen_run(tmp_path_factory) -> stalls.FreezeRun:
    data_dir = tmp_path_factory.mktemp("freeze")
    server = harness.start_server(
        data_dir,
        extra_env={
            "GOVBUY_REQUEST_DEADLINE_SECONDS": str(DEADLINE),
            "GOVBUY_HEALTH_TIMEOUT_SECONDS": str(HEALTH_TIMEOUT),
            "GOVBUY_POOL_ACQUIRE_TIMEOUT_SECONDS": "1",
        },
    )
    try:
        bureau = harness.accounts_for_every_role(server, roles=("bureau",))["bureau"]
        yield stalls.freeze_and_probe(server, bureau, FREEZE)
    finally:
        harness.freeze_database(data_dir, False)
        server.stop()
        harness.stop_embedded(data_dir)


@pytest.mark.parametrize("kind", ["public_read", "write"])
def test_a_request_during_the_freeze_answers_503_database_unavailable_within_the_deadline(frozen_run, kind):
    answer: stalls.Answer = getattr(frozen_run, kind)
    assert (answer.status, answer.code) == (503, "database_unavailable")
    assert answer.retry_after is not None
    assert answer.seconds < DEADLINE + HEALTH_TIMEOUT + SLACK, f"answered after {answer.seconds:.1f} s"


def test_health_says_degraded_during_the_freeze_and_answers_meanwhile(frozen_run):
    assert {"status": "degraded", "database": "unreachable"}.items() <= frozen_run.health[-1].items()
    assert max(frozen_run.health_latencies) < HEALTH_TIMEOUT + SLACK


def test_everything_works_again_after_the_thaw(frozen_run):
    assert [a.status for a in frozen_run.after_thaw] == [200, 200]
