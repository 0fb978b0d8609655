"""A live `govbuy serve` on a database of its own, shared by the tests of this folder."""

from __future__ import annotations

import pytest

from tests.reliability.live import live_server as start_live_server


@pytest.fixture(scope="session")
def live_server(server_dsn: str, tmp_path_factory: pytest.TempPathFactory):
    with start_live_server(server_dsn, tmp_path_factory.mktemp("live")) as server:
        yield server
