"""Settings, read once from the environment (GOVBUY_* and DATABASE_URL)."""

from __future__ import annotations

import os
import secrets
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
    # No request may stall the service (docs/reliability.md §5c): the caps below.
    request_deadline_seconds: float = 10.0
    long_request_deadline_seconds: float = 120.0
    pool_acquire_timeout_seconds: float = 5.0
    health_timeout_seconds: float = 1.0
    parse_workers: int = 2
    parse_timeout_seconds: float = 10.0
    parse_memory_bytes: int = 512 * 1024 * 1024
    import_max_rows: int = 50_000
    import_max_cells: int = 500_000

    @property
    def embedded(self) -> bool:
        return not self.database_url


def _secret_key(data_dir: Path) -> str:
    """The token-signing key: from the environment, else one kept in the data folder."""
    configured = os.environ.get("GOVBUY_SECRET_KEY")
    if configured:
        return configured
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


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
        # Every request answers within its deadline (503 past it, govbuy/deadline.py); the routes
        # marked long-running (imports, PDF reports, the full audit walk) within the long one.
        request_deadline_seconds=float(os.environ.get("GOVBUY_REQUEST_DEADLINE_SECONDS", "10")),
        long_request_deadline_seconds=float(os.environ.get("GOVBUY_LONG_REQUEST_DEADLINE_SECONDS", "120")),
        # How long a request waits for a free database connection before it answers 503.
        pool_acquire_timeout_seconds=float(os.environ.get("GOVBUY_POOL_ACQUIRE_TIMEOUT_SECONDS", "5")),
        # How long /health and /ready wait for the database's answer before saying it has none.
        health_timeout_seconds=float(os.environ.get("GOVBUY_HEALTH_TIMEOUT_SECONDS", "1")),
        # The parsing of uploads (govbuy/offload.py): child processes at a time per server
        # process, and each one's time and memory.
        parse_workers=int(os.environ.get("GOVBUY_PARSE_WORKERS", "2")),
        parse_timeout_seconds=float(os.environ.get("GOVBUY_PARSE_TIMEOUT_SECONDS", "10")),
        parse_memory_bytes=int(os.environ.get("GOVBUY_PARSE_MEMORY_BYTES", str(512 * 1024**2))),
        # A catalogue import file: data rows, and cells (shared strings of a workbook too).
        import_max_rows=int(os.environ.get("GOVBUY_IMPORT_MAX_ROWS", "50000")),
        import_max_cells=int(os.environ.get("GOVBUY_IMPORT_MAX_CELLS", "500000")),
    )
