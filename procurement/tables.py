"""Tables of the procurement domain: tenders, bids and their reviews, panels and their draws,
awards, challenges and complaints (a tender
names a catalogue item and a budget line, which are planning's tables). The schema itself
(with its constraints) is the raw SQL of the migration; these classes name the same columns for
Piccolo."""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from govbuy.tables import Organisation, User
from planning.tables import BudgetLine, CatalogueItem

MONEY = (16, 2)


class Tender(Table, tablename="tenders"):
    id = UUID(primary_key=True)
    bureau = ForeignKey(Organisation, db_column_name="bureau_id")
    title = Varchar(length=200)
    description = Text()
    catalogue_item = ForeignKey(CatalogueItem, db_column_name="catalogue_item_id")
    budget_line = ForeignKey(BudgetLine, db_column_name="budget_line_id")
    method = Varchar(length=30)
    ceiling_amount = Numeric(digits=MONEY)
    contract_months = SmallInt()
    recurring = Boolean(default=False)
    evaluation_method = Varchar(length=20)
    price_weight = Numeric(digits=(5, 2), null=True)
    criteria = JSONB()
    min_assessment_grade = SmallInt(null=True)
    min_credit_grade = Varchar(length=1, null=True)
    milestones = JSONB()
    payment_rule = JSONB(null=True)
    bid_deadline = Timestamptz()
    status = Varchar(length=12)
    reserved_amount = Numeric(digits=MONEY)
    calendar_warning = Text(null=True)
    published_at = Timestamptz(null=True)
    opened_at = Timestamptz(null=True)
    failure_reason = Varchar(length=40, null=True)
    cancel_reason = Text(null=True)
    closed_at = Timestamptz(null=True)
    award_id = UUID(null=True)
    suspended_until = Timestamptz(null=True)
    suspended_by_complaint = UUID(null=True)
    # The procurement intention (采购意向, 财库〔2020〕10号) it was announced by (planning's), and why
    # it is published without one or sooner than 30 days after it.
    procurement_intention_id = UUID(null=True)
    intention_notice_exception = Text(null=True)
    created_by = ForeignKey(User, db_column_name="created_by", null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    version = Integer(default=1)


class TenderInvitation(Table, tablename="tender_invitations"):
    tender = ForeignKey(Tender, db_column_name="tender_id", primary_key=True)
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")


class TenderQuestion(Table, tablename="tender_questions"):
    id = UUID(primary_key=True)
    tender = ForeignKey(Tender, db_column_name="tender_id")
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    asked_by = ForeignKey(User, db_column_name="asked_by")
    question = Text()
    asked_at = Timestamptz()
    answer = Text(null=True)
    answered_by = ForeignKey(User, db_column_name="answered_by", null=True)
    answered_at = Timestamptz(null=True)


class Bid(Table, tablename="bids"):
    """A vendor's bid; price and proposal are sealed until the tender's deadline."""

    id = UUID(primary_key=True)
    tender = ForeignKey(Tender, db_column_name="tender_id")
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    submitted_by = ForeignKey(User, db_column_name="submitted_by")
    price = Numeric(digits=MONEY)
    proposal = Text()
    status = Varchar(length=12)  # submitted | withdrawn | valid | invalid
    first_submitted_at = Timestamptz()
    submitted_at = Timestamptz()
    withdrawn_at = Timestamptz(null=True)
    eligibility_at_submission = JSONB()
    eligibility_at_opening = JSONB(null=True)
    credit_grade_at_opening = Varchar(length=1, null=True)
    invalid_reason = Text(null=True)
    seal_nonce = Varchar(length=32)
    content_digest = Varchar(length=64)
    review_status = Varchar(length=16, default="pending")  # pending | responsive | non_responsive
    version = Integer(default=1)


class BidReview(Table, tablename="bid_reviews"):
    """资格性审查 (qualification), 符合性审查 (compliance) or an upheld challenge's finding (remedy)."""

    bid = ForeignKey(Bid, db_column_name="bid_id", primary_key=True)
    stage = Varchar(length=14)
    tender = ForeignKey(Tender, db_column_name="tender_id")
    responsive = Boolean()
    reason = Text()
    reviewed_by = ForeignKey(User, db_column_name="reviewed_by", null=True)
    reviewed_at = Timestamptz()
    source_id = UUID(null=True)
    version = Integer(default=1)


class ExpertAffiliation(Table, tablename="expert_affiliations"):
    expert_user = ForeignKey(User, db_column_name="expert_user_id", primary_key=True)
    organisation = ForeignKey(Organisation, db_column_name="organisation_id")
    declared_at = Timestamptz()
    declared_by = ForeignKey(User, db_column_name="declared_by", null=True)


class PanelDraw(Table, tablename="panel_draws"):
    """A random draw of a panel's experts (or a hand-picked panel, with its reason)."""

    id = UUID(primary_key=True)
    tender = ForeignKey(Tender, db_column_name="tender_id")
    kind = Varchar(length=12)  # draw | replacement | hand_picked
    seed = Varchar(length=64, null=True)
    candidates = JSONB()
    excluded = JSONB()
    drawn = JSONB()
    representatives = JSONB()
    replaced_expert = ForeignKey(User, db_column_name="replaced_expert_id", null=True)
    reason = Text(null=True)
    drawn_at = Timestamptz()
    drawn_by = ForeignKey(User, db_column_name="drawn_by", null=True)


class TenderPanelMember(Table, tablename="tender_panel_members"):
    tender = ForeignKey(Tender, db_column_name="tender_id", primary_key=True)
    expert_user = ForeignKey(User, db_column_name="expert_user_id")
    member_role = Varchar(length=16, default="expert")  # expert | representative
    draw = ForeignKey(PanelDraw, db_column_name="draw_id", null=True)
    appointed_at = Timestamptz()
    appointed_by = ForeignKey(User, db_column_name="appointed_by", null=True)


class BidScore(Table, tablename="bid_scores"):
    bid = ForeignKey(Bid, db_column_name="bid_id", primary_key=True)
    expert_user = ForeignKey(User, db_column_name="expert_user_id")
    tender = ForeignKey(Tender, db_column_name="tender_id")
    scores = JSONB()
    scored_at = Timestamptz()
    version = Integer(default=1)


class TenderAward(Table, tablename="tender_awards"):
    id = UUID(primary_key=True)
    tender = ForeignKey(Tender, db_column_name="tender_id")
    status = Varchar(length=8)  # active | voided
    winning_bid = ForeignKey(Bid, db_column_name="winning_bid_id")
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    price = Numeric(digits=MONEY)
    ranking = JSONB()
    awarded_at = Timestamptz()
    awarded_by = ForeignKey(User, db_column_name="awarded_by", null=True)
    standstill_until = Timestamptz()
    calendar_warning = Text(null=True)
    voided_at = Timestamptz(null=True)
    voided_by_challenge = UUID(null=True)
    negotiation_record = Text(null=True)


class TenderChallenge(Table, tablename="tender_challenges"):
    id = UUID(primary_key=True)
    tender = ForeignKey(Tender, db_column_name="tender_id")
    award = ForeignKey(TenderAward, db_column_name="award_id", null=True)
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    filed_by = ForeignKey(User, db_column_name="filed_by")
    kind = Varchar(length=10, default="result")  # documents | process | result
    step = Varchar(length=10, null=True)  # opening | panel | review (process challenges)
    window_end = Timestamptz(null=True)
    concerned_bid_ids = JSONB(default="[]")
    remedy = Varchar(length=16, null=True)
    remedy_effect = JSONB(null=True)
    grounds = Text()
    status = Varchar(length=10)  # pending | upheld | dismissed | moot
    reply = Text(null=True)
    filed_at = Timestamptz()
    reply_due = Timestamptz()
    resolved_at = Timestamptz(null=True)
    resolved_by = ForeignKey(User, db_column_name="resolved_by", null=True)
    version = Integer(default=1)


class Complaint(Table, tablename="complaints"):
    """A complaint (投诉) to the regulator of the tender's region about a challenge's answer."""

    id = UUID(primary_key=True)
    tender = ForeignKey(Tender, db_column_name="tender_id")
    challenge = ForeignKey(TenderChallenge, db_column_name="challenge_id")
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    filed_by = ForeignKey(User, db_column_name="filed_by")
    grounds = Text()
    region_code = Varchar(length=6)
    status = Varchar(length=10, default="filed")  # filed | accepted | refused | decided
    filed_at = Timestamptz()
    acceptance_due = Timestamptz()
    decision_due = Timestamptz()
    accepted_at = Timestamptz(null=True)
    refused_at = Timestamptz(null=True)
    refusal_reason = Text(null=True)
    decided_at = Timestamptz(null=True)
    outcome = Varchar(length=10, null=True)
    decision = Text(null=True)
    remedy = Varchar(length=16, null=True)
    remedy_effect = JSONB(null=True)
    regulator = ForeignKey(Organisation, db_column_name="regulator_id", null=True)
    handled_by = ForeignKey(User, db_column_name="handled_by", null=True)
    suspended_at = Timestamptz(null=True)
    resumed_at = Timestamptz(null=True)
    version = Integer(default=1)
