"""A live `govbuy serve` for the security tests that call it over HTTP."""

from __future__ import annotations

import pytest

from tests.reliability.live import live_server as start_live_server


@pytest.fixture(scope="session")
def security_server(server_dsn: str, tmp_path_factory: pytest.TempPathFactory):
    with start_live_server(server_dsn, tmp_path_factory.mktemp("security")) as server:
        yield server
