"""The end-to-end scenarios run at the run's instant and at each of the tricky ones."""

from __future__ import annotations

import pytest

from tests.conftest import instant_params


@pytest.fixture(params=instant_params())
def service_instant(request: pytest.FixtureRequest):
    return request.param
