"""A hand-built contracting process at every stage, for the pure OCDS tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid5, NAMESPACE_URL

from govbuy.public import ocds, ocds_mapping

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
PUBLISHER = ocds.Publisher(
    name="测试", scheme="CN-USCI", uid="11440304MB2C12345X", uri="https://govbuy.test",
    license="https://creativecommons.org/licenses/by/4.0/",
    publication_policy="https://govbuy.test/api/v1/public/ocds/publication-policy",
)


def uid(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"govbuy-test:{name}")


BUREAU = {"id": uid("bureau"), "name": "福田区民政局", "uscc": "11440304MB2C12345X", "region_code": "440304"}
VENDORS = {
    uid(f"vendor{n}"): {"id": uid(f"vendor{n}"), "name": f"深圳市社工服务中心{n}", "uscc": f"5244030000000000{n}X", "region_code": "440300"}
    for n in (1, 2, 3)
}
V1, V2, V3 = list(VENDORS)


def published() -> ocds_mapping.Process:
    return ocds_mapping.Process(
        tender={
            "id": uid("tender"),
            "title": "社区居家养老上门服务项目",
            "description": "上门助餐、助洁、助医",
            "status": "published",
            "method": "public_tender",
            "invited": False,
            "ceiling_amount": Decimal("1000000.00"),
            "evaluation_method": "comprehensive",
            "price_weight": Decimal("30.00"),
            "criteria": [{"name": "服务方案", "weight": "40"}, {"name": "团队与经验", "weight": "30"}],
            "min_assessment_grade": 3,
            "min_credit_grade": None,
            "published_at": T0,
            "bid_deadline": T0 + timedelta(days=25),
            "opened_at": None,
            "award_id": None,
        },
        bureau=BUREAU,
        item={"code": "A0101", "name": "居家养老上门服务"},
        item_parents=[{"code": "A", "name": "基本公共服务"}, {"code": "A01", "name": "养老服务"}],
        budget_line={"code": "2026-MZ-01", "title": "养老服务补助"},
        vendors={},
    )


def bids():
    return [
        {"id": uid(f"bid{n}"), "vendor_id": v, "price": Decimal(p), "status": "valid", "submitted_at": T0 + timedelta(days=n)}
        for n, (v, p) in enumerate(((V1, "880000.00"), (V2, "912345.67"), (V3, "950000.10")), start=1)
    ]


def opened() -> ocds_mapping.Process:
    p = published()
    tender = {**p.tender, "status": "evaluating", "opened_at": T0 + timedelta(days=25, seconds=3)}
    return replace(p, tender=tender, opened=True, bids=bids(), vendors=VENDORS)


def awarded() -> ocds_mapping.Process:
    p = opened()
    ranking = [
        {"rank": r, "bid_id": str(uid(f"bid{n}")), "vendor_id": str(v)}
        for r, (n, v) in enumerate(((2, V2), (1, V1), (3, V3)), start=1)
    ]
    award = {
        "id": uid("award"),
        "vendor_id": V2,
        "winning_bid_id": uid("bid2"),
        "price": Decimal("912345.67"),
        "ranking": ranking,
        "awarded_at": T0 + timedelta(days=30),
        "standstill_until": T0 + timedelta(days=40),
        "status": "active",
        "voided_at": None,
    }
    return replace(p, tender={**p.tender, "status": "awarded", "award_id": award["id"]}, awards=[award])


def contracted() -> ocds_mapping.Process:
    p = awarded()
    contract = {
        "id": uid("contract"),
        "bid_id": uid("bid2"),
        "vendor_id": V2,
        "title": "社区居家养老上门服务合同",
        "status": "active",
        "start_date": date(2026, 5, 1),
        "end_date": date(2027, 4, 30),
        "amount": Decimal("912345.67"),
        "activated_at": T0 + timedelta(days=45),
        "completed_at": None,
        "terminated_at": None,
    }
    milestones = [
        {"id": uid(f"m{n}"), "sequence": n, "title": t, "percentage": Decimal(pc), "amount": Decimal(a),
         "due_date": date(2026, 5, 1) + timedelta(days=d), "status": "pending", "delivered_at": None}
        for n, (t, pc, a, d) in enumerate(
            (("首期服务", "30", "273703.70", 90), ("中期服务", "40", "364938.27", 200), ("终期服务", "30", "273703.70", 360)), start=1
        )
    ]
    return replace(p, tender={**p.tender, "status": "contracted"}, contract=contract, milestones=milestones)


def paid() -> ocds_mapping.Process:
    p = contracted()
    m1 = {**p.milestones[0], "status": "paid", "delivered_at": T0 + timedelta(days=130)}
    evaluation = {"id": uid("eval1"), "milestone_id": m1["id"], "total_score": Decimal("86.50"), "grade": "good",
                  "accepted_at": T0 + timedelta(days=140), "superseded_at": None}
    payment = {"id": uid("pay1"), "milestone_id": m1["id"], "payee_id": V2, "amount": Decimal("260018.52"),
               "withheld_amount": Decimal("13685.18"), "payout_ratio": Decimal("0.9500"), "grade": "good",
               "status": "confirmed", "confirmed_at": T0 + timedelta(days=142)}
    amendment = {"id": uid("amend1"), "increase": Decimal("50000.00"), "amount_before": Decimal("912345.67"),
                 "amount_after": Decimal("962345.67"), "reason": "服务对象增加", "created_at": T0 + timedelta(days=100)}
    return replace(p, milestones=[m1, *p.milestones[1:]], evaluations=[evaluation], payments=[payment], amendments=[amendment],
                   contract={**p.contract, "amount": Decimal("962345.67")})


STAGES = {"published": published, "opened": opened, "awarded": awarded, "contracted": contracted, "paid": paid}


def release(stage: str, *, seq: int = 1, now: datetime | None = None, tags=("tender",)) -> dict:
    process = STAGES[stage]()
    when = T0 + timedelta(days=seq)
    return ocds_mapping.build_release(
        process, ocid=f"ocds-test-{process.tender['id']}", release_id=f"ocds-test-{process.tender['id']}-{seq}",
        date=when, tags=list(tags), now=now or when,
    )


def package(*releases: dict) -> dict:
    """A release package of the given releases, with a next page."""
    return ocds.release_package(
        list(releases), uri="https://govbuy.test/api/v1/public/ocds/releases", published_date=releases[-1]["date"],
        publisher=PUBLISHER, next_uri="https://govbuy.test/api/v1/public/ocds/releases?since=9&limit=100",
    )
