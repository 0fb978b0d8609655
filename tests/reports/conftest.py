"""Report tests render through the real process pool: stop it after each module."""

from __future__ import annotations

import pytest

from govbuy import reports


@pytest.fixture(scope="module", autouse=True)
def stop_renderer_after_module():
    yield
    reports.shutdown_renderer()
