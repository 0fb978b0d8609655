"""Tables of the contracts domain (the schema itself is the raw SQL of the migration, with its
constraints; these classes mirror it for Piccolo). Columns pointing into procurement (tender,
bid) and planning (budget line) are plain UUIDs here: the foreign keys live in the migration."""

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from govbuy.tables import Organisation, User


class Contract(Table, tablename="contracts"):
    """A purchase-of-services contract (政府购买服务合同) created from an award."""

    id = UUID(primary_key=True)
    tender_id = UUID(unique=True)
    bid_id = UUID()
    bureau = ForeignKey(Organisation, db_column_name="bureau_id")
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    payee = ForeignKey(Organisation, db_column_name="payee_id")
    budget_line_id = UUID()
    title = Varchar(length=200)
    reserved_amount = Numeric(digits=(16, 2))
    original_amount = Numeric(digits=(16, 2))
    amount = Numeric(digits=(16, 2))
    contract_months = Integer()
    recurring = Boolean()
    start_date = Date()
    end_date = Date()
    payment_rule = JSONB()
    payment_rule_source = Varchar(length=10)
    status = Varchar(length=12)
    bureau_signed_at = Timestamptz(null=True)
    bureau_signed_by = ForeignKey(User, db_column_name="bureau_signed_by", null=True)
    vendor_signed_at = Timestamptz(null=True)
    vendor_signed_by = ForeignKey(User, db_column_name="vendor_signed_by", null=True)
    activated_at = Timestamptz(null=True)
    completed_at = Timestamptz(null=True)
    terminated_at = Timestamptz(null=True)
    terminated_by = ForeignKey(User, db_column_name="terminated_by", null=True)
    termination_reason = Text(null=True)
    terminated_for_cause = Boolean(null=True)
    created_by = ForeignKey(User, db_column_name="created_by")
    created_at = Timestamptz()
    version = Integer(default=1)


class Milestone(Table, tablename="milestones"):
    id = UUID(primary_key=True)
    contract = ForeignKey(Contract, db_column_name="contract_id")
    sequence = Integer()
    title = Varchar(length=200)
    percentage = Numeric(digits=(5, 2))
    original_amount = Numeric(digits=(16, 2))
    amount = Numeric(digits=(16, 2))
    due_offset_days = Integer()
    due_date = Date()
    # The line of a later budget year carrying this milestone (a multi-year contract, 102号令
    # Art. 24); null: the contract's own line.
    budget_line_id = UUID(null=True)
    status = Varchar(length=10)
    delivered_at = Timestamptz(null=True)
    cancelled_at = Timestamptz(null=True)
    version = Integer(default=1)


class Amendment(Table, tablename="amendments"):
    """A supplementary agreement (补充合同) adding to the contract amount, changing its
    performance targets, or both."""

    id = UUID(primary_key=True)
    contract = ForeignKey(Contract, db_column_name="contract_id")
    increase = Numeric(digits=(16, 2))
    amount_before = Numeric(digits=(16, 2))
    amount_after = Numeric(digits=(16, 2))
    reason = Text()
    shares = JSONB()
    targets_before = JSONB(null=True)
    targets_after = JSONB(null=True)
    created_by = ForeignKey(User, db_column_name="created_by")
    created_at = Timestamptz()


class Deliverable(Table, tablename="deliverables"):
    """A milestone's report by the vendor: summary, figures, documents."""

    id = UUID(primary_key=True)
    contract = ForeignKey(Contract, db_column_name="contract_id")
    milestone = ForeignKey(Milestone, db_column_name="milestone_id")
    summary = Text()
    figures = JSONB()
    document_ids = Array(base_column=Text())
    submitted_by = ForeignKey(User, db_column_name="submitted_by")
    submitted_at = Timestamptz()


class Payment(Table, tablename="payments"):
    """A milestone's payment, decided from its accepted evaluation under the payment rule."""

    id = UUID(primary_key=True)
    contract = ForeignKey(Contract, db_column_name="contract_id")
    milestone = ForeignKey(Milestone, db_column_name="milestone_id", unique=True)
    evaluation_id = UUID()
    bureau = ForeignKey(Organisation, db_column_name="bureau_id")
    payee = ForeignKey(Organisation, db_column_name="payee_id")
    budget_line_id = UUID()
    idempotency_key = Varchar(length=200)
    milestone_amount = Numeric(digits=(16, 2))
    amount = Numeric(digits=(16, 2))
    withheld_amount = Numeric(digits=(16, 2))
    payout_ratio = Numeric(digits=(5, 4))
    total_score = Numeric(digits=(5, 2))
    grade = Varchar(length=10)
    status = Varchar(length=10)
    treasury_reference = Varchar(length=64, null=True)
    confirmed_at = Timestamptz(null=True)
    confirmed_by = ForeignKey(User, db_column_name="confirmed_by", null=True)
    created_by = ForeignKey(User, db_column_name="created_by")
    created_at = Timestamptz()
    version = Integer(default=1)
