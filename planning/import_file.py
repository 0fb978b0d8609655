"""Reading a catalogue import file (.xlsx or .csv) and checking its rows: pure, and run in a
child process by the service (`govbuy.offload`), because what it costs is what the file makes
it cost (a 129 KB workbook of 3 000 000 shared strings took 25.8 s).

The counts that make a file costly are capped before anything is built from them: a workbook's
XML parts are first streamed through expat, counting shared strings, rows and cells without
keeping any, so a file past a cap is refused (413 `import_too_complex`) in a fraction of the
time openpyxl would take to load it; a CSV's rows and cells are counted as they are read.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO
from xml.parsers import expat

from govbuy.offload import too_complex
from govbuy.rules import RuleViolation
from planning import rules

# Header names accepted in the first row (English, or the usual Chinese ones).
_HEADERS = {
    "code": "code",
    "编码": "code",
    "代码": "code",
    "目录编码": "code",
    "目录代码": "code",
    "name": "name",
    "名称": "name",
    "项目名称": "name",
    "目录名称": "name",
    "description": "description",
    "说明": "description",
    "描述": "description",
    "备注": "description",
    "negative_list_override_reason": "negative_list_override_reason",
    "负面清单例外理由": "negative_list_override_reason",
    "例外理由": "negative_list_override_reason",
}
# An .xlsx is a zip: refuse one that would inflate beyond this (a zip bomb), whatever its size.
MAX_XLSX_UNCOMPRESSED = 256 * 1024 * 1024
# The SpreadsheetML namespaces (ECMA-376 transitional, and strict) whose elements are counted.
_SPREADSHEET_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_STREAM_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ImportCaps:
    """How much one file may hold: data rows, and cells (a workbook's shared strings count
    against the same cap: each is at least one cell)."""

    rows: int
    cells: int


def _invalid_file(detail: str) -> RuleViolation:
    return RuleViolation("invalid_import_file", detail, errors=[{"field": "file", "message": detail}])


def _over(what: str, cap: int) -> RuleViolation:
    return too_complex("import", f"the file holds more than {cap} {what}")


# --- counting a workbook before reading it ---------------------------------------------------------


class _Counter:
    """Counts the shared strings (`si`), rows and cells (`c`) of SpreadsheetML parts streamed
    through it, and refuses at the first one past its cap; keeps nothing else."""

    def __init__(self, caps: ImportCaps) -> None:
        self.caps = caps
        self.counts = {"si": 0, "row": 0, "c": 0}
        self.limits = {"si": (caps.cells, "shared strings"), "row": (caps.rows + 1, "rows"), "c": (caps.cells, "cells")}

    def start(self, name: str, _attributes: Any) -> None:
        namespace, _, local = name.rpartition(" ")
        if local in self.counts and namespace in _SPREADSHEET_NAMESPACES:
            self.counts[local] += 1
            cap, what = self.limits[local]
            if self.counts[local] > cap:
                raise _over(what, cap if local != "row" else cap - 1)

    def feed(self, part: BinaryIO) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self.start
        parser.EntityDeclHandler = _refuse_entities
        try:
            while chunk := part.read(_STREAM_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise _invalid_file(f"the workbook's XML is malformed ({exc})") from exc


def _refuse_entities(*_: Any) -> None:
    # No workbook declares entities; one that does is after the parser (billion laughs).
    raise _invalid_file("the workbook declares XML entities")


def _check_xlsx_counts(content: bytes, caps: ImportCaps) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            if sum(info.file_size for info in members) > MAX_XLSX_UNCOMPRESSED:
                raise _invalid_file("the spreadsheet inflates to more than 256 MB")
            counter = _Counter(caps)
            for info in members:
                if info.filename.lower().endswith(".xml"):
                    with archive.open(info) as part:
                        counter.feed(part)
    # zipfile raises NotImplementedError for a compression method it does not support (a crafted
    # archive's, not a workbook's): a file refused like any other unreadable one.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError, ValueError) as exc:
        raise _invalid_file(f"not a readable .xlsx workbook ({type(exc).__name__})") from exc


# --- rows ----------------------------------------------------------------------------------------


def _capped(rows: Iterable[tuple[Any, ...]], caps: ImportCaps) -> list[tuple[Any, ...]]:
    """The rows, refused at the first row or cell past the caps (a row is counted by its width)."""
    kept: list[tuple[Any, ...]] = []
    cells = 0
    for row in rows:
        kept.append(row)
        cells += len(row)
        if len(kept) > caps.rows + 1:
            raise _over("rows", caps.rows)
        if cells > caps.cells:
            raise _over("cells", caps.cells)
    return kept


def _xlsx_rows(content: bytes, caps: ImportCaps) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    _check_xlsx_counts(content, caps)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises many types for a damaged file; all mean the same
        raise _invalid_file(f"not a readable .xlsx workbook ({type(exc).__name__})") from exc
    try:
        if not workbook.worksheets:
            raise _invalid_file("the workbook has no sheet")
        return _capped((tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)), caps)
    except (RuleViolation, MemoryError):
        raise
    except Exception as exc:
        raise _invalid_file(f"the first sheet cannot be read ({type(exc).__name__})") from exc
    finally:
        workbook.close()


def _csv_rows(content: bytes, caps: ImportCaps) -> list[tuple[Any, ...]]:
    if b"\x00" in content:
        raise _invalid_file("not a text (CSV) file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise _invalid_file("the CSV is neither UTF-8 nor GB18030 text")
    try:
        return _capped((tuple(row) for row in csv.reader(io.StringIO(text, newline=""))), caps)
    except csv.Error as exc:
        raise _invalid_file(f"malformed CSV: {exc}") from exc


def read_import_file(filename: str, content: bytes, caps: ImportCaps) -> list[dict[str, Any]]:
    """The data rows of an import file (.xlsx or .csv with a header row naming code, name and
    optionally description and negative_list_override_reason), one dict per row after the
    header, blank rows kept so that row numbers match what a spreadsheet shows."""
    name = (filename or "").lower()
    if content[:4] == b"PK\x03\x04":
        rows = _xlsx_rows(content, caps)
    elif name.endswith((".xlsx", ".xlsm")):
        raise _invalid_file("the file is named .xlsx but is not an Excel workbook")
    elif name.endswith(".xls") or content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _invalid_file("old .xls workbooks are not read: save the sheet as .xlsx or .csv")
    else:
        rows = _csv_rows(content, caps)
    if not rows:
        raise _invalid_file("the file is empty")
    header = [str(c).strip().lower() if c is not None else "" for c in rows[0]]
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _HEADERS.get(title)
        if key and key not in columns:
            columns[key] = index
    missing = [c for c in ("code", "name") if c not in columns]
    if missing:
        raise _invalid_file(
            f"the first row must name the columns code, name and description; missing {', '.join(missing)}"
        )

    def cell(row: tuple[Any, ...], key: str) -> Any:
        index = columns.get(key)
        return row[index] if index is not None and index < len(row) else None

    keys = ("code", "name", "description", "negative_list_override_reason")
    return [{k: cell(row, k) for k in keys} for row in rows[1:]]


def checked_rows(
    filename: str,
    content: bytes,
    existing_codes: frozenset[str],
    patterns: tuple[rules.NegativePattern, ...],
    caps: ImportCaps,
) -> tuple[int, list[rules.CatalogueRow]]:
    """The file's rows read and checked against the catalogue's codes and the negative list:
    how many rows it has, and the items to insert (all, or `catalogue_import_invalid`)."""
    raw_rows = read_import_file(filename, content, caps)
    return len(raw_rows), rules.validate_catalogue_rows(raw_rows, existing_codes, patterns)
