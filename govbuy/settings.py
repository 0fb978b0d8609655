"""Settings, read once from the environment (GOVBUY_* and DATABASE_URL) and checked by
pydantic-settings: a bad value stops a command at start with the variable's name and what is
wrong with it (`ConfigError`), and `govbuy check-config` shows what is in force, secrets masked.

An empty variable counts as unset (its default applies)."""

from __future__ import annotations

import ipaddress
import re
import secrets
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from govbuy.rules import RuleViolation
from govbuy.uscc import validate_uscc

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
# Shared by every deployment that does not set its own, so never published outside the sandbox.
DEFAULT_OCID_PREFIX = "ocds-govbuy"
# The path of the publication policy page (govbuy/public/controllers.py) under public_url.
PUBLICATION_POLICY_PATH = "/api/v1/public/ocds/publication-policy"
ENV_PREFIX = "GOVBUY_"
# Never shown by check-config nor echoed in an error; DATABASE_URL shows all but its password.
SECRET_FIELDS = frozenset({"secret_key", "audit_key", "admin_password", "metrics_token"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _comma_separated(value: Any) -> Any:
    return value.split(",") if isinstance(value, str) else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="ignore")

    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    # The owner role's server, for migrations (docs/operations.md); DATABASE_URL's without it.
    migration_database_url: str | None = None
    data_dir: Path = ROOT / ".govbuy"
    sandbox: bool = False
    # Unset: one kept in the data folder, generated on first use (get_settings).
    secret_key: str | None = None
    # The audit chain's HMAC key (govbuy/audit.py); unset: one kept in the data folder.
    audit_key: str | None = None
    token_ttl_seconds: PositiveInt = 3600
    admin_username: str | None = None
    admin_password: str | None = None
    pool_min_size: PositiveInt = 2
    pool_max_size: PositiveInt = 20
    max_json_bytes: PositiveInt = 1024 * 1024
    max_upload_bytes: PositiveInt = 20 * 1024 * 1024
    # The OCDS feed (docs/ocds.md, "Operation"): the ocid prefix registered with OCDS for this
    # publisher (the default is for the sandbox only: `govbuy serve` refuses it outside), the
    # publisher's name and USCC (统一社会信用代码, published as scheme CN-USCI), the data's
    # licence and the publication policy (unset: the service's own page under public_url).
    ocid_prefix: str = DEFAULT_OCID_PREFIX
    ocds_publisher: str = "govbuy 政府购买服务信息公开"
    ocds_publisher_uid: str | None = None
    ocds_license: str = "https://creativecommons.org/licenses/by/4.0/"
    ocds_publication_policy: str | None = None
    # Where the public reaches the service: the stable URLs of notices (and the OCDS documents
    # that point at them) are built on it, not on whatever host a request used.
    public_url: str = "http://127.0.0.1:8000"
    # /metrics shows business activity: with a token only to whoever presents it, without one
    # only to callers on this host (the operator's scraper, not the public listener).
    metrics_token: str | None = None
    negative_keywords: Annotated[tuple[str, ...] | None, NoDecode] = None
    negative_list_file: Path | None = None
    # The sign-in limiter (govbuy/auth.py): failures of one account from one address before it
    # backs off, failures from one address across accounts before that address backs off (for
    # accounts never signed in from it), the first delay (doubling with each further failure,
    # capped), and how long a failure and a known address are remembered.
    login_max_failures: PositiveInt = 5
    login_window_seconds: PositiveInt = 86400
    login_address_max_failures: PositiveInt = 20
    login_first_delay_seconds: PositiveInt = 30
    login_max_delay_seconds: PositiveInt = 900
    login_known_address_days: NonNegativeInt = 90
    # The store of rendered reports (govbuy/report_store.py): at most this many bytes of PDF,
    # and none left unserved longer than this many days (0: no age bound).
    report_store_max_bytes: NonNegativeInt = 2 * 1024**3
    report_store_max_age_days: NonNegativeInt = 180
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # Proxies (CIDRs) whose forwarded-for header is read: a request from one of them has its
    # client taken as the right-most address of that header that is not a proxy.
    trusted_proxies: Annotated[tuple[IpNetwork, ...], NoDecode] = ()
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
    # No request may stall the service (docs/reliability.md §5c): every request answers within
    # its deadline (503 past it, govbuy/deadline.py), the routes marked long-running (imports, PDF
    # reports, the full audit walk) within the long one; a free connection is waited for so
    # long; /health and /ready wait so long for the database's answer.
    request_deadline_seconds: PositiveFloat = 10.0
    long_request_deadline_seconds: PositiveFloat = 120.0
    pool_acquire_timeout_seconds: PositiveFloat = 5.0
    health_timeout_seconds: PositiveFloat = 1.0
    # The parsing of uploads (govbuy/offload.py): child processes at a time per server process,
    # and each one's time and memory; a catalogue import file's data rows and cells (shared
    # strings of a workbook too).
    parse_workers: PositiveInt = 2
    parse_timeout_seconds: PositiveFloat = 10.0
    parse_memory_bytes: PositiveInt = 512 * 1024 * 1024
    import_max_rows: PositiveInt = 50_000
    import_max_cells: PositiveInt = 500_000
    # `govbuy serve`'s defaults (its options win) and the log's.
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    workers: PositiveInt = 1
    log_level: Literal[LOG_LEVELS] = "INFO"  # type: ignore[valid-type]
    log_format: Literal["json", "text"] = "json"

    @property
    def embedded(self) -> bool:
        return not self.database_url

    @property
    def publication_policy_url(self) -> str:
        return self.ocds_publication_policy or self.public_url + PUBLICATION_POLICY_PATH

    @field_validator("data_dir", "negative_list_file")
    @classmethod
    def _resolved(cls, value: Path | None) -> Path | None:
        return value.resolve() if value is not None else None

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("not an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("ocds_license", "ocds_publication_policy")
    @classmethod
    def _document_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("not an http:// or https:// address")
        return value

    @field_validator("ocid_prefix")
    @classmethod
    def _ocid_prefix(cls, value: str) -> str:
        # As OCDS assigns them: `ocds-` and six lowercase letters or digits.
        if not re.fullmatch(r"ocds-[a-z0-9]{6}", value):
            raise ValueError("not an OCDS ocid prefix (ocds- and six lowercase letters or digits, e.g. ocds-a1b2c3)")
        return value

    @field_validator("ocds_publisher_uid")
    @classmethod
    def _uscc(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_uscc(value)
        except RuleViolation as exc:
            raise ValueError(f"not a valid 统一社会信用代码 (USCC): {exc.detail}") from None

    @field_validator("negative_keywords", mode="before")
    @classmethod
    def _keywords(cls, value: Any) -> Any:
        # The phrases as written (a space may belong to one); blank ones dropped.
        return tuple(k for k in _comma_separated(value) if k.strip()) if value is not None else None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return tuple(o.strip() for o in _comma_separated(value) if o.strip())

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        # Comma-separated CIDRs; a bare address is its own /32 or /128.
        return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in _comma_separated(value) if n.strip())

    @field_validator("forwarded_header", mode="before")
    @classmethod
    def _header_name(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError(
                f"{env_name('pool_min_size')} ({self.pool_min_size}) is above {env_name('pool_max_size')} ({self.pool_max_size})"
            )
        return self


class ConfigError(Exception):
    """The environment does not make valid settings: one line per variable at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


def env_name(field: str) -> str:
    """The environment variable a setting is read from."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else ENV_PREFIX + field.upper()


_MESSAGES = {
    "int_parsing": "not an integer",
    "int_from_float": "not an integer",
    "bool_parsing": "not a boolean (1/0, true/false, yes/no, on/off)",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "literal_error": "must be one of {expected}",
}


def _problem(error: dict[str, Any]) -> str:
    field = str(error["loc"][0]) if error["loc"] else None
    template = _MESSAGES.get(error["type"])
    message = template.format(**error.get("ctx", {})) if template else error["msg"].removeprefix("Value error, ")
    if field is None:
        return message
    if field not in Settings.model_fields:  # reported under its alias
        field = next((name for name in Settings.model_fields if env_name(name) == field), field)
    shown = "" if field in SECRET_FIELDS else f" (got {error['input']!r})"
    return f"{env_name(field)}: {message}{shown}"


def load_settings() -> Settings:
    """The settings the environment makes, or ConfigError naming every variable at fault."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError([_problem(error) for error in exc.errors()]) from None
    except SourceError as exc:
        raise ConfigError([str(exc)]) from None


def kept_secret(path: Path, variable: str | None = None, configured: str | None = None) -> str:
    """A key as configured (the setting, else the environment variable), else the one kept in a
    file of the data folder, made on first use. The file appears whole and with mode 0600
    (written aside, then linked into place), and if another process made it first, that one is
    kept and read."""
    configured = configured or (os.environ.get(variable) if variable else None)
    if configured:
        return configured
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, aside = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(aside)
    kept = path.read_text().strip()
    if not kept:
        raise RuntimeError(f"{path} is empty: restore the key from its backup" + (f", or set {variable}" if variable else ""))
    return kept


#: The values the repository's examples give the secrets — `.env.example`, and what
#: docker-compose.yml carried before it required them — plus anything beginning with
#: EXAMPLE_PREFIX: known to everyone who read the repository, so never a secret in production.
EXAMPLE_SECRETS = frozenset({
    "change-me-to-a-long-random-string",
    "change-me-please",
    "change-me-postgres-password",
    "change-me-owner-password",
    "change-me-app-password",
    "govbuy",
})
EXAMPLE_PREFIX = "change-me"


class SettingsError(ValueError):
    """A setting the service refuses to start with; the message names the variable."""


def is_example_secret(value: str) -> bool:
    return value in EXAMPLE_SECRETS or value.lower().startswith(EXAMPLE_PREFIX)


def _url_password(url: str | None) -> str | None:
    password = urlsplit(url).password if url else None
    return unquote(password) if password else None


def example_secrets_in_use(settings: Settings) -> list[str]:
    """The secrets (by the variable that sets them) left at an example value."""
    secrets_by_name = {
        "GOVBUY_SECRET_KEY": settings.secret_key,
        "GOVBUY_AUDIT_KEY": settings.audit_key,
        "GOVBUY_ADMIN_PASSWORD": settings.admin_password,
        "GOVBUY_METRICS_TOKEN": settings.metrics_token,
        "the password in DATABASE_URL": _url_password(settings.database_url),
        "the password in GOVBUY_MIGRATION_DATABASE_URL": _url_password(settings.migration_database_url),
    }
    return [name for name, value in secrets_by_name.items() if value and is_example_secret(value)]


def refuse_example_secrets(settings: Settings) -> None:
    """In production (not the sandbox), refuse to run with a secret left at its example value."""
    if settings.sandbox:
        return
    named = example_secrets_in_use(settings)
    if named:
        raise SettingsError(
            f"{', '.join(named)} {'is' if len(named) == 1 else 'are'} set to an example value "
            f"(from .env.example or docker-compose.yml, or beginning with '{EXAMPLE_PREFIX}'): "
            "choose your own secret, e.g. `openssl rand -hex 32`, before serving outside the sandbox"
        )


def refuse_default_ocid_prefix(settings: Settings) -> None:
    """In production (not the sandbox), refuse to publish under the prefix every deployment shares."""
    if settings.sandbox or settings.ocid_prefix != DEFAULT_OCID_PREFIX:
        return
    raise SettingsError(
        f"{env_name('ocid_prefix')} is unset (or the default {DEFAULT_OCID_PREFIX!r}, which every govbuy shares): "
        "register this publisher's ocid prefix with OCDS (data@open-contracting.org) and set it, "
        "e.g. GOVBUY_OCID_PREFIX=ocds-a1b2c3, before serving outside the sandbox"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings in force (`get_settings.cache_clear()` after changing the environment)."""
    settings = load_settings()
    if settings.secret_key and settings.audit_key:
        return settings
    return settings.model_copy(update={
        # The token-signing key: GOVBUY_SECRET_KEY, else data_dir/secret_key.
        "secret_key": kept_secret(settings.data_dir / "secret_key", "GOVBUY_SECRET_KEY", settings.secret_key),
        # The audit chain's key: GOVBUY_AUDIT_KEY, else data_dir/audit_key. Kept outside the
        # database, so that write access to the database is not enough to recompute a valid
        # chain: back it up with the data folder, apart from the database.
        "audit_key": kept_secret(settings.data_dir / "audit_key", "GOVBUY_AUDIT_KEY", settings.audit_key),
    })


def masked_dsn(dsn: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1********@", dsn)


def effective_settings(settings: Settings) -> dict[str, str]:
    """Each variable with the value in force, as check-config prints it: secrets masked."""
    shown: dict[str, str] = {}
    for field in Settings.model_fields:
        value = getattr(settings, field)
        if field in SECRET_FIELDS and value:
            text = "********"
        elif field in ("secret_key", "audit_key"):
            text = f"(kept in {settings.data_dir / field})"
        elif field == "ocds_publication_policy" and value is None:
            text = f"{settings.publication_policy_url} (GOVBUY_PUBLIC_URL's page)"
        elif field in ("database_url", "migration_database_url"):
            text = masked_dsn(value) if value else "(embedded server)" if field == "database_url" else "(DATABASE_URL's)"
        elif value is None or value == ():
            text = "(not set)"
        elif isinstance(value, tuple):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        shown[env_name(field)] = text
    return shown
