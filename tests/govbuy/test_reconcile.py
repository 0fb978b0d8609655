"""Reconciliation: the money stored against what the audit events say (govbuy/reconcile)."""

from __future__ import annotations

from govbuy import database as db
from govbuy.reconcile import service as reconcile
from tests import factories

API = "/api/v1"


async def test_a_budget_line_made_through_the_service_reconciles(database):
    bureau = await factories.signed_in("bureau")
    await factories.budget_line(bureau, "5000000.00")
    result = await reconcile.reconcile()
    assert (result.ok, result.differences_total, result.differences) == (True, 0, [])
    assert "budget_line.spent" in result.fields_checked and "payment.withheld_amount" in result.fields_checked


async def test_a_budget_line_raised_in_sql_is_reported(client):
    bureau = await factories.signed_in("bureau")
    supervisor = await factories.signed_in("supervisor")
    line = await factories.budget_line(bureau, "5000000.00")
    await db.execute("UPDATE budget_lines SET amount = amount + 1000000 WHERE id = $1", line.id)
    response = await client.get(f"{API}/audit-events/reconcile", headers=supervisor.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["ok"], body["differences_total"]) == (False, 1)
    assert body["differences"] == [
        {"entity_type": "budget_line", "entity_id": str(line.id), "field": "amount",
         "stored": "6000000.00", "from_events": "5000000.00"}
    ]


async def test_money_moved_in_sql_without_an_event_is_reported(database):
    bureau = await factories.signed_in("bureau")
    line = await factories.budget_line(bureau, "5000000.00")
    await db.execute("UPDATE budget_lines SET spent = 100.00, committed = 100.00 WHERE id = $1", line.id)
    result = await reconcile.reconcile()
    assert {(d.field, d.stored, d.from_events) for d in result.differences} == {
        ("spent", "100.00", "0.00"), ("committed", "100.00", "0.00"),
    }


async def test_an_amount_raised_in_sql_is_not_laundered_by_a_later_move(database):
    """The amount is read from the events that set it, not from the moves that carry the line
    along (and whose events carry the moved sum under `amount`)."""
    from decimal import Decimal

    from govbuy import clock
    from planning import service as planning

    bureau = await factories.signed_in("bureau")
    line = await factories.budget_line(bureau, "5000000.00")
    await db.execute("UPDATE budget_lines SET amount = 6000000.00 WHERE id = $1", line.id)
    async with db.transaction():  # a tender's ceiling reserved, as publishing does
        move = await planning.reserve_budget(line.id, Decimal("400000.00"), await clock.now())
        await planning.audit_budget_move(None, "reserved", move, amount=Decimal("400000.00"))
    result = await reconcile.reconcile()
    assert {(d.field, d.stored, d.from_events) for d in result.differences} == {("amount", "6000000.00", "5000000.00")}


async def test_a_row_written_without_any_event_is_reported(database):
    bureau = await factories.signed_in("bureau")
    line_id = await factories.contract_budget_line(bureau.organisation_id, "1000000.00")
    result = await reconcile.reconcile()
    assert {(d.entity_id, d.field, d.stored, d.from_events) for d in result.differences} == {
        (str(line_id), "amount", "1000000.00", None),
        (str(line_id), "reserved", "0.00", None),
        (str(line_id), "committed", "0.00", None),
        (str(line_id), "spent", "0.00", None),
    }


async def test_the_differences_listed_are_bounded_and_all_counted(client):
    bureau = await factories.signed_in("bureau")
    admin = await factories.signed_in("admin")
    for _ in range(3):
        await factories.contract_budget_line(bureau.organisation_id)
    body = (await client.get(f"{API}/audit-events/reconcile?limit=2", headers=admin.headers)).json()
    assert (body["differences_total"], len(body["differences"])) == (12, 2)


async def test_only_admins_and_supervisors_reconcile(client):
    for role in ("bureau", "vendor", "evaluator", "expert", "regulator"):
        user = await factories.signed_in(role)
        response = await client.get(f"{API}/audit-events/reconcile", headers=user.headers)
        assert (response.status_code, response.json()["code"]) == (403, "role_not_allowed")


def test_reconcile_is_a_command():
    from govbuy import cli

    args = cli.build_parser().parse_args(["reconcile", "--limit", "5"])
    assert (args.func.__name__, args.limit) == ("cmd_reconcile", 5)


async def test_an_amended_contract_reconciles_until_its_amount_is_changed_in_sql(client):
    award, body = await factories.contract_from_award(client)
    r = await client.post(
        f"{API}/contracts/{body['id']}/amendments", json={"increase": "20000.00", "reason": "增加服务对象"},
        headers=award.bureau.headers,
    )
    assert r.status_code == 201, r.text

    async def contract_differences():
        # the fixture wrote the tender's line and reservation straight into the tables: lines aside
        return {(d.field, d.stored, d.from_events) for d in (await reconcile.reconcile()).differences
                if d.entity_type == "contract"}

    assert await contract_differences() == set()
    await db.execute("UPDATE contracts SET amount = amount + 10000 WHERE id = $1", body["id"])
    assert await contract_differences() == {("amount", "330000.00", "320000.00")}
