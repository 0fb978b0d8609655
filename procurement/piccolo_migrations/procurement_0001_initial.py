"""Procurement: tenders, invitations, questions, bids, expert affiliations, panels, score
sheets, awards and challenges.

The service enforces every rule; the constraints below are the last line of defence, so that
no bug and no concurrent interleaving can store what the rules forbid (two live bids of one
vendor, a price above the ceiling, a reservation that does not match the tender's status).

The guidance catalogue and budget lines were created here until they became the planning
domain's: `planning_0001` creates them now, before this migration runs, and adopts them, rows
and all, in a database where this migration made them.
"""

from govbuy.migration import sql_migration

ID = "2026-11-22T03:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "procurement schema"

SQL = """
CREATE TABLE tenders (
    id uuid PRIMARY KEY,
    bureau_id uuid NOT NULL REFERENCES organisations(id),
    title varchar(200) NOT NULL CHECK (length(btrim(title)) > 0),
    description text NOT NULL DEFAULT '',
    catalogue_item_id uuid NOT NULL REFERENCES catalogue_items(id),
    budget_line_id uuid NOT NULL REFERENCES budget_lines(id),
    method varchar(30) NOT NULL CHECK (method IN ('public_tender','invited_tender','competitive_negotiation',
                                                  'competitive_consultation','inquiry','single_source')),
    ceiling_amount numeric(16,2) NOT NULL CHECK (ceiling_amount > 0),
    contract_months smallint NOT NULL,
    recurring boolean NOT NULL DEFAULT false,
    evaluation_method varchar(20) NOT NULL CHECK (evaluation_method IN ('comprehensive','lowest_price')),
    price_weight numeric(5,2) CHECK (price_weight BETWEEN 10 AND 30),
    criteria jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(criteria) = 'array'),
    min_assessment_grade smallint CHECK (min_assessment_grade BETWEEN 1 AND 5),
    min_credit_grade char(1) CHECK (min_credit_grade IN ('A','B','C','D')),
    milestones jsonb NOT NULL CHECK (jsonb_typeof(milestones) = 'array' AND jsonb_array_length(milestones) > 0),
    payment_rule jsonb CHECK (payment_rule IS NULL OR jsonb_typeof(payment_rule) = 'array'),
    bid_deadline timestamptz NOT NULL,
    status varchar(12) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','published','evaluating','awarded',
                                                                  'contracted','cancelled','failed')),
    reserved_amount numeric(16,2) NOT NULL DEFAULT 0,
    calendar_warning text,
    published_at timestamptz,
    opened_at timestamptz,
    failure_reason varchar(40),
    cancel_reason text,
    closed_at timestamptz,
    award_id uuid,
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    -- 政府购买服务管理办法 Art. 24: 12 months, 36 for a recurring service.
    CONSTRAINT tenders_contract_term CHECK (contract_months BETWEEN 1 AND CASE WHEN recurring THEN 36 ELSE 12 END),
    CHECK ((evaluation_method = 'comprehensive') = (price_weight IS NOT NULL)),
    CHECK (status = 'draft' OR (status = 'cancelled' AND published_at IS NULL) OR published_at IS NOT NULL),
    CHECK (published_at IS NULL OR bid_deadline > published_at),
    CHECK (opened_at IS NULL OR opened_at >= bid_deadline),
    CHECK ((status = 'failed') = (failure_reason IS NOT NULL)),
    CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL)),
    -- The ceiling is reserved on the budget line exactly while the tender is live.
    CONSTRAINT tenders_reservation CHECK (
        reserved_amount = CASE WHEN status IN ('published','evaluating','awarded') THEN ceiling_amount ELSE 0 END),
    CHECK ((status IN ('awarded','contracted')) = (award_id IS NOT NULL))
);
CREATE INDEX tenders_list ON tenders (created_at DESC, id DESC);
CREATE INDEX tenders_bureau ON tenders (bureau_id, created_at DESC, id DESC);
CREATE INDEX tenders_status ON tenders (status, created_at DESC, id DESC);
CREATE INDEX tenders_method ON tenders (method, created_at DESC, id DESC);
CREATE INDEX tenders_catalogue_item ON tenders (catalogue_item_id, created_at DESC, id DESC);
CREATE INDEX tenders_budget_line ON tenders (budget_line_id);
CREATE INDEX tenders_deadline ON tenders (bid_deadline);
-- What the opening worker claims: published tenders whose deadline has passed.
CREATE INDEX tenders_due ON tenders (bid_deadline) WHERE status = 'published';

CREATE TABLE tender_invitations (
    tender_id uuid NOT NULL REFERENCES tenders(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (tender_id, vendor_id)
);
CREATE INDEX tender_invitations_vendor ON tender_invitations (vendor_id, tender_id);

-- Questions (质疑前的澄清): published without the asker's name.
CREATE TABLE tender_questions (
    id uuid PRIMARY KEY,
    tender_id uuid NOT NULL REFERENCES tenders(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    asked_by uuid NOT NULL REFERENCES users(id),
    question text NOT NULL CHECK (length(btrim(question)) > 0 AND length(question) <= 4000),
    asked_at timestamptz NOT NULL,
    answer text CHECK (answer IS NULL OR (length(btrim(answer)) > 0 AND length(answer) <= 8000)),
    answered_by uuid REFERENCES users(id),
    answered_at timestamptz,
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);
CREATE INDEX tender_questions_tender ON tender_questions (tender_id, asked_at, id);
CREATE INDEX tender_questions_vendor ON tender_questions (vendor_id);

CREATE TABLE bids (
    id uuid PRIMARY KEY,
    tender_id uuid NOT NULL REFERENCES tenders(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    submitted_by uuid NOT NULL REFERENCES users(id),
    price numeric(16,2) NOT NULL CHECK (price > 0),
    proposal text NOT NULL CHECK (length(btrim(proposal)) > 0),
    status varchar(12) NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted','withdrawn','valid','invalid')),
    first_submitted_at timestamptz NOT NULL,
    submitted_at timestamptz NOT NULL,
    withdrawn_at timestamptz,
    eligibility_at_submission jsonb NOT NULL,
    eligibility_at_opening jsonb,
    credit_grade_at_opening char(1) CHECK (credit_grade_at_opening IN ('A','B','C','D')),
    invalid_reason text,
    seal_nonce char(32) NOT NULL,
    content_digest char(64) NOT NULL,
    version integer NOT NULL DEFAULT 1,
    CHECK (submitted_at >= first_submitted_at),
    CHECK ((status = 'withdrawn') = (withdrawn_at IS NOT NULL)),
    CHECK (status NOT IN ('valid','invalid') OR eligibility_at_opening IS NOT NULL),
    CHECK ((status = 'invalid') = (invalid_reason IS NOT NULL))
);
-- One live bid per vendor per tender (a withdrawn one stays for the record).
CREATE UNIQUE INDEX bids_one_per_vendor ON bids (tender_id, vendor_id) WHERE status <> 'withdrawn';
CREATE INDEX bids_tender ON bids (tender_id, submitted_at, id);
CREATE INDEX bids_vendor ON bids (vendor_id, submitted_at DESC, id);

-- No price above the tender's ceiling (最高限价), whatever path writes it.
CREATE FUNCTION bids_within_ceiling() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.price > (SELECT ceiling_amount FROM tenders WHERE id = NEW.tender_id) THEN
        RAISE EXCEPTION 'bid price % exceeds the ceiling', NEW.price
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_within_ceiling';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bids_within_ceiling BEFORE INSERT OR UPDATE OF price ON bids
    FOR EACH ROW EXECUTE FUNCTION bids_within_ceiling();

-- Experts' declared affiliations with organisations (回避), recorded by an admin.
CREATE TABLE expert_affiliations (
    expert_user_id uuid NOT NULL REFERENCES users(id),
    organisation_id uuid NOT NULL REFERENCES organisations(id),
    declared_at timestamptz NOT NULL,
    declared_by uuid REFERENCES users(id),
    PRIMARY KEY (expert_user_id, organisation_id)
);
CREATE INDEX expert_affiliations_organisation ON expert_affiliations (organisation_id, expert_user_id);

-- The evaluation panel (评标委员会) of a tender.
CREATE TABLE tender_panel_members (
    tender_id uuid NOT NULL REFERENCES tenders(id),
    expert_user_id uuid NOT NULL REFERENCES users(id),
    appointed_at timestamptz NOT NULL,
    appointed_by uuid REFERENCES users(id),
    PRIMARY KEY (tender_id, expert_user_id)
);
CREATE INDEX tender_panel_members_expert ON tender_panel_members (expert_user_id, tender_id);

-- One expert's score sheet for one bid ({criterion: score}); never public.
CREATE TABLE bid_scores (
    bid_id uuid NOT NULL REFERENCES bids(id),
    expert_user_id uuid NOT NULL REFERENCES users(id),
    tender_id uuid NOT NULL REFERENCES tenders(id),
    scores jsonb NOT NULL CHECK (jsonb_typeof(scores) = 'object'),
    scored_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (bid_id, expert_user_id),
    FOREIGN KEY (tender_id, expert_user_id) REFERENCES tender_panel_members (tender_id, expert_user_id)
);
CREATE INDEX bid_scores_tender ON bid_scores (tender_id, expert_user_id, bid_id);

-- Award notices (中标公告) with their ranking; an upheld challenge voids one, never deletes it.
CREATE TABLE tender_awards (
    id uuid PRIMARY KEY,
    tender_id uuid NOT NULL REFERENCES tenders(id),
    status varchar(8) NOT NULL DEFAULT 'active' CHECK (status IN ('active','voided')),
    winning_bid_id uuid NOT NULL REFERENCES bids(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    price numeric(16,2) NOT NULL CHECK (price > 0),
    ranking jsonb NOT NULL CHECK (jsonb_typeof(ranking) = 'array' AND jsonb_array_length(ranking) > 0),
    awarded_at timestamptz NOT NULL,
    awarded_by uuid REFERENCES users(id),
    standstill_until timestamptz NOT NULL CHECK (standstill_until > awarded_at),
    calendar_warning text,
    voided_at timestamptz,
    voided_by_challenge uuid,
    CHECK ((status = 'voided') = (voided_at IS NOT NULL))
);
CREATE UNIQUE INDEX tender_awards_one_active ON tender_awards (tender_id) WHERE status = 'active';
CREATE INDEX tender_awards_tender ON tender_awards (tender_id, awarded_at DESC, id);
ALTER TABLE tenders ADD CONSTRAINT tenders_award FOREIGN KEY (award_id) REFERENCES tender_awards(id);

-- Challenges (质疑) to an award, filed by a bidder within the standstill.
CREATE TABLE tender_challenges (
    id uuid PRIMARY KEY,
    tender_id uuid NOT NULL REFERENCES tenders(id),
    award_id uuid NOT NULL REFERENCES tender_awards(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    filed_by uuid NOT NULL REFERENCES users(id),
    grounds text NOT NULL CHECK (length(btrim(grounds)) > 0 AND length(grounds) <= 8000),
    status varchar(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','upheld','dismissed','moot')),
    reply text,
    filed_at timestamptz NOT NULL,
    resolved_at timestamptz,
    resolved_by uuid REFERENCES users(id),
    version integer NOT NULL DEFAULT 1,
    CHECK ((status = 'pending') = (resolved_at IS NULL)),
    CHECK (status IN ('pending','moot') OR length(btrim(reply)) > 0)
);
CREATE INDEX tender_challenges_tender ON tender_challenges (tender_id, filed_at, id);
CREATE INDEX tender_challenges_pending ON tender_challenges (award_id) WHERE status = 'pending';
CREATE UNIQUE INDEX tender_challenges_one_pending ON tender_challenges (award_id, vendor_id) WHERE status = 'pending';
ALTER TABLE tender_awards ADD CONSTRAINT tender_awards_voided_by
    FOREIGN KEY (voided_by_challenge) REFERENCES tender_challenges(id);
"""


forwards = sql_migration(ID, "procurement", DESCRIPTION, SQL)
