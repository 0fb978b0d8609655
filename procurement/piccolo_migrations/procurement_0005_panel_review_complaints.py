"""Drawn panels, bid review, challenges of every kind with their remedies, complaints and the
regulator's suspension (政府采购法实施条例 Art. 39, 财政部令第87号 Arts. 44, 47, 50, 财政部令第94号).

Bids opened before review existed keep the standing their opening gave them where the tender has
gone past evaluation (valid → responsive, invalid → non-responsive); bids of a tender still under
evaluation are reviewed like any other (pending). Panels appointed before draws existed have no
draw: they read as hand-picked, without a recorded reason.
"""

from govbuy.migration import sql_migration

ID = "2026-12-03T13:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "panel draws, bid review, challenges and complaints"

SQL = """
-- Every draw of a panel's experts, with what replays it: the seed, the candidates (the pool less
-- the excluded, in id order), who was excluded and why, and who was drawn, in draw order.
CREATE TABLE panel_draws (
    id uuid PRIMARY KEY,
    tender_id uuid NOT NULL REFERENCES tenders(id),
    kind varchar(12) NOT NULL CHECK (kind IN ('draw','replacement','hand_picked')),
    seed varchar(64),
    candidates jsonb NOT NULL CHECK (jsonb_typeof(candidates) = 'array'),
    excluded jsonb NOT NULL CHECK (jsonb_typeof(excluded) = 'array'),
    drawn jsonb NOT NULL CHECK (jsonb_typeof(drawn) = 'array'),
    representatives jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(representatives) = 'array'),
    replaced_expert_id uuid REFERENCES users(id),
    reason text CHECK (length(reason) <= 4000),
    drawn_at timestamptz NOT NULL,
    drawn_by uuid REFERENCES users(id),
    CHECK ((kind = 'hand_picked') = (seed IS NULL)),
    CHECK (kind <> 'hand_picked' OR length(btrim(reason)) > 0),
    CHECK ((kind = 'replacement') = (replaced_expert_id IS NOT NULL)),
    CHECK (kind <> 'replacement' OR length(btrim(reason)) > 0)
);
CREATE INDEX panel_draws_tender ON panel_draws (tender_id, drawn_at, id);

ALTER TABLE tender_panel_members
    ADD COLUMN member_role varchar(16) NOT NULL DEFAULT 'expert' CHECK (member_role IN ('expert','representative')),
    ADD COLUMN draw_id uuid REFERENCES panel_draws(id);

-- Reviews of an opened bid: qualification (资格性审查, the purchaser), compliance (符合性审查, the
-- panel), and the finding of an upheld challenge or complaint (remedy).
CREATE TABLE bid_reviews (
    bid_id uuid NOT NULL REFERENCES bids(id),
    stage varchar(14) NOT NULL CHECK (stage IN ('qualification','compliance','remedy')),
    tender_id uuid NOT NULL REFERENCES tenders(id),
    responsive boolean NOT NULL,
    reason text NOT NULL CHECK (length(btrim(reason)) > 0 AND length(reason) <= 4000),
    reviewed_by uuid REFERENCES users(id),
    reviewed_at timestamptz NOT NULL,
    source_id uuid,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (bid_id, stage),
    CHECK (stage <> 'remedy' OR NOT responsive)
);
CREATE INDEX bid_reviews_tender ON bid_reviews (tender_id, bid_id);

ALTER TABLE bids ADD COLUMN review_status varchar(16) NOT NULL DEFAULT 'pending'
    CHECK (review_status IN ('pending','responsive','non_responsive'));
UPDATE bids b SET review_status = CASE b.status WHEN 'valid' THEN 'responsive' ELSE 'non_responsive' END
    FROM tenders t WHERE t.id = b.tender_id AND b.status IN ('valid','invalid')
      AND t.status IN ('awarded','contracted','failed','cancelled');
UPDATE bids SET review_status = 'non_responsive' WHERE status = 'invalid';

-- The regulator's suspension (暂停采购活动, 94号令 Art. 28) and a single-source negotiation's record.
ALTER TABLE tenders ADD COLUMN suspended_until timestamptz, ADD COLUMN suspended_by_complaint uuid;
ALTER TABLE tender_awards ADD COLUMN negotiation_record text CHECK (length(negotiation_record) <= 8000);

-- Challenges against the documents, a step of the process or the result, with their remedy.
ALTER TABLE tender_challenges ALTER COLUMN award_id DROP NOT NULL,
    ADD COLUMN kind varchar(10) NOT NULL DEFAULT 'result' CHECK (kind IN ('documents','process','result')),
    ADD COLUMN step varchar(10) CHECK (step IN ('opening','panel','review')),
    ADD COLUMN window_end timestamptz,
    ADD COLUMN concerned_bid_ids jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(concerned_bid_ids) = 'array'),
    ADD COLUMN remedy varchar(16) CHECK (remedy IN ('cancel','reevaluate','next_candidate')),
    ADD COLUMN remedy_effect jsonb,
    ADD CONSTRAINT tender_challenges_result_award CHECK (kind <> 'result' OR award_id IS NOT NULL),
    ADD CONSTRAINT tender_challenges_process_step CHECK ((kind = 'process') = (step IS NOT NULL));
CREATE INDEX tender_challenges_pending_tender ON tender_challenges (tender_id, reply_due) WHERE status = 'pending';
CREATE INDEX tender_challenges_vendor ON tender_challenges (vendor_id, filed_at, id);

-- Complaints (投诉) to the regulator of the tender's region.
CREATE TABLE complaints (
    id uuid PRIMARY KEY,
    tender_id uuid NOT NULL REFERENCES tenders(id),
    challenge_id uuid NOT NULL REFERENCES tender_challenges(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    filed_by uuid NOT NULL REFERENCES users(id),
    grounds text NOT NULL CHECK (length(btrim(grounds)) > 0 AND length(grounds) <= 8000),
    region_code char(6) NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'filed' CHECK (status IN ('filed','accepted','refused','decided')),
    filed_at timestamptz NOT NULL,
    acceptance_due timestamptz NOT NULL,
    decision_due timestamptz NOT NULL,
    accepted_at timestamptz,
    refused_at timestamptz,
    refusal_reason text CHECK (length(refusal_reason) <= 8000),
    decided_at timestamptz,
    outcome varchar(10) CHECK (outcome IN ('upheld','dismissed')),
    decision text CHECK (length(decision) <= 8000),
    remedy varchar(16) CHECK (remedy IN ('cancel','reevaluate','next_candidate')),
    remedy_effect jsonb,
    regulator_id uuid REFERENCES organisations(id),
    handled_by uuid REFERENCES users(id),
    suspended_at timestamptz,
    resumed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    CHECK (acceptance_due > filed_at AND decision_due >= acceptance_due),
    CHECK ((status = 'decided') = (decided_at IS NOT NULL)),
    CHECK (status <> 'decided' OR (outcome IS NOT NULL AND length(btrim(decision)) > 0)),
    CHECK ((status = 'refused') = (refused_at IS NOT NULL)),
    CHECK (status <> 'refused' OR length(btrim(refusal_reason)) > 0)
);
CREATE UNIQUE INDEX complaints_one_open ON complaints (challenge_id) WHERE status IN ('filed','accepted');
CREATE INDEX complaints_region ON complaints (region_code, filed_at, id);
CREATE INDEX complaints_tender ON complaints (tender_id, filed_at, id);
CREATE INDEX complaints_vendor ON complaints (vendor_id, filed_at, id);
CREATE INDEX complaints_open ON complaints (tender_id) WHERE status IN ('filed','accepted');
"""


forwards = sql_migration(ID, "procurement", DESCRIPTION, SQL)
