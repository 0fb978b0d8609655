"""Indicators bound to performance targets (绩效目标, 财库〔2021〕22号; 预算法 Art. 32): a template
binds an output or outcome indicator to a target by its name, and the evaluation's sheet and
report show that target's target, reported and verified values beside the indicator's score."""

from __future__ import annotations

from datetime import timedelta

from evaluation.rules import DEFAULT_TEMPLATE, as_dicts
from govbuy import clock
from tests import factories
from tests.reports.support import get_pdf, squash

TEMPLATES = "/api/v1/indicator-templates"
API = "/api/v1/evaluations"
TARGETS = [
    {"indicator": "服务人次", "unit": "人次", "target": "1200", "direction": "at_least", "figure": "person_times_served"},
    {"indicator": "服务对象满意度", "unit": "%", "target": "90", "direction": "at_least", "figure": None},
]


def bound_indicators(**targets: str) -> list[dict[str, str]]:
    """The default template's indicators with `targets` bound by indicator code."""
    rows = as_dicts(DEFAULT_TEMPLATE)
    for row in rows:
        if row["code"] in targets:
            row["target"] = targets[row["code"]]
    return rows


async def create_template(client, bureau, **targets: str):
    body = {"name": "居家养老服务评价指标", "indicators": bound_indicators(**targets)}
    return await client.post(TEMPLATES, json=body, headers=bureau.headers)


async def test_a_template_binds_an_output_indicator_to_a_target_by_its_name(client):
    bureau = await factories.fast_user("bureau")
    r = await create_template(client, bureau, OP1=" 服务人次 ")
    assert r.status_code == 201, r.text
    targets = {i["code"]: i["target"] for i in r.json()["indicators"]}
    assert targets["OP1"] == "服务人次"
    assert targets["IN1"] is None
    assert (await client.get(f"{TEMPLATES}/{r.json()['id']}", headers=bureau.headers)).json() == r.json()


async def test_binding_a_process_indicator_is_refused_with_the_field(client):
    bureau = await factories.fast_user("bureau")
    r = await create_template(client, bureau, PR1="服务人次")
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_template"
    assert [e["field"] for e in r.json()["errors"]] == ["indicators[2].target"]


async def test_two_indicators_binding_one_target_are_refused(client):
    bureau = await factories.fast_user("bureau")
    r = await create_template(client, bureau, OP1="服务人次", OC1="服务人次")
    assert (r.status_code, r.json()["code"]) == (422, "invalid_template")
    assert [e["field"] for e in r.json()["errors"]] == ["indicators[8].target"]


async def test_the_default_template_binds_nothing(client):
    vendor = await factories.fast_user("vendor")
    default = next(t for t in (await client.get(TEMPLATES, headers=vendor.headers)).json()["items"] if t["is_default"])
    assert all(i["target"] is None for i in default["indicators"])


async def test_the_sheet_and_the_report_show_a_bound_indicators_target_reported_and_verified(client):
    award, contract = await factories.contract_from_award(client, performance_targets=TARGETS)
    # OC1 names a target this contract does not state: the template serves other tenders too.
    template = (await create_template(client, award.bureau, OP1="服务人次", OC1="入户率")).json()
    milestone = contract["milestones"][0]
    await factories.deliver_milestone(
        client, award, contract["id"], milestone["id"], figures={"person_times_served": 1300, "people_served": 150}
    )
    evaluator = await factories.evaluator_user()
    r = await client.post(API, json={
        "contract_id": contract["id"], "milestone_id": milestone["id"], "template_id": template["id"],
        "evaluator_org_id": str(evaluator.organisation_id), "due_date": str(await clock.today() + timedelta(days=20)),
    }, headers=award.bureau.headers)
    assert r.status_code == 201, r.text
    evaluation = r.json()
    assert {i["code"]: i["target"] for i in evaluation["indicators"]}["OP1"] == "服务人次"
    sheet = {row["code"]: row for row in evaluation["sheet"]}
    assert sheet["OP1"]["score"] is None
    assert (sheet["OP1"]["target"]["reported"], sheet["OP1"]["target"]["verified"], sheet["OP1"]["target"]["met"]) == (
        "1300", None, True
    )

    scores = factories.scores_totalling(evaluation["indicators"], "85.00")
    r = await client.put(f"{API}/{evaluation['id']}/scores", json={
        "scores": scores, "target_results": {"服务人次": "1150", "服务对象满意度": "93"},
    }, headers=factories.if_match(evaluator, evaluation))
    assert r.status_code == 200, r.text
    assert (await client.post(f"{API}/{evaluation['id']}/submit", headers=evaluator.headers)).status_code == 200

    read = (await client.get(f"{API}/{evaluation['id']}", headers=award.bureau.headers)).json()
    sheet = {row["code"]: row for row in read["sheet"]}
    assert [row["code"] for row in read["sheet"]] == [i.code for i in DEFAULT_TEMPLATE]
    assert sheet["OP1"]["score"] == scores["OP1"]
    # Verified 1 150 falls short of 1 200, though the vendor reported 1 300: the verified value decides.
    assert sheet["OP1"]["target"] == {
        "indicator": "服务人次", "unit": "人次", "target": "1200", "direction": "at_least",
        "reported": "1300", "verified": "1150", "met": False,
    }
    assert sheet["OC1"]["target"] is None  # bound to 入户率, which this contract does not state
    assert sheet["SA1"]["target"] is None  # not bound, though the contract has a satisfaction target
    assert [t["indicator"] for t in read["targets"]] == ["服务人次", "服务对象满意度"]

    pdf = await get_pdf(client, f"{API}/{evaluation['id']}/report.pdf", award.bureau)
    text = squash(pdf.text)
    assert "目标值报告值核实值" in text
    assert f"OP1服务数量完成率12{scores['OP1']}" in text
    assert "≥1200人次1300人次1150人次" in text
    assert "绩效目标完成情况" in text and "服务人次≥1200人次1300人次1150人次未达成" in text
