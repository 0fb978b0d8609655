"""A live `govbuy serve` on a database of its own, for the fuzzer."""

from __future__ import annotations

import pytest

from tests.reliability.live import live_server as start_live_server


@pytest.fixture(scope="module")
def live_server(server_dsn: str, tmp_path_factory: pytest.TempPathFactory):
    with start_live_server(server_dsn, tmp_path_factory.mktemp("live")) as server:
        yield server
