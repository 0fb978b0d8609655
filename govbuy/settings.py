"""Settings, read once from the environment (GOVBUY_* and DATABASE_URL)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

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
    login_address_max_failures: int
    login_first_delay_seconds: int
    login_max_delay_seconds: int
    login_known_address_days: int
    report_store_max_bytes: int
    report_store_max_age_days: int
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    trusted_proxies: tuple[IpNetwork, ...] = field(default_factory=tuple)
    forwarded_header: str = "x-forwarded-for"

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


def _networks(name: str) -> tuple[IpNetwork, ...]:
    """Comma-separated CIDRs (a bare address is its own /32 or /128); a typo stops the start."""
    value = os.environ.get(name, "")
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in value.split(",") if item.strip())
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


_FORWARDED_HEADERS = ("x-forwarded-for", "forwarded")


def _forwarded_header() -> str:
    value = os.environ.get("GOVBUY_FORWARDED_HEADER", "X-Forwarded-For").strip().lower()
    if value not in _FORWARDED_HEADERS:
        raise ValueError(f"GOVBUY_FORWARDED_HEADER must be X-Forwarded-For or Forwarded, not {value!r}")
    return value


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
        # The sign-in limiter (govbuy/auth.py): failures of one account from one address before
        # it backs off, failures from one address across accounts before that address backs off
        # (for accounts never signed in from it), the first delay (doubling with each further
        # failure, capped), and how long a failure and a known address are remembered.
        login_max_failures=int(os.environ.get("GOVBUY_LOGIN_MAX_FAILURES", "5")),
        login_window_seconds=int(os.environ.get("GOVBUY_LOGIN_WINDOW_SECONDS", "86400")),
        login_address_max_failures=int(os.environ.get("GOVBUY_LOGIN_ADDRESS_MAX_FAILURES", "20")),
        login_first_delay_seconds=int(os.environ.get("GOVBUY_LOGIN_FIRST_DELAY_SECONDS", "30")),
        login_max_delay_seconds=int(os.environ.get("GOVBUY_LOGIN_MAX_DELAY_SECONDS", "900")),
        login_known_address_days=int(os.environ.get("GOVBUY_LOGIN_KNOWN_ADDRESS_DAYS", "90")),
        # The store of rendered reports (govbuy/report_store.py): at most this many bytes of PDF,
        # and none left unserved longer than this many days (0: no age bound).
        report_store_max_bytes=int(os.environ.get("GOVBUY_REPORT_STORE_MAX_BYTES", str(2 * 1024**3))),
        report_store_max_age_days=int(os.environ.get("GOVBUY_REPORT_STORE_MAX_AGE_DAYS", "180")),
        cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        # The reverse proxies in front of the service: only a request whose direct peer is one of
        # them has its forwarded-for header read (its right-most address that is not a proxy).
        trusted_proxies=_networks("GOVBUY_TRUSTED_PROXIES"),
        forwarded_header=_forwarded_header(),
    )
