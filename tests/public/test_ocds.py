"""The OCDS tags, merge, packages and validation, on a hand-built process (no database)."""

from __future__ import annotations

import copy
import json
import re
import socket
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from govbuy.public import ocds, ocds_mapping
from govbuy.settings import ROOT
from tests.public import sample



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
    compiled = ocds.compile_releases(releases)
    latest = releases[-1]
    assert compiled["tag"] == ["compiled"] and compiled["date"] == latest["date"]
    # Every release is a full snapshot, so the compiled release says what the latest says; an
    # item new in a later release goes after the items merged before it (OCDS merge order).
    assert unordered({k: v for k, v in compiled.items() if k not in ("id", "tag")}) == unordered(
        {k: v for k, v in latest.items() if k not in ("id", "tag")}
    )
    assert ocds.validate_release(compiled) == []


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
    compiled = ocds.compile_releases([second, first])
    assert compiled["parties"] == [{"id": "a", "name": "A", "roles": ["buyer", "payer"]}, {"id": "b", "name": "B"}]
    assert compiled["tender"]["title"] == "新标题" and "description" not in compiled["tender"]
    # additionalClassifications is a wholeListMerge list: replaced, not merged by id.
    assert compiled["tender"]["items"][0]["additionalClassifications"] == [{"scheme": "x", "id": "3"}]
    assert compiled["id"] == "o-2026-01-02T00:00:00+08:00" and compiled["date"] == second["date"]


# --- validation -----------------------------------------------------------------------------


def test_validation_names_each_error_and_where_it_is():
    release = sample.release("paid")
    broken = copy.deepcopy(release)
    broken["tag"] = ["tender", "finished"]
    broken["tender"]["value"]["amount"] = "1000000.00"
    broken["date"] = "2026-03-02 09:30"
    errors = ocds.validate_release(broken)
    assert any(e.startswith("tag/1:") for e in errors)
    assert any(e.startswith("tender/value/amount:") for e in errors)
    assert any(e.startswith("date:") for e in errors)


def test_the_extensions_are_applied():
    release = sample.release("paid")
    bad_bid = copy.deepcopy(release)
    bad_bid["bids"]["details"][0]["value"]["amount"] = "880000"
    assert any(e.startswith("bids/details/0/value/amount") for e in ocds.validate_release(bad_bid))
    bad_link = copy.deepcopy(release)
    del bad_link["contracts"][0]["implementation"]["transactions"][0]["relatedImplementationMilestone"]["id"]
    assert any("relatedImplementationMilestone" in e for e in ocds.validate_release(bad_link))
    bad_metric = copy.deepcopy(release)
    bad_metric["contracts"][0]["implementation"]["metrics"][0]["observations"][0]["id"] = ""
    assert any("metrics" in e for e in ocds.validate_release(bad_metric))


def test_an_empty_package_is_not_a_valid_ocds_package():
    empty = sample.package(sample.release("published"))
    empty["releases"] = []
    assert any(e.startswith("releases:") for e in ocds.validate_release_package(empty))


def test_a_record_package_validates():
    releases = [sample.release(s, seq=i) for i, s in enumerate(sample.STAGES, start=1)]
    record = ocds.record_package(
        releases[0]["ocid"], releases, uri="https://govbuy.test/r", published_date=releases[-1]["date"],
        publisher=sample.PUBLISHER,
    )
    assert ocds.validate_record_package(record) == []


def test_validation_never_reaches_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the validator tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    ocds._validators.cache_clear()
    ocds.release_schema.cache_clear()
    release = sample.release("paid")
    assert ocds.validate_release_package(sample.package(release)) == []
    assert ocds.validate_record_package(
        ocds.record_package(release["ocid"], [release], uri="https://govbuy.test/r", published_date=release["date"],
                            publisher=sample.PUBLISHER),
    ) == []


def test_the_declared_extensions_are_the_copies_in_the_package():
    for name, url in ocds.EXTENSIONS.items():
        assert (ocds.extension_dir(name) / "extension.json").is_file()
        assert url.startswith("https://raw.githubusercontent.com/open-contracting-extensions/") and url.endswith("/extension.json")


# --- what ships with the package ------------------------------------------------------------

SHARED = ROOT.parent / "shared" / "ocds-1.1"  # the reference copies: tests only


def _files(folder):
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file() and p.name != "README.md"}


def test_the_shipped_schemas_are_the_shared_reference_copies():
    shipped = _files(ocds.SCHEMA_DIR)
    assert {p.name for p in shipped} == {
        "release-schema.json", "release-package-schema.json", "record-package-schema.json",
        "versioned-release-validation-schema.json", "LICENSE",
    }
    for path in shipped:
        assert (ocds.SCHEMA_DIR / path).read_bytes() == (SHARED / path).read_bytes(), path


def test_the_shipped_extensions_are_the_shared_reference_copies_where_both_have_a_file():
    for name in ("bids", "metrics", "transaction_milestones"):
        shared = _files(SHARED / "extensions" / name)
        assert shared <= _files(ocds.extension_dir(name)), name
        for path in shared:
            assert (ocds.extension_dir(name) / path).read_bytes() == (SHARED / "extensions" / name / path).read_bytes()


def test_every_declared_extension_ships_whole_with_its_licence_and_codelists():
    for name in ocds.EXTENSIONS:
        folder = ocds.extension_dir(name)
        assert folder.is_relative_to(Path(ocds.__file__).parent)
        assert (folder / "LICENSE").is_file() and (folder / "release-schema.json").is_file()
        declared = json.loads((folder / "extension.json").read_text()).get("codelists", [])
        assert all((folder / "codelists" / c).is_file() for c in declared), name


def test_the_declared_extension_urls_name_a_commit_not_a_branch():
    for url in ocds.EXTENSIONS.values():
        assert re.fullmatch(r"https://raw\.githubusercontent\.com/open-contracting-extensions/[\w.-]+/[0-9a-f]{40}/extension\.json", url)


# --- package metadata and empty fields ------------------------------------------------------


def test_a_package_names_its_publisher_licence_and_publication_policy():
    package = sample.package(sample.release("published"))
    assert package["publisher"] == {"name": "测试", "scheme": "CN-USCI", "uid": "11440304MB2C12345X", "uri": "https://govbuy.test"}
    assert package["license"].startswith("https://") and package["publicationPolicy"].startswith("https://")
    assert ocds.validate_release_package(package) == []


def test_a_publisher_without_a_uid_has_no_scheme_either():
    publisher = replace(sample.PUBLISHER, scheme=None, uid=None)
    assert publisher.metadata()["publisher"] == {"name": "测试", "uri": "https://govbuy.test"}


def _empties(value, path="") -> list[str]:
    if isinstance(value, dict):
        return [path or "(root)"] * (not value) + [e for k, v in value.items() for e in _empties(v, f"{path}/{k}")]
    if isinstance(value, list):
        return [path] * (not value) + [e for i, v in enumerate(value) for e in _empties(v, f"{path}/{i}")]
    return [path] if value is None or value == "" else []


def test_no_release_has_an_empty_array_object_or_string():
    for stage in sample.STAGES:
        assert _empties(sample.release(stage)) == [], stage
    p = sample.opened()
    no_bids = ocds_mapping.build_release(replace(p, bids=[]), ocid="o", release_id="o-1", date=sample.T0, tags=["tender"], now=sample.T0)
    assert _empties(no_bids) == []
    assert "tenderers" not in no_bids["tender"] and "details" not in no_bids["bids"]


def test_empty_fields_are_left_out_bottom_up():
    assert ocds_mapping.without_empty({"a": [], "b": {"c": [{}], "d": ""}, "e": [1, None], "f": 0}) == {"e": [1], "f": 0}
