"""Settings, read once from the environment (GOVBUY_* and DATABASE_URL)."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    migration_database_url: str | None
    data_dir: Path
    sandbox: bool
    secret_key: str
    audit_key: str
    token_ttl_seconds: int
    admin_username: str | None
    admin_password: str | None
    pool_min_size: int
    pool_max_size: int
    max_json_bytes: int
    max_upload_bytes: int
    ocds_schema_dir: Path
    ocid_prefix: str
    public_url: str
    metrics_token: str | None
    negative_keywords: tuple[str, ...] | None
    negative_list_file: Path | None
    login_max_failures: int
    login_window_seconds: int
    report_store_max_bytes: int
    report_store_max_age_days: int
    cors_origins: tuple[str, ...] = field(default_factory=tuple)

    @property
    def embedded(self) -> bool:
        return not self.database_url


def kept_secret(path: Path, variable: str | None = None) -> str:
    """A key from the environment variable, else the one kept in a file of the data folder, made
    on first use. The file appears whole and with mode 0600 (written aside, then linked into
    place), and if another process made it first, that one is kept and read."""
    configured = os.environ.get(variable) if variable else None
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


def _secret_key(data_dir: Path) -> str:
    """The token-signing key: GOVBUY_SECRET_KEY, else data_dir/secret_key."""
    return kept_secret(data_dir / "secret_key", "GOVBUY_SECRET_KEY")


def _audit_key(data_dir: Path) -> str:
    """The key of the audit chain's HMAC (govbuy/audit.py): GOVBUY_AUDIT_KEY, else
    data_dir/audit_key. Kept outside the database, so that write access to the database is not
    enough to recompute a valid chain: back it up with the data folder, apart from the database."""
    return kept_secret(data_dir / "audit_key", "GOVBUY_AUDIT_KEY")


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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    data_dir = Path(os.environ.get("GOVBUY_DATA_DIR", ROOT / ".govbuy")).resolve()
    keywords = os.environ.get("GOVBUY_NEGATIVE_KEYWORDS")
    negative_list = os.environ.get("GOVBUY_NEGATIVE_LIST_FILE")
    origins = os.environ.get("GOVBUY_CORS_ORIGINS", "")
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
        # The owner role's server, for migrations (docs/operations.md); DATABASE_URL's without it.
        migration_database_url=os.environ.get("GOVBUY_MIGRATION_DATABASE_URL") or None,
        data_dir=data_dir,
        sandbox=_bool("GOVBUY_SANDBOX"),
        secret_key=_secret_key(data_dir),
        audit_key=_audit_key(data_dir),
        token_ttl_seconds=int(os.environ.get("GOVBUY_TOKEN_TTL_SECONDS", "3600")),
        admin_username=os.environ.get("GOVBUY_ADMIN_USERNAME") or None,
        admin_password=os.environ.get("GOVBUY_ADMIN_PASSWORD") or None,
        pool_min_size=int(os.environ.get("GOVBUY_POOL_MIN_SIZE", "2")),
        pool_max_size=int(os.environ.get("GOVBUY_POOL_MAX_SIZE", "20")),
        max_json_bytes=int(os.environ.get("GOVBUY_MAX_JSON_BYTES", str(1024 * 1024))),
        max_upload_bytes=int(os.environ.get("GOVBUY_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024))),
        ocds_schema_dir=Path(
            os.environ.get("GOVBUY_OCDS_SCHEMA_DIR", ROOT.parent / "shared" / "ocds-1.1")
        ),
        ocid_prefix=os.environ.get("GOVBUY_OCID_PREFIX", "ocds-govbuy"),
        # Where the public reaches the service: the stable URLs of notices (and the OCDS
        # documents that point at them) are built on it, not on whatever host a request used.
        public_url=os.environ.get("GOVBUY_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        # /metrics shows business activity: with a token only to whoever presents it, without one
        # only to callers on this host (the operator's scraper, not the public listener).
        metrics_token=os.environ.get("GOVBUY_METRICS_TOKEN") or None,
        negative_keywords=tuple(k for k in keywords.split(",") if k.strip()) if keywords else None,
        negative_list_file=Path(negative_list).resolve() if negative_list else None,
        login_max_failures=int(os.environ.get("GOVBUY_LOGIN_MAX_FAILURES", "5")),
        login_window_seconds=int(os.environ.get("GOVBUY_LOGIN_WINDOW_SECONDS", "900")),
        # The store of rendered reports (govbuy/report_store.py): at most this many bytes of PDF,
        # and none left unserved longer than this many days (0: no age bound).
        report_store_max_bytes=int(os.environ.get("GOVBUY_REPORT_STORE_MAX_BYTES", str(2 * 1024**3))),
        report_store_max_age_days=int(os.environ.get("GOVBUY_REPORT_STORE_MAX_AGE_DAYS", "180")),
        cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
    )
