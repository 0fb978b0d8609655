"""The report templates and the Chinese the report modules write: every character is in the
embedded font (no box, ever), and every template extends the kernel's base page."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from govbuy import reports

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(ROOT.glob("*/templates/*.html"))
SOURCES = TEMPLATES + [ROOT / d / "reports.py" for d in ("vendors", "procurement", "contracts", "evaluation")]
REPORT_TEMPLATES = {
    "vendors": ["credit_report.html"],
    "procurement": ["award_notice.html"],
    "evaluation": ["evaluation_report.html"],
    "contracts": ["contract_report.html", "annual_report.html"],
}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_character_of_the_reports_is_in_the_embedded_font(source):
    cmap = TTFont(str(reports.static_font_paths()[400])).getBestCmap()
    text = source.read_text(encoding="utf-8")
    missing = sorted({c for c in text if ord(c) > 127 and ord(c) not in cmap})
    assert not missing, f"{source.name}: not in Noto Sans SC: {missing}"


@pytest.mark.parametrize(("domain", "name"), [(d, n) for d, names in REPORT_TEMPLATES.items() for n in names])
def test_each_report_template_extends_the_base_page(domain, name):
    text = (ROOT / domain / "templates" / name).read_text(encoding="utf-8")
    assert '{% extends "base.html" %}' in text
