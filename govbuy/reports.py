"""PDF reports (报告): Jinja templates rendered to PDF by WeasyPrint, off the event loop.

Every report extends `govbuy/templates/base.html`: A4, the issuing bureau and the document type
in the page header, "第 N 页 / 共 M 页" and the data digest and as-of time in the footer of
every page, Chinese set in Noto Sans SC, which the project installs from PyPI
(`justmytype-intl-cjk`) and embeds as a subset in each PDF.

Two digests, because a document cannot contain the hash of its own bytes:

- the data digest (数据摘要), printed in the footer, is the SHA-256 of the report's canonical
  input (template name, header fields, as-of time and the context data): anyone holding the
  same data can recompute it;
- the content digest, the SHA-256 of the PDF bytes, travels in the `X-Content-SHA256`
  response header (`content_headers`).

Same input, same bytes: the PDF's dates are the caller's `as_of` (the data's own time, never
the wall clock), its /ID is a hash of its content, the embedded font subsets carry no
timestamp of their own, and nothing depends on the process that rendered it.
`RENDERER_VERSION` names the output of this module, its templates and its font: bump it when
any changes.

WeasyPrint is synchronous and slow, so `render_pdf` runs it in a process pool of fresh
("spawn") interpreters, never forked from the server with its event loop and database
connections, and keeps recent results in a small in-process cache. A script that calls
`render_pdf` therefore needs the usual `if __name__ == "__main__":` guard.

A report is rendered once per render cache key (its data digest under RENDERER_VERSION): what is
rendered is kept in the store of rendered reports (`govbuy/report_store.py`, in PostgreSQL), which
every process and host reads before it renders, and which `govbuy prerender-reports` fills ahead
of the requests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import hashlib
import importlib.util
import json
import multiprocessing
import os
import tempfile
import threading
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date, datetime, time, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from time import monotonic
from typing import Any
from uuid import UUID

import jinja2
from markupsafe import Markup

from govbuy.rules import SHANGHAI, to_fen

RENDERER_VERSION = "1"
CONTENT_SHA256_HEADER = "X-Content-SHA256"
PDF_MEDIA_TYPE = "application/pdf"

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DOMAIN_PACKAGES = ("vendors", "procurement", "contracts", "evaluation")

FONT_FAMILY = "GovbuyCJK"
FONT_PACKAGE = "justmytype_intl_cjk"
FONT_FILE = ("fonts", "ofl", "notosanssc", "NotoSansSC[wght].ttf")
FONT_WEIGHTS = (400, 700)
FONT_EPOCH = "1577836800"  # 2020-01-01T00:00:00Z

CACHE_MAX_ENTRIES = 64
CACHE_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_WORKERS = 2

GRADE_LABELS = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}
EMPTY = "—"


@dataclasses.dataclass(frozen=True)
class RenderedPdf:
    """A rendered report: the PDF bytes, their SHA-256, the data digest and the page count."""

    content: bytes
    sha256: str
    data_digest: str
    page_count: int


class ReportFontMissing(RuntimeError):
    """The CJK font package is not installed: rendering would print boxes instead of Chinese."""


# --- canonical input and digests ---------------------------------------------------------


def _canonical_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        # The same instant gives the same digest whatever zone the caller's datetime is in.
        return (value.astimezone(timezone.utc) if value.tzinfo else value).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=canonical_json)
    if hasattr(value, "model_dump"):  # pydantic models, without importing pydantic here
        return value.model_dump(mode="python")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces; Decimal as its string, dates in ISO 8601."""
    return json.dumps(
        value,
        default=_canonical_default,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_digest(
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    bureau: str,
    document_type: str,
    as_of: datetime,
) -> str:
    """The data digest (数据摘要) printed in every page's footer."""
    _require_aware(as_of)
    canonical = canonical_json(
        {
            "template": template,
            "title": title,
            "bureau": bureau,
            "document_type": document_type,
            "as_of": as_of,
            "data": context,
        }
    )
    return sha256_hex(canonical.encode())


def content_headers(rendered: RenderedPdf) -> dict[str, str]:
    """Response headers for a rendered report: its media type and the SHA-256 of its bytes."""
    return {"Content-Type": PDF_MEDIA_TYPE, CONTENT_SHA256_HEADER: rendered.sha256}


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("report times must be timezone-aware datetimes")


# --- Jinja filters -----------------------------------------------------------------------


def _decimal(value: Any) -> Decimal:
    # str() first, so a float prints as written (0.1, not 0.1000000000000000055…).
    return value if isinstance(value, Decimal) else Decimal(str(value))


def format_yuan(value: Any) -> str:
    """1500000 → "1,500,000.00": thousands separators, rounded half-up to the fen."""
    if value is None:
        return EMPTY
    return f"{to_fen(_decimal(value)):,.2f}"


def format_yuan_cn(value: Any) -> str:
    """1500000 → "1,500,000.00元"."""
    if value is None:
        return EMPTY
    return f"{format_yuan(value)}元"


def _shanghai(moment: datetime) -> datetime:
    _require_aware(moment)
    return moment.astimezone(SHANGHAI)


def format_cn_date(value: date | datetime | None) -> str:
    """date(2026, 3, 1) → "2026年3月1日"; a datetime gives its Asia/Shanghai date."""
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        value = _shanghai(value)
    return f"{value.year}年{value.month}月{value.day}日"


def format_cn_datetime(value: datetime | None) -> str:
    """An aware datetime → "2026年3月1日 14:05", in Asia/Shanghai."""
    if value is None:
        return EMPTY
    local = _shanghai(value)
    return f"{format_cn_date(local)} {local:%H:%M}"


def format_grade(value: Any) -> str:
    """An assessment grade (excellent/good/fair/poor, or an enum of them) → 优/良/中/差."""
    if value is None:
        return EMPTY
    key = value.value if isinstance(value, enum.Enum) else value
    try:
        return GRADE_LABELS[key]
    except KeyError:
        raise ValueError(f"unknown grade {value!r}") from None


def format_percent(value: Any, digits: int = 1) -> str:
    """A fraction → a percentage: 0.856 → "85.6%", rounded half-up."""
    if value is None:
        return EMPTY
    quantum = Decimal(1).scaleb(-digits)
    percent = (_decimal(value) * 100).quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{percent}%"


def css_string(value: Any) -> Markup:
    """A value as a quoted CSS string, for the page-margin boxes' `content`."""
    text = str(value)
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\A ")
        .replace("<", "\\3C ")  # a literal "</style>" would end the style element
    )
    return Markup(f'"{escaped}"')


FILTERS = {
    "yuan": format_yuan,
    "yuan_cn": format_yuan_cn,
    "cn_date": format_cn_date,
    "cn_datetime": format_cn_datetime,
    "grade": format_grade,
    "percent": format_percent,
    "css_string": css_string,
}


# --- templates -----------------------------------------------------------------------------


def template_dirs() -> list[Path]:
    """govbuy's templates, then each domain's `templates/` folder that exists.

    Found by path, not by import: the kernel imports no domain.
    """
    dirs = [TEMPLATES_DIR]
    dirs += [REPO_ROOT / name / "templates" for name in DOMAIN_PACKAGES]
    return [d for d in dirs if d.is_dir()]


@cache
def template_environment() -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(str(d), encoding="utf-8") for d in template_dirs()]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def render_html(
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    bureau: str,
    document_type: str,
    as_of: datetime,
    digest: str | None = None,
) -> str:
    """The report's HTML, as WeasyPrint will see it (useful to debug a template)."""
    if "report" in context:
        raise ValueError('"report" is reserved for the header fields; rename that context key')
    report = {
        "title": title,
        "bureau": bureau,
        "document_type": document_type,
        "as_of": as_of,
        "data_digest": digest
        or data_digest(
            template, context, title=title, bureau=bureau, document_type=document_type, as_of=as_of
        ),
    }
    return template_environment().get_template(template).render(**context, report=report)


# --- rendering (runs in the worker processes) ----------------------------------------------


def cjk_font_path() -> Path:
    """The variable Noto Sans SC font file that the `justmytype-intl-cjk` package installs."""
    spec = importlib.util.find_spec(FONT_PACKAGE)  # locates it without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ReportFontMissing(
            "the CJK font package is missing: pip install -e . (it depends on justmytype-intl-cjk)"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*FONT_FILE)
    if not path.is_file():
        raise ReportFontMissing(f"the CJK font file is missing: {path}")
    return path


def font_cache_dir() -> Path:
    """Where the static font instances are kept: GOVBUY_FONT_CACHE, else ~/.cache/govbuy/fonts."""
    if configured := os.environ.get("GOVBUY_FONT_CACHE"):
        return Path(configured)
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "govbuy" / "fonts"


def static_font_paths() -> dict[int, Path]:
    """Static Regular (400) and Bold (700) instances of the variable font, built once per machine.

    WeasyPrint can embed a variable font only by instantiating it at every render, which
    costs about a second per weight per report, whatever its length. Instantiating once, here,
    makes a render cost its layout only. Building takes some 20 s per weight (once per font and
    fontTools version; `python -m govbuy.reports` does it ahead of time). A file lock keeps two
    workers from building the same file, and a build lands by an atomic rename.
    """
    import fcntl

    import fontTools

    source = cjk_font_path()
    source_digest = sha256_hex(source.read_bytes())
    key = sha256_hex(f"{source_digest}\n{fontTools.version}".encode())[:16]
    cache_dir = font_cache_dir()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable home (a locked-down service account): the temp dir will do
        cache_dir = Path(tempfile.gettempdir()) / "govbuy-fonts"
        cache_dir.mkdir(parents=True, exist_ok=True)
    paths = {weight: cache_dir / f"NotoSansSC-{weight}-{key}.ttf" for weight in FONT_WEIGHTS}
    if all(path.is_file() for path in paths.values()):
        return paths
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for weight, path in paths.items():
            if not path.is_file():
                _build_static_font(source, weight, path)
    return paths


def _build_static_font(source: Path, weight: int, target: Path) -> None:
    from fontTools.ttLib import TTFont
    from fontTools.varLib.instancer import instantiateVariableFont

    # recalcTimestamp=False keeps the font's own dates, so every machine builds the same bytes.
    font = TTFont(str(source), recalcTimestamp=False)
    instance = instantiateVariableFont(font, {"wght": weight}, static=True, updateFontNames=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    instance.save(str(partial))
    os.replace(partial, target)


@cache
def _weasy_setup() -> tuple[Any, Any, Any]:
    """Per process: the font configuration and font stylesheet, reused by every render.

    WeasyPrint copies an @font-face file into a temporary folder the first time a font
    configuration sees it; keeping one configuration per process does that once, not per report.
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    # Should WeasyPrint fall back to fontTools to subset fonts (no libharfbuzz-subset), the
    # subsets' head.modified would be "now": fontTools reads "now" from here instead.
    os.environ["SOURCE_DATE_EPOCH"] = FONT_EPOCH

    # Templates may use local files and data: URLs only: a report never waits on the network.
    fetcher = URLFetcher(allowed_protocols={"file", "data"})
    font_config = FontConfiguration()
    font_faces = "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{path.as_uri()}"); '
        f"font-weight: {weight}; }}"
        for weight, path in static_font_paths().items()
    )
    font_css = CSS(string=font_faces, font_config=font_config, url_fetcher=fetcher)
    return font_config, font_css, fetcher


def _render_sync(
    template: str,
    context: dict[str, Any],
    title: str,
    bureau: str,
    document_type: str,
    as_of: datetime,
) -> RenderedPdf:
    from weasyprint import HTML

    digest = data_digest(
        template, context, title=title, bureau=bureau, document_type=document_type, as_of=as_of
    )
    html = render_html(
        template,
        context,
        title=title,
        bureau=bureau,
        document_type=document_type,
        as_of=as_of,
        digest=digest,
    )
    font_config, font_css, fetcher = _weasy_setup()
    source = HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=fetcher)
    document = source.render(stylesheets=[font_css], font_config=font_config)
    # The PDF's dates come from the <meta name="dcterms.*"> of base.html (as_of); the /ID is
    # an MD5 of the content rather than absent, as PDF readers and archives expect one.
    content = document.write_pdf(pdf_identifier=True)
    return RenderedPdf(
        content=content,
        sha256=sha256_hex(content),
        data_digest=digest,
        page_count=len(document.pages),
    )


def render_pdf_sync(
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    bureau: str,
    document_type: str,
    as_of: datetime,
) -> RenderedPdf:
    """Render in this process and thread: for the CLI and scripts, never on the event loop."""
    return _render_sync(template, context, title, bureau, document_type, as_of)


# --- the process pool and the cache ----------------------------------------------------------


def report_workers() -> int:
    """How many renderer processes: GOVBUY_REPORT_WORKERS, default 2."""
    raw = os.environ.get("GOVBUY_REPORT_WORKERS", str(DEFAULT_WORKERS))
    try:
        workers = int(raw)
    except ValueError:
        raise ValueError(f"GOVBUY_REPORT_WORKERS must be an integer, not {raw!r}") from None
    if workers < 1:
        raise ValueError("GOVBUY_REPORT_WORKERS must be at least 1")
    return workers


_executor: ProcessPoolExecutor | None = None
_executor_lock = threading.Lock()


def _renderer() -> ProcessPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            # "spawn": each worker is a fresh interpreter, with no copy of the server's event
            # loop, threads or database connections.
            _executor = ProcessPoolExecutor(
                max_workers=report_workers(), mp_context=multiprocessing.get_context("spawn")
            )
        return _executor


def _warm_worker() -> None:
    _weasy_setup()


async def warm_renderer() -> None:
    """Start a renderer process and build the static fonts if this machine lacks them.

    For the app's startup, so the first report a user asks for does not wait for them.
    """
    await asyncio.get_running_loop().run_in_executor(_renderer(), _warm_worker)


def shutdown_renderer() -> None:
    """Stop the renderer processes (the app's shutdown hook); the next render starts new ones."""
    global _executor
    with _executor_lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


def _discard_renderer(executor: ProcessPoolExecutor) -> None:
    """A worker died (killed, out of memory): drop its pool so the next report gets a new one."""
    global _executor
    with _executor_lock:
        if _executor is executor:
            _executor = None
    executor.shutdown(wait=False, cancel_futures=True)


class _RenderCache:
    """LRU of rendered reports, bounded by entries and by bytes."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, RenderedPdf] = OrderedDict()
        self._touched: dict[str, float] = {}  # key -> when the store last heard it was served
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> RenderedPdf | None:
        with self._lock:
            rendered = self._entries.get(key)
            if rendered is not None:
                self._entries.move_to_end(key)
            return rendered

    def put(self, key: str, rendered: RenderedPdf) -> None:
        size = len(rendered.content)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._bytes -= len(self._entries.pop(key).content)
            self._entries[key] = rendered
            self._touched[key] = monotonic()
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                evicted_key, evicted = self._entries.popitem(last=False)
                self._touched.pop(evicted_key, None)
                self._bytes -= len(evicted.content)

    def touch_due(self, key: str, interval: float) -> bool:
        """Whether the store should hear that this entry was served again: at most once per
        `interval` seconds, so that it does not evict a report this process serves from memory."""
        now = monotonic()
        with self._lock:
            last = self._touched.get(key)
            if last is not None and now - last < interval:
                return False
            self._touched[key] = now
            return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._touched.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


_cache = _RenderCache(CACHE_MAX_ENTRIES, CACHE_MAX_BYTES)


def clear_render_cache() -> None:
    _cache.clear()


def render_cache_key(digest: str) -> str:
    """The cache key of a report: its data digest under this renderer version."""
    return sha256_hex(f"{RENDERER_VERSION}\n{digest}".encode())


_renders = 0


def render_count() -> int:
    """How many reports this process has rendered (in its renderer processes): not those it took
    from its cache or the store."""
    return _renders


async def render_pdf(
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    bureau: str,
    document_type: str,
    as_of: datetime,
    subject: str | None = None,
) -> RenderedPdf:
    """A report as PDF: from the in-process cache, else from the store of rendered reports, else
    rendered in the renderer processes and stored.

    `context` must be picklable and canonically serialisable (see `canonical_json`);
    `as_of` is the data's own time (e.g. its latest change), aware, and is printed as such.
    `subject` names what the report is of (an evaluation's id) where `govbuy prerender-reports`
    needs to find what has no stored render.
    """
    digest = data_digest(
        template, context, title=title, bureau=bureau, document_type=document_type, as_of=as_of
    )
    key = render_cache_key(digest)
    store = _store()
    if (cached := _cache.get(key)) is not None:
        if store is not None and _cache.touch_due(key, store.TOUCH_INTERVAL_SECONDS):
            await store.touch(key)
        return cached
    if store is not None and (stored := await store.load(key)) is not None:
        _cache.put(key, stored)
        return stored
    rendered = await _render_in_pool(template, context, title, bureau, document_type, as_of)
    if store is not None:
        await store.save(key, rendered, renderer_version=RENDERER_VERSION, template=template, subject=subject)
    _cache.put(key, rendered)
    return rendered


def _store() -> Any:
    """The store of rendered reports when a database is at hand (a script without one renders
    every time). Imported when called: the renderer processes import this module, and need no
    database driver."""
    from govbuy import database as db

    if not db.is_connected():
        return None
    from govbuy import report_store

    return report_store


async def _render_in_pool(
    template: str, context: dict[str, Any], title: str, bureau: str, document_type: str, as_of: datetime
) -> RenderedPdf:
    global _renders
    executor = _renderer()
    loop = asyncio.get_running_loop()
    try:
        rendered = await loop.run_in_executor(
            executor, _render_sync, template, context, title, bureau, document_type, as_of
        )
    except BrokenProcessPool:
        _discard_renderer(executor)
        raise
    _renders += 1
    return rendered


if __name__ == "__main__":
    # Build the static font instances ahead of the first report (setup scripts, CI).
    for weight, path in static_font_paths().items():
        print(f"{weight}: {path}")
