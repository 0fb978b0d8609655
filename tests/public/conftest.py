"""Public tests run the feed strictly: a release that cannot be built fails the change."""

from __future__ import annotations

import pytest

from govbuy.public import feed


@pytest.fixture(autouse=True)
def strict_feed():
    feed.strict = True
    yield
    feed.strict = False
