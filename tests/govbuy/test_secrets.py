"""Outside the sandbox `govbuy serve` refuses a secret left at an example value (.env.example,
docker-compose.yml as it was, anything beginning with "change-me"), naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from govbuy.settings import SettingsError, example_secrets_in_use, get_settings, refuse_example_secrets

ROOT = Path(__file__).resolve().parents[2]


def _settings(**changes):
    return get_settings().model_copy(update={"sandbox": False, **changes})


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"secret_key": "change-me-to-a-long-random-string"}, "GOVBUY_SECRET_KEY"),
        ({"admin_password": "change-me-please"}, "GOVBUY_ADMIN_PASSWORD"),
        ({"metrics_token": "CHANGE-ME"}, "GOVBUY_METRICS_TOKEN"),
        ({"database_url": "postgresql://govbuy:govbuy@db:5432/govbuy"}, "the password in DATABASE_URL"),
        (
            {"migration_database_url": "postgresql://govbuy_owner:change-me-owner-password@db/govbuy"},
            "the password in GOVBUY_MIGRATION_DATABASE_URL",
        ),
    ],
)
def test_an_example_secret_is_refused_outside_the_sandbox_naming_its_variable(changes, named):
    settings = _settings(**changes)
    assert example_secrets_in_use(settings) == [named]
    with pytest.raises(SettingsError, match=named):
        refuse_example_secrets(settings)


def test_chosen_secrets_and_urls_without_passwords_are_accepted():
    settings = _settings(
        secret_key="f" * 64, admin_password="a long one chosen by the operator",
        database_url="postgresql://postgres@127.0.0.1:5432/postgres", migration_database_url=None,
    )
    refuse_example_secrets(settings)


def test_the_sandbox_accepts_example_secrets():
    refuse_example_secrets(_settings(secret_key="change-me-to-a-long-random-string").model_copy(update={"sandbox": True}))


def test_serve_exits_before_starting_anything_with_a_clear_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBUY_") and k != "DATABASE_URL"}
    env.update(GOVBUY_DATA_DIR=str(tmp_path), GOVBUY_OCID_PREFIX="ocds-test00", GOVBUY_SECRET_KEY="change-me-to-a-long-random-string",
               GOVBUY_ADMIN_PASSWORD="change-me-please")
    done = subprocess.run(
        [sys.executable, "-m", "govbuy.cli", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "GOVBUY_SECRET_KEY, GOVBUY_ADMIN_PASSWORD are set to an example value" in done.stderr
    assert not (tmp_path / "pgdata").exists()
