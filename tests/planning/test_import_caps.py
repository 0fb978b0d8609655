"""A catalogue import file past the caps on rows, cells or shared strings is refused with 413
`import_too_complex` before it is read into memory, and imports nothing."""

from __future__ import annotations

import io
import zipfile

import pytest

from bench.stalls import crafted_xlsx
from govbuy.settings import get_settings
from planning import service as planning_service
from tests import factories
from tests.planning.test_catalogue import GOOD_CSV, item_count, new_catalogue, upload, xlsx


@pytest.fixture
def small_caps(monkeypatch):
    configured = get_settings().model_copy(update={"import_max_rows": 10, "import_max_cells": 40})
    monkeypatch.setattr(planning_service, "get_settings", lambda: configured)
    return configured


def _csv_rows(count: int, columns: int = 3) -> bytes:
    header = ",".join(["code", "name", "description", *(f"x{n}" for n in range(columns - 3))])
    rows = [",".join([f"A{n:02d}" if n else "A", f"服务{n}", "", *("" for _ in range(columns - 3))]) for n in range(count)]
    return ("\n".join([header, *rows]) + "\n").encode()


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("rows.csv", _csv_rows(11), "10 rows"),
        ("cells.csv", _csv_rows(2, columns=30), "40 cells"),
        ("strings.xlsx", crafted_xlsx(41), "40 shared strings"),
        ("rows.xlsx", xlsx([("code", "name")] + [(f"A{n:02d}", "服务") for n in range(1, 12)]), "10 rows"),
    ],
)
async def test_a_file_past_a_cap_is_413_import_too_complex_and_imports_nothing(client, small_caps, name, content, what):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    r = await upload(client, bureau, cat["id"], name, content)
    assert (r.status_code, r.json()["code"]) == (413, "import_too_complex"), r.text
    assert what in r.json()["detail"]
    assert await item_count(cat["id"]) == 0


async def test_a_file_within_the_caps_imports(client, small_caps):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    r = await upload(client, bureau, cat["id"], "c.csv", GOOD_CSV.encode())
    assert (r.status_code, r.json()["imported"]) == (200, 6), r.text


def _with_entities(workbook: bytes) -> bytes:
    """The workbook with an entity declared in its shared strings (a billion-laughs opener)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/sharedStrings.xml":
                data = data.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaa">]>')
            archive.writestr(info.filename, data)
    return out.getvalue()


async def test_a_workbook_declaring_xml_entities_is_422_invalid_import_file(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    r = await upload(client, bureau, cat["id"], "entities.xlsx", _with_entities(crafted_xlsx(1)))
    assert (r.status_code, r.json()["code"]) == (422, "invalid_import_file"), r.text
    assert "entities" in r.json()["detail"]
