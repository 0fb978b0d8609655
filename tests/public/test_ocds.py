"""The OCDS mapping, tags, merge and validation, on a hand-built process (no database)."""

from __future__ import annotations

import copy
import json
import socket
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from govbuy.public import ocds
from govbuy.settings import get_settings
from tests.public import sample

SCHEMAS = get_settings().ocds_schema_dir


def package(*releases: dict) -> dict:
    return ocds.release_package(
        list(releases), uri="https://govbuy.test/api/v1/public/ocds/releases", published_date=releases[-1]["date"],
        publisher_name="测试", next_uri="https://govbuy.test/api/v1/public/ocds/releases?since=9&limit=100",
    )


# --- values ---------------------------------------------------------------------------------


def test_amounts_are_exact_json_numbers():
    assert ocds.amount(Decimal("1500000.00")) == 1500000 and isinstance(ocds.amount(Decimal("1500000.00")), int)
    assert json.dumps(ocds.amount(Decimal("912345.67"))) == "912345.67"
    assert json.dumps(ocds.amount(Decimal("99999999999.99"))) == "99999999999.99"
    assert json.dumps(ocds.amount(Decimal("0.10"))) == "0.1"


def test_an_amount_a_double_cannot_carry_is_refused_not_rounded():
    with pytest.raises(ValueError):
        ocds.amount(Decimal("12345678901234567.89"))


def test_dates_are_rfc3339_in_china_standard_time():
    assert ocds.timestamp(sample.T0) == "2026-03-02T09:30:00+08:00"


# --- mapping --------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", list(sample.STAGES))
def test_every_stage_of_a_process_validates_against_the_schema_with_extensions(stage):
    release = sample.release(stage)
    assert ocds.validate_release(release, SCHEMAS) == []
    assert ocds.validate_release_package(package(release), SCHEMAS) == []


def test_before_the_opening_a_release_shows_no_bid_and_no_bidder():
    release = sample.release("published")
    text = json.dumps(release, ensure_ascii=False)
    assert "bids" not in release and "tenderers" not in release["tender"]
    assert "numberOfTenderers" not in release["tender"]
    assert [p["roles"] for p in release["parties"]] == [["buyer", "procuringEntity"]]
    for vendor in sample.VENDORS.values():
        assert vendor["name"] not in text


def test_after_the_opening_every_bid_shows_its_tenderer_price_and_status():
    release = sample.release("opened")
    details = release["bids"]["details"]
    assert [(d["tenderers"][0]["name"], d["value"]["amount"], d["status"]) for d in details] == [
        ("深圳市社工服务中心1", 880000, "valid"),
        ("深圳市社工服务中心2", 912345.67, "valid"),
        ("深圳市社工服务中心3", 950000.1, "valid"),
    ]
    stats = {s["measure"]: s["value"] for s in release["bids"]["statistics"]}
    assert stats["bids"] == 3 and stats["validBids"] == 3 and stats["lowestValidBidValue"] == 880000
    assert release["tender"]["numberOfTenderers"] == 3


def test_the_award_ranks_the_bids_and_is_pending_during_the_standstill():
    release = sample.release("awarded")
    ranks = {d["id"]: d["rank"] for d in release["bids"]["details"]}
    assert ranks[str(sample.uid("bid2"))] == 1 and ranks[str(sample.uid("bid1"))] == 2
    award = release["awards"][0]
    assert award["status"] == "pending"
    assert award["suppliers"] == [{"id": str(sample.V2), "name": "深圳市社工服务中心2"}]
    assert award["relatedBids"] == [str(sample.uid("bid2"))]
    after_standstill = sample.release("awarded", now=sample.T0 + timedelta(days=41))
    assert after_standstill["awards"][0]["status"] == "active"
    assert release["tender"]["status"] == "complete"


def test_a_payment_is_a_transaction_linked_to_its_payment_milestone():
    release = sample.release("paid")
    contract = release["contracts"][0]
    implementation = contract["implementation"]
    milestones = {m["id"]: m for m in implementation["milestones"]}
    m1 = str(sample.uid("m1"))
    assert milestones[f"{m1}-delivery"]["status"] == "met"
    assert milestones[f"{m1}-assessment"]["type"] == "assessment" and "良" in milestones[f"{m1}-assessment"]["description"]
    payment_milestone = milestones[f"{m1}-payment"]
    assert payment_milestone["type"] == "payment" and payment_milestone["status"] == "partiallyMet"
    assert payment_milestone["value"] == {"amount": 273703.7, "currency": "CNY"}
    [transaction] = implementation["transactions"]
    assert transaction["value"] == {"amount": 260018.52, "currency": "CNY"}
    assert transaction["relatedImplementationMilestone"]["id"] == f"{m1}-payment"
    assert transaction["payer"]["id"] == str(sample.BUREAU["id"]) and transaction["payee"]["id"] == str(sample.V2)
    [metric] = implementation["metrics"]
    assert metric["observations"][0]["measure"] == 86.5
    assert metric["observations"][0]["relatedImplementationMilestone"]["id"] == f"{m1}-assessment"
    assert contract["amendments"][0]["rationale"] == "服务对象增加"
    roles = {p["name"]: p["roles"] for p in release["parties"]}
    assert roles["福田区民政局"] == ["buyer", "procuringEntity", "payer"]
    assert roles["深圳市社工服务中心2"] == ["tenderer", "supplier", "payee"]


@pytest.mark.parametrize(
    ("method", "invited", "expected"),
    [
        ("public_tender", False, "open"),
        ("invited_tender", True, "selective"),
        ("competitive_negotiation", False, "open"),
        ("competitive_consultation", False, "open"),
        ("inquiry", False, "open"),
        ("inquiry", True, "limited"),
        ("single_source", True, "direct"),
    ],
)
def test_procurement_methods_map_to_who_may_submit(method, invited, expected):
    assert ocds.procurement_method(method, invited) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [("published", "active"), ("evaluating", "active"), ("awarded", "complete"), ("contracted", "complete"),
     ("failed", "unsuccessful"), ("cancelled", "cancelled")],
)
def test_tender_statuses_map_to_the_tender_status_codelist(status, expected):
    p = sample.published()
    release = ocds.build_release(
        replace(p, tender={**p.tender, "status": status}), ocid="o", release_id="o-1", date=sample.T0, tags=["tender"], now=sample.T0
    )
    assert release["tender"]["status"] == expected


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
    cancelled = ocds.build_release(
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
    voided = ocds.build_release(voided_process, ocid="o", release_id="o-3", date=sample.T0, tags=["x"], now=sample.T0)
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
    empty = package(sample.release("published"))
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
    assert ocds.validate_release_package(package(release), SCHEMAS) == []
    assert ocds.validate_record_package(
        ocds.record_package(release["ocid"], [release], uri="https://govbuy.test/r", published_date=release["date"],
                            publisher_name="测试", schema_dir=SCHEMAS),
        SCHEMAS,
    ) == []


def test_the_declared_extensions_are_the_copies_in_the_schema_folder():
    for name, url in ocds.EXTENSIONS.items():
        assert (SCHEMAS / "extensions" / name / "extension.json").is_file()
        assert url.startswith("https://raw.githubusercontent.com/open-contracting-extensions/") and url.endswith("/extension.json")
