"""Settings from the environment: the documented defaults, a bad value named at start (no
traceback), and `govbuy check-config` showing what is in force with its secrets masked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from govbuy.settings import ROOT, ConfigError, Settings, effective_settings, get_settings, load_settings, refuse_default_ocid_prefix

SECRETS = {
    "GOVBUY_SECRET_KEY": "signing-key-that-must-stay-hidden-0123",
    "GOVBUY_ADMIN_PASSWORD": "admin-password-that-must-stay-hidden",
    "GOVBUY_METRICS_TOKEN": "scrape-token-that-must-stay-hidden",
    "DATABASE_URL": "postgresql://govbuy:db-password-hidden@db.example:5432/govbuy",
}


@pytest.fixture
def bare_environment(monkeypatch, tmp_path):
    """No GOVBUY_* variable nor DATABASE_URL but a data folder of the test's own."""
    for name in list(os.environ):
        if name.startswith("GOVBUY_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("GOVBUY_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _problems(monkeypatch, **variables: str) -> list[str]:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    return refused.value.problems


def test_the_defaults_are_the_documented_ones(bare_environment, tmp_path):
    settings = load_settings()
    assert settings.model_dump() == {
        "database_url": None, "migration_database_url": None, "data_dir": tmp_path.resolve(), "sandbox": False,
        "secret_key": None, "audit_key": None,
        "token_ttl_seconds": 3600, "admin_username": None, "admin_password": None,
        "pool_min_size": 2, "pool_max_size": 20, "max_json_bytes": 1024 * 1024, "max_upload_bytes": 20 * 1024 * 1024,
        "ocid_prefix": "ocds-govbuy", "ocds_publisher": "govbuy 政府购买服务信息公开", "ocds_publisher_uid": None,
        "ocds_license": "https://creativecommons.org/licenses/by/4.0/", "ocds_publication_policy": None,
        "public_url": "http://127.0.0.1:8000", "metrics_token": None, "negative_keywords": None,
        "negative_list_file": None, "login_max_failures": 5, "login_window_seconds": 86400,
        "login_address_max_failures": 20, "login_first_delay_seconds": 30, "login_max_delay_seconds": 900,
        "login_known_address_days": 90,
        "report_store_max_bytes": 2 * 1024**3, "report_store_max_age_days": 180, "cors_origins": (),
        "trusted_proxies": (), "forwarded_header": "x-forwarded-for",
        "request_deadline_seconds": 10.0, "long_request_deadline_seconds": 120.0, "pool_acquire_timeout_seconds": 5.0,
        "health_timeout_seconds": 1.0, "parse_workers": 2, "parse_timeout_seconds": 10.0,
        "parse_memory_bytes": 512 * 1024 * 1024, "import_max_rows": 50_000, "import_max_cells": 500_000,
        "host": "127.0.0.1", "port": 8000, "workers": 1, "log_level": "INFO", "log_format": "json",
    }
    assert settings.embedded


def test_a_value_that_is_not_an_integer_is_named_with_its_variable(bare_environment):
    assert _problems(bare_environment, GOVBUY_TOKEN_TTL_SECONDS="abc") == ["GOVBUY_TOKEN_TTL_SECONDS: not an integer (got 'abc')"]


def test_every_bad_value_is_reported_at_once(bare_environment):
    problems = _problems(
        bare_environment, GOVBUY_SANDBOX="perhaps", GOVBUY_POOL_MAX_SIZE="0", GOVBUY_LOG_FORMAT="xml",
        GOVBUY_PUBLIC_URL="govbuy.example", GOVBUY_PORT="70000",
    )
    assert problems == [
        "GOVBUY_SANDBOX: not a boolean (1/0, true/false, yes/no, on/off) (got 'perhaps')",
        "GOVBUY_POOL_MAX_SIZE: must be greater than 0 (got '0')",
        "GOVBUY_PUBLIC_URL: not an http:// or https:// address (got 'govbuy.example')",
        "GOVBUY_PORT: must be at most 65535 (got '70000')",
        "GOVBUY_LOG_FORMAT: must be one of 'json' or 'text' (got 'xml')",
    ]


def test_a_pool_whose_floor_is_above_its_ceiling_is_refused(bare_environment):
    assert _problems(bare_environment, GOVBUY_POOL_MIN_SIZE="30") == ["GOVBUY_POOL_MIN_SIZE (30) is above GOVBUY_POOL_MAX_SIZE (20)"]


def test_an_empty_variable_counts_as_unset(bare_environment):
    for name in ("GOVBUY_TOKEN_TTL_SECONDS", "GOVBUY_SANDBOX", "DATABASE_URL", "GOVBUY_METRICS_TOKEN"):
        bare_environment.setenv(name, "")
    settings = load_settings()
    assert (settings.token_ttl_seconds, settings.sandbox, settings.database_url, settings.metrics_token) == (3600, False, None, None)


def test_values_are_read_as_the_service_always_read_them(bare_environment):
    for name, value in {
        "GOVBUY_SANDBOX": "yes", "GOVBUY_CORS_ORIGINS": " https://a.example.gov.cn, ,https://b.example.gov.cn ",
        "GOVBUY_NEGATIVE_KEYWORDS": "茶歇,宴请, ", "GOVBUY_PUBLIC_URL": "https://govbuy.example.gov.cn/",
        "GOVBUY_LOG_LEVEL": "warning", "DATABASE_URL": "postgresql://u@h/db",
    }.items():
        bare_environment.setenv(name, value)
    settings = load_settings()
    assert settings.sandbox and not settings.embedded
    assert settings.cors_origins == ("https://a.example.gov.cn", "https://b.example.gov.cn")
    assert settings.negative_keywords == ("茶歇", "宴请")
    assert settings.public_url == "https://govbuy.example.gov.cn"
    assert settings.log_level == "WARNING"


def test_get_settings_follows_the_environment_once_its_cache_is_cleared(bare_environment):
    assert get_settings().token_ttl_seconds == 3600
    bare_environment.setenv("GOVBUY_TOKEN_TTL_SECONDS", "7")
    assert get_settings().token_ttl_seconds == 3600
    get_settings.cache_clear()
    assert get_settings().token_ttl_seconds == 7


def test_without_a_secret_key_one_is_made_once_and_kept_in_the_data_folder(bare_environment, tmp_path):
    key = get_settings().secret_key
    assert key and (tmp_path / "secret_key").read_text() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    get_settings.cache_clear()
    assert get_settings().secret_key == key


def test_settings_are_frozen_and_copied_with_changes(bare_environment):
    settings = get_settings()
    changed = settings.model_copy(update={"negative_keywords": ("茶歇",)})
    assert (changed.negative_keywords, settings.negative_keywords) == (("茶歇",), None)
    with pytest.raises(ValueError):
        settings.token_ttl_seconds = 1  # type: ignore[misc]
    assert isinstance(settings, Settings)


# --- the command ------------------------------------------------------------------------------


def _govbuy(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBUY_") and k != "DATABASE_URL"}
    env.update(GOVBUY_DATA_DIR=str(tmp_path), **variables)
    return subprocess.run([sys.executable, "-m", "govbuy.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_config_prints_every_setting_with_its_secrets_masked(tmp_path):
    done = _govbuy(tmp_path, "check-config", GOVBUY_ADMIN_USERNAME="root-admin", **SECRETS)
    assert done.returncode == 0, done.stderr
    for secret in (*SECRETS.values(), "db-password-hidden"):
        if secret != SECRETS["DATABASE_URL"]:
            assert secret not in done.stdout + done.stderr
    shown = dict(line.split(None, 1) for line in done.stdout.splitlines())
    assert shown["DATABASE_URL"] == "postgresql://govbuy:********@db.example:5432/govbuy"
    assert shown["GOVBUY_SECRET_KEY"] == shown["GOVBUY_ADMIN_PASSWORD"] == shown["GOVBUY_METRICS_TOKEN"] == "********"
    assert (shown["GOVBUY_ADMIN_USERNAME"], shown["GOVBUY_TOKEN_TTL_SECONDS"]) == ("root-admin", "3600")
    assert shown.keys() == {f"GOVBUY_{name.upper()}" for name in Settings.model_fields if name != "database_url"} | {"DATABASE_URL"}
    assert not (tmp_path / "secret_key").exists()  # checking makes nothing


def test_check_config_fails_naming_every_bad_variable(tmp_path):
    done = _govbuy(tmp_path, "check-config", GOVBUY_TOKEN_TTL_SECONDS="abc", GOVBUY_LOGIN_MAX_FAILURES="-1")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "GOVBUY_TOKEN_TTL_SECONDS: not an integer" in done.stderr
    assert "GOVBUY_LOGIN_MAX_FAILURES: must be greater than 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_to_start_on_a_bad_value_with_one_clear_message(tmp_path):
    done = _govbuy(tmp_path, "serve", GOVBUY_TOKEN_TTL_SECONDS="abc")
    assert done.returncode == 2
    assert done.stderr.strip() == "govbuy: invalid configuration:\n  GOVBUY_TOKEN_TTL_SECONDS: not an integer (got 'abc')"


def test_serve_refuses_the_shared_ocid_prefix_outside_the_sandbox(tmp_path):
    done = _govbuy(tmp_path, "serve", GOVBUY_SECRET_KEY=SECRETS["GOVBUY_SECRET_KEY"])
    assert done.returncode == 2
    assert "GOVBUY_OCID_PREFIX is unset (or the default 'ocds-govbuy'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "pgdata").exists()


def test_the_sandbox_may_publish_under_the_default_prefix(bare_environment):
    refuse_default_ocid_prefix(load_settings().model_copy(update={"sandbox": True}))
    bare_environment.setenv("GOVBUY_OCID_PREFIX", "ocds-a1b2c3")
    refuse_default_ocid_prefix(load_settings())


def test_the_ocds_settings_are_checked(bare_environment):
    problems = _problems(
        bare_environment, GOVBUY_OCID_PREFIX="govbuy", GOVBUY_OCDS_PUBLISHER_UID="91440300MA5DC0000X",
        GOVBUY_OCDS_LICENSE="cc-by", GOVBUY_OCDS_PUBLICATION_POLICY="/policy",
    )
    assert [p.split(":")[0] for p in problems] == [
        "GOVBUY_OCID_PREFIX", "GOVBUY_OCDS_PUBLISHER_UID", "GOVBUY_OCDS_LICENSE", "GOVBUY_OCDS_PUBLICATION_POLICY",
    ]


def test_the_publication_policy_defaults_to_the_services_own_page(bare_environment):
    bare_environment.setenv("GOVBUY_PUBLIC_URL", "https://gp.example.gov.cn/")
    settings = load_settings()
    assert settings.publication_policy_url == "https://gp.example.gov.cn/api/v1/public/ocds/publication-policy"
    assert effective_settings(settings)["GOVBUY_OCDS_PUBLICATION_POLICY"].startswith(settings.publication_policy_url)
