"""Tables of the evaluation domain (the schema itself is the raw SQL of the migration, with its
constraints and the trigger that keeps accepted evaluations immutable)."""

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

from contracts.tables import Contract, Milestone
from govbuy.tables import Organisation, User


class EvaluatorAffiliation(Table, tablename="evaluator_affiliations"):
    """A declared affiliation of an evaluator organisation with a vendor (回避)."""

    evaluator = ForeignKey(Organisation, db_column_name="evaluator_id", primary_key=True)
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    note = Text()
    declared_by = ForeignKey(User, db_column_name="declared_by", null=True)
    declared_at = Timestamptz()


class IndicatorTemplate(Table, tablename="indicator_templates"):
    id = UUID(primary_key=True)
    name = Varchar(length=200)
    description = Text()
    indicators = JSONB()
    is_default = Boolean(default=False)
    organisation = ForeignKey(Organisation, db_column_name="organisation_id", null=True)
    created_by = ForeignKey(User, db_column_name="created_by", null=True)
    created_at = Timestamptz()
    version = Integer(default=1)


class Evaluation(Table, tablename="evaluations"):
    """A third-party performance evaluation (第三方绩效评价) of one milestone."""

    id = UUID(primary_key=True)
    contract = ForeignKey(Contract, db_column_name="contract_id")
    milestone = ForeignKey(Milestone, db_column_name="milestone_id")
    bureau = ForeignKey(Organisation, db_column_name="bureau_id")
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    evaluator = ForeignKey(Organisation, db_column_name="evaluator_id")
    template = ForeignKey(IndicatorTemplate, db_column_name="template_id")
    indicators = JSONB()
    due_date = Date()
    status = Varchar(length=12)
    scores = JSONB()
    survey_responses = Integer(null=True)
    survey_satisfied = Integer(null=True)
    findings = Text()
    evidence_document_ids = Array(base_column=Text())
    total_score = Numeric(digits=(5, 2), null=True)
    grade = Varchar(length=10, null=True)
    returned_reason = Text(null=True)
    commissioned_by = ForeignKey(User, db_column_name="commissioned_by")
    commissioned_at = Timestamptz()
    submitted_at = Timestamptz(null=True)
    submitted_by = ForeignKey(User, db_column_name="submitted_by", null=True)
    accepted_at = Timestamptz(null=True)
    accepted_by = ForeignKey(User, db_column_name="accepted_by", null=True)
    appeal_deadline = Timestamptz(null=True)
    supersedes = ForeignKey("self", db_column_name="supersedes_id", null=True)
    superseded_at = Timestamptz(null=True)
    superseded_by = ForeignKey("self", db_column_name="superseded_by_id", null=True)
    accepted_targets = JSONB(null=True)  # the performance targets it judged, kept at its acceptance
    version = Integer(default=1)


class Appeal(Table, tablename="appeals"):
    """The vendor's appeal (申诉) against an accepted evaluation."""

    id = UUID(primary_key=True)
    evaluation = ForeignKey(Evaluation, db_column_name="evaluation_id")
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    reason = Text()
    status = Varchar(length=10)
    filed_by = ForeignKey(User, db_column_name="filed_by")
    filed_at = Timestamptz()
    reply = Text(null=True)
    resolved_by = ForeignKey(User, db_column_name="resolved_by", null=True)
    resolved_at = Timestamptz(null=True)
    reevaluation = ForeignKey(Evaluation, db_column_name="reevaluation_id", null=True)
    version = Integer(default=1)
