"""Tables of the planning domain: the guidance catalogue (指导性目录) with its items, and budget
lines (先有预算、后购买服务). The schema itself (with its constraints) is the raw SQL of the
migration; these classes name the same columns for Piccolo."""

from piccolo.columns import JSONB, UUID, Date, ForeignKey, Integer, Numeric, SmallInt, Text, Timestamptz, Varchar
from piccolo.table import Table

from govbuy.tables import Organisation

MONEY = (16, 2)


class Catalogue(Table, tablename="catalogues"):
    """A version of a region's guidance catalogue (指导性目录) for one year."""

    id = UUID(primary_key=True)
    region_code = Varchar(length=6)
    year = Integer()
    version_no = Integer()
    title = Varchar(length=200)
    status = Varchar(length=12)  # draft | published | superseded
    created_by_org = ForeignKey(Organisation, db_column_name="created_by_org")
    created_at = Timestamptz()
    published_at = Timestamptz(null=True)
    superseded_at = Timestamptz(null=True)
    superseded_by = UUID(null=True)
    version = Integer(default=1)


class CatalogueItem(Table, tablename="catalogue_items"):
    id = UUID(primary_key=True)
    catalogue = ForeignKey(Catalogue, db_column_name="catalogue_id")
    code = Varchar(length=5)
    level = SmallInt()
    parent_code = Varchar(length=5, null=True)
    name = Varchar(length=200)
    description = Text()
    # The bureau's override of the negative list (负面清单): {reason, matches}; null when the
    # item matched nothing.
    negative_list_override = JSONB(null=True)
    created_at = Timestamptz()


class BudgetLine(Table, tablename="budget_lines"):
    """A bureau's budget line: amount, reserved, committed, spent (available is derived)."""

    id = UUID(primary_key=True)
    bureau = ForeignKey(Organisation, db_column_name="bureau_id")
    code = Varchar(length=40)
    year = Integer()
    title = Varchar(length=200)
    amount = Numeric(digits=MONEY)
    reserved = Numeric(digits=MONEY)
    committed = Numeric(digits=MONEY)
    spent = Numeric(digits=MONEY)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    version = Integer(default=1)


class ProcurementIntention(Table, tablename="procurement_intentions"):
    """What a bureau plans to buy from one of its budget lines (采购意向, 财库〔2020〕10号)."""

    id = UUID(primary_key=True)
    bureau = ForeignKey(Organisation, db_column_name="bureau_id")
    budget_line = ForeignKey(BudgetLine, db_column_name="budget_line_id")
    year = Integer()
    title = Varchar(length=200)
    needs = Text()
    budget_amount = Numeric(digits=MONEY)
    expected_month = Date()  # the first day of the month
    remarks = Text()
    status = Varchar(length=12)  # draft | published | withdrawn
    published_at = Timestamptz(null=True)
    withdrawn_at = Timestamptz(null=True)
    withdraw_reason = Text(null=True)
    created_by = UUID(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    version = Integer(default=1)
