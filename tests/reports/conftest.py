"""Report tests render through the real process pool; it is stopped once, after the package
(starting its spawned workers costs seconds, so not once per module)."""

from __future__ import annotations

import pytest

from govbuy import reports


@pytest.fixture(scope="package", autouse=True)
def stop_renderer_after_the_reports_tests():
    yield
    reports.shutdown_renderer()
