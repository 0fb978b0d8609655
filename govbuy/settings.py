"""Settings, read once from the environment (GOVBUY_* and DATABASE_URL)."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str | None
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


def _kept_secret(variable: str, path: Path) -> str:
    """A key from the environment, else the one kept in a file of the data folder, made on
    first use. The file appears whole and with mode 0600 (written aside, then linked into
    place), and if another process made it first, that one is kept and read."""
    configured = os.environ.get(variable)
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
        raise RuntimeError(f"{path} is empty: restore the key from its backup, or set {variable}")
    return kept


def _secret_key(data_dir: Path) -> str:
    """The token-signing key: GOVBUY_SECRET_KEY, else data_dir/secret_key."""
    return _kept_secret("GOVBUY_SECRET_KEY", data_dir / "secret_key")


def _audit_key(data_dir: Path) -> str:
    """The key of the audit chain's HMAC (govbuy/audit.py): GOVBUY_AUDIT_KEY, else
    data_dir/audit_key. Kept outside the database, so that write access to the database is not
    enough to recompute a valid chain: back it up with the data folder, apart from the database."""
    return _kept_secret("GOVBUY_AUDIT_KEY", data_dir / "audit_key")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    data_dir = Path(os.environ.get("GOVBUY_DATA_DIR", ROOT / ".govbuy")).resolve()
    keywords = os.environ.get("GOVBUY_NEGATIVE_KEYWORDS")
    negative_list = os.environ.get("GOVBUY_NEGATIVE_LIST_FILE")
    origins = os.environ.get("GOVBUY_CORS_ORIGINS", "")
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
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
