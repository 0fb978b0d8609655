"""The OCDS mapping of govbuy's rows to a release, on a hand-built process (no database)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from govbuy.public import ocds, ocds_mapping
from tests.public import sample



# --- values ---------------------------------------------------------------------------------


def test_amounts_are_exact_json_numbers():
    assert ocds_mapping.amount(Decimal("1500000.00")) == 1500000 and isinstance(ocds_mapping.amount(Decimal("1500000.00")), int)
    assert json.dumps(ocds_mapping.amount(Decimal("912345.67"))) == "912345.67"
    assert json.dumps(ocds_mapping.amount(Decimal("99999999999.99"))) == "99999999999.99"
    assert json.dumps(ocds_mapping.amount(Decimal("0.10"))) == "0.1"


def test_an_amount_a_double_cannot_carry_is_refused_not_rounded():
    with pytest.raises(ValueError):
        ocds_mapping.amount(Decimal("12345678901234567.89"))


def test_dates_are_rfc3339_in_china_standard_time():
    assert ocds_mapping.timestamp(sample.T0) == "2026-03-02T09:30:00+08:00"


# --- mapping --------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", list(sample.STAGES))
def test_every_stage_of_a_process_validates_against_the_schema_with_extensions(stage):
    release = sample.release(stage)
    assert ocds.validate_release(release) == []
    assert ocds.validate_release_package(sample.package(release)) == []


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
    assert ocds_mapping.procurement_method(method, invited) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [("published", "active"), ("evaluating", "active"), ("awarded", "complete"), ("contracted", "complete"),
     ("failed", "unsuccessful"), ("cancelled", "cancelled")],
)
def test_tender_statuses_map_to_the_tender_status_codelist(status, expected):
    p = sample.published()
    release = ocds_mapping.build_release(
        replace(p, tender={**p.tender, "status": status}), ocid="o", release_id="o-1", date=sample.T0, tags=["tender"], now=sample.T0
    )
    assert release["tender"]["status"] == expected


@pytest.mark.parametrize(
    "status, review_status, expected",
    [
        ("invalid", "non_responsive", "disqualified"),  # ineligible or above the ceiling at the opening
        ("valid", "pending", "pending"),  # awaiting 资格性 or 符合性审查
        ("valid", "responsive", "valid"),
        ("valid", "non_responsive", "disqualified"),  # failed a review, or by a remedy
        ("valid", None, "valid"),  # a row from before reviews existed
        ("submitted", "pending", "pending"),
    ],
)
def test_a_bid_status_follows_its_review(status, review_status, expected):
    assert ocds_mapping.bid_status(status, review_status) == expected
