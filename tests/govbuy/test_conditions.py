"""govbuy.database.Conditions: a WHERE clause of the filters given, numbered in order."""

from __future__ import annotations

from uuid import UUID

from govbuy import database as db

BUREAU = UUID("00000000-0000-0000-0000-000000000001")


def test_only_the_filters_given_are_in_the_clause_numbered_in_order():
    where = db.Conditions("t.published_at IS NOT NULL")
    where.given("t.status = {}::text", None)
    where.given("t.bureau_id = {}::uuid", BUREAU)
    where.add("(t.created_at, t.id) < ({}, {})", "2026-01-01", "x")
    limit = where.param(21)
    assert str(where) == "t.published_at IS NOT NULL AND t.bureau_id = $1::uuid AND (t.created_at, t.id) < ($2, $3)"
    assert (limit, where.args) == ("$4", [BUREAU, "2026-01-01", "x", 21])


def test_no_filter_at_all_is_true():
    assert str(db.Conditions()) == "true"


async def test_the_clause_runs(database):
    where = db.Conditions()
    where.given("kind = {}::text", "vendor")
    where.given("name = {}::text", None)
    assert await db.fetchval(f"SELECT count(*) FROM organisations WHERE {where}", *where.args) == 0
