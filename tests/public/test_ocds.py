"""The OCDS tags, merge, packages and validation, on a hand-built process (no database)."""

from __future__ import annotations

import copy
import socket
from dataclasses import replace
from datetime import timedelta

from govbuy.public import ocds, ocds_mapping
from govbuy.settings import get_settings
from tests.public import sample

SCHEMAS = get_settings().ocds_schema_dir


# --- tags -----------------------------------------------------------------------------------


def test_tags_say_what_changed_since_the_previous_release():
    stages = [sample.release(s, seq=i) for i, s in enumerate(sample.STAGES, start=1)]
    tags = [ocds.release_tags(prev, cur) for prev, cur in zip([None, *stages], stages)]
    assert tags[0] == ["tender"]
    assert tags[1] == ["tenderUpdate"]
    assert tags[2] == ["tenderUpdate", "award"]
    assert "contract" in tags[3]
    assert tags[4] == ["contractAmendment", "implementation"]


def test_an_unchanged_process_needs_no_release():
    assert ocds.release_tags(sample.release("opened", seq=1), sample.release("opened", seq=2)) == []


def test_a_cancelled_tender_and_a_voided_award_have_their_own_tags():
    published = sample.release("published")
    p = sample.published()
    cancelled = ocds_mapping.build_release(
        replace(p, tender={**p.tender, "status": "cancelled"}), ocid="o", release_id="o-2", date=sample.T0, tags=["x"], now=sample.T0
    )
    assert ocds.release_tags(published, cancelled) == ["tenderCancellation"]
    awarded = sample.release("awarded")
    voided_process = sample.awarded()
    voided_process = replace(
        voided_process,
        tender={**voided_process.tender, "status": "evaluating"},
        awards=[{**voided_process.awards[0], "status": "voided", "voided_at": sample.T0 + timedelta(days=33)}],
    )
    voided = ocds_mapping.build_release(voided_process, ocid="o", release_id="o-3", date=sample.T0, tags=["x"], now=sample.T0)
    assert ocds.release_tags(awarded, voided) == ["tenderUpdate", "awardCancellation"]


# --- merging --------------------------------------------------------------------------------


def unordered(value):
    """Lists of objects with ids sorted by id, recursively."""
    if isinstance(value, dict):
        return {k: unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [unordered(v) for v in value]
        if items and all(isinstance(i, dict) and "id" in i for i in items):
            return sorted(items, key=lambda i: str(i["id"]))
        return items
    return value


def test_the_compiled_release_is_the_latest_state_with_earlier_array_items_kept():
    releases = [sample.release(s, seq=i) for i, s in enumerate(sample.STAGES, start=1)]
    compiled = ocds.compile_releases(releases, SCHEMAS)
    latest = releases[-1]
    assert compiled["tag"] == ["compiled"] and compiled["date"] == latest["date"]
    # Every release is a full snapshot, so the compiled release says what the latest says; an
    # item new in a later release goes after the items merged before it (OCDS merge order).
    assert unordered({k: v for k, v in compiled.items() if k not in ("id", "tag")}) == unordered(
        {k: v for k, v in latest.items() if k not in ("id", "tag")}
    )
    assert ocds.validate_release(compiled, SCHEMAS) == []


def test_merging_follows_the_ocds_rules():
    first = {"ocid": "o", "id": "o-1", "date": "2026-01-01T00:00:00+08:00", "tag": ["tender"],
             "parties": [{"id": "a", "name": "A", "roles": ["buyer"]}, {"id": "b", "name": "B"}],
             "tender": {"id": "t", "title": "旧标题", "description": "说明",
                        "items": [{"id": "1", "additionalClassifications": [{"scheme": "x", "id": "1"}, {"scheme": "x", "id": "2"}]}]}}
    second = {"ocid": "o", "id": "o-2", "date": "2026-01-02T00:00:00+08:00", "tag": ["tenderUpdate"],
              "parties": [{"id": "a", "roles": ["buyer", "payer"]}],
              "tender": {"id": "t", "title": "新标题", "description": None,
                         "items": [{"id": "1", "additionalClassifications": [{"scheme": "x", "id": "3"}]}]}}
    # Given newest first, merged by date all the same.
    compiled = ocds.compile_releases([second, first], SCHEMAS)
    assert compiled["parties"] == [{"id": "a", "name": "A", "roles": ["buyer", "payer"]}, {"id": "b", "name": "B"}]
    assert compiled["tender"]["title"] == "新标题" and "description" not in compiled["tender"]
    # additionalClassifications is a wholeListMerge list: replaced, not merged by id.
    assert compiled["tender"]["items"][0]["additionalClassifications"] == [{"scheme": "x", "id": "3"}]
    assert compiled["id"] == "o-2-compiled" and "date" in compiled


# --- validation -----------------------------------------------------------------------------


def test_validation_names_each_error_and_where_it_is():
    release = sample.release("paid")
    broken = copy.deepcopy(release)
    broken["tag"] = ["tender", "finished"]
    broken["tender"]["value"]["amount"] = "1000000.00"
    broken["date"] = "2026-03-02 09:30"
    errors = ocds.validate_release(broken, SCHEMAS)
    assert any(e.startswith("tag/1:") for e in errors)
    assert any(e.startswith("tender/value/amount:") for e in errors)
    assert any(e.startswith("date:") for e in errors)


def test_the_extensions_are_applied():
    release = sample.release("paid")
    bad_bid = copy.deepcopy(release)
    bad_bid["bids"]["details"][0]["value"]["amount"] = "880000"
    assert any(e.startswith("bids/details/0/value/amount") for e in ocds.validate_release(bad_bid, SCHEMAS))
    bad_link = copy.deepcopy(release)
    del bad_link["contracts"][0]["implementation"]["transactions"][0]["relatedImplementationMilestone"]["id"]
    assert any("relatedImplementationMilestone" in e for e in ocds.validate_release(bad_link, SCHEMAS))
    bad_metric = copy.deepcopy(release)
    bad_metric["contracts"][0]["implementation"]["metrics"][0]["observations"][0]["id"] = ""
    assert any("metrics" in e for e in ocds.validate_release(bad_metric, SCHEMAS))


def test_an_empty_package_is_not_a_valid_ocds_package():
    empty = sample.package(sample.release("published"))
    empty["releases"] = []
    assert any(e.startswith("releases:") for e in ocds.validate_release_package(empty, SCHEMAS))


def test_a_record_package_validates():
    releases = [sample.release(s, seq=i) for i, s in enumerate(sample.STAGES, start=1)]
    record = ocds.record_package(
        releases[0]["ocid"], releases, uri="https://govbuy.test/r", published_date=releases[-1]["date"],
        publisher_name="测试", schema_dir=SCHEMAS,
    )
    assert ocds.validate_record_package(record, SCHEMAS) == []


def test_validation_never_reaches_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the validator tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    ocds._validators.cache_clear()
    ocds.release_schema.cache_clear()
    release = sample.release("paid")
    assert ocds.validate_release_package(sample.package(release), SCHEMAS) == []
    assert ocds.validate_record_package(
        ocds.record_package(release["ocid"], [release], uri="https://govbuy.test/r", published_date=release["date"],
                            publisher_name="测试", schema_dir=SCHEMAS),
        SCHEMAS,
    ) == []


def test_the_declared_extensions_are_the_copies_in_the_schema_folder_or_the_package():
    for name, url in ocds.EXTENSIONS.items():
        assert (ocds.extension_dir(SCHEMAS, name) / "extension.json").is_file()
        assert url.startswith("https://raw.githubusercontent.com/open-contracting-extensions/") and url.endswith("/extension.json")
