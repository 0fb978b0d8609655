"""Contracts: contracts from awards, milestones, amendments, deliverables, payments.

The kernel's document records (`documents`, `document_links`) were created here until they
became the kernel's: `govbuy_0003_documents` creates them now, before this migration runs, and
adopts them, rows and all, in a database where this migration made them."""

from govbuy.migration import sql_migration

ID = "2026-11-22T03:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "contracts schema"

SQL = """
-- Contracts (政府购买服务合同): one per awarded tender.
CREATE TABLE contracts (
    id uuid PRIMARY KEY,
    tender_id uuid NOT NULL UNIQUE REFERENCES tenders(id),
    bid_id uuid NOT NULL REFERENCES bids(id),
    bureau_id uuid NOT NULL REFERENCES organisations(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    -- The vendor is the only payee: no transfer of the whole contract (转包, Art. 23).
    payee_id uuid NOT NULL REFERENCES organisations(id) CHECK (payee_id = vendor_id),
    budget_line_id uuid NOT NULL REFERENCES budget_lines(id),
    title varchar(200) NOT NULL DEFAULT '',
    reserved_amount numeric(16,2) NOT NULL CHECK (reserved_amount > 0),
    original_amount numeric(16,2) NOT NULL CHECK (original_amount > 0),
    amount numeric(16,2) NOT NULL,
    contract_months integer NOT NULL CHECK (contract_months BETWEEN 1 AND 36),
    recurring boolean NOT NULL,
    start_date date NOT NULL,
    end_date date NOT NULL CHECK (end_date > start_date),
    payment_rule jsonb NOT NULL CHECK (jsonb_typeof(payment_rule) = 'array'),
    payment_rule_source varchar(10) NOT NULL CHECK (payment_rule_source IN ('tender','default')),
    status varchar(12) NOT NULL CHECK (status IN ('draft','active','completed','terminated')),
    bureau_signed_at timestamptz,
    bureau_signed_by uuid REFERENCES users(id),
    vendor_signed_at timestamptz,
    vendor_signed_by uuid REFERENCES users(id),
    activated_at timestamptz,
    completed_at timestamptz,
    terminated_at timestamptz,
    terminated_by uuid REFERENCES users(id),
    termination_reason text,
    terminated_for_cause boolean,
    created_by uuid NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    -- Amendments add at most 10 % of the original amount, in total (政府采购法 Art. 49).
    CHECK (amount >= original_amount AND amount <= original_amount + round(original_amount * 0.10, 2)),
    CHECK (recurring OR contract_months <= 12),
    CHECK (status = 'draft' OR status = 'terminated'
           OR (bureau_signed_at IS NOT NULL AND vendor_signed_at IS NOT NULL AND activated_at IS NOT NULL)),
    CHECK ((status = 'terminated') = (terminated_at IS NOT NULL)),
    CHECK (status <> 'terminated' OR (length(btrim(termination_reason)) > 0 AND terminated_for_cause IS NOT NULL)),
    UNIQUE (id, payee_id)
);
CREATE INDEX contracts_bureau ON contracts (bureau_id, created_at DESC, id DESC);
CREATE INDEX contracts_vendor ON contracts (vendor_id, created_at DESC, id DESC);
CREATE INDEX contracts_status ON contracts (status, created_at DESC, id DESC);
CREATE INDEX contracts_budget_line ON contracts (budget_line_id);
CREATE INDEX contracts_list ON contracts (created_at DESC, id DESC);

CREATE TABLE milestones (
    id uuid PRIMARY KEY,
    contract_id uuid NOT NULL REFERENCES contracts(id),
    sequence integer NOT NULL CHECK (sequence >= 1),
    title varchar(200) NOT NULL CHECK (length(btrim(title)) > 0),
    percentage numeric(5,2) NOT NULL CHECK (percentage > 0 AND percentage <= 100),
    original_amount numeric(16,2) NOT NULL CHECK (original_amount >= 0.01),
    amount numeric(16,2) NOT NULL CHECK (amount >= original_amount),
    due_offset_days integer NOT NULL CHECK (due_offset_days >= 0),
    due_date date NOT NULL,
    status varchar(10) NOT NULL CHECK (status IN ('pending','delivered','evaluated','paid','cancelled')),
    delivered_at timestamptz,
    cancelled_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    UNIQUE (contract_id, sequence),
    UNIQUE (id, contract_id),
    CHECK (status IN ('pending','cancelled') OR delivered_at IS NOT NULL),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX milestones_due ON milestones (due_date) WHERE status IN ('pending','delivered','evaluated');

CREATE TABLE amendments (
    id uuid PRIMARY KEY,
    contract_id uuid NOT NULL REFERENCES contracts(id),
    increase numeric(16,2) NOT NULL CHECK (increase > 0),
    amount_before numeric(16,2) NOT NULL,
    amount_after numeric(16,2) NOT NULL CHECK (amount_after = amount_before + increase),
    reason text NOT NULL CHECK (length(btrim(reason)) > 0),
    shares jsonb NOT NULL,
    created_by uuid NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL
);
CREATE INDEX amendments_contract ON amendments (contract_id, created_at, id);

CREATE TABLE deliverables (
    id uuid PRIMARY KEY,
    contract_id uuid NOT NULL REFERENCES contracts(id),
    milestone_id uuid NOT NULL,
    FOREIGN KEY (milestone_id, contract_id) REFERENCES milestones (id, contract_id),
    summary text NOT NULL CHECK (length(btrim(summary)) BETWEEN 1 AND 5000),
    figures jsonb NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
    document_ids text[] NOT NULL DEFAULT '{}',
    submitted_by uuid NOT NULL REFERENCES users(id),
    submitted_at timestamptz NOT NULL
);
CREATE INDEX deliverables_milestone ON deliverables (milestone_id, submitted_at, id);
CREATE INDEX deliverables_contract ON deliverables (contract_id, submitted_at, id);

-- Payments: at most one per milestone, whatever retries or concurrent requests arrive; the
-- bureau's Idempotency-Key is kept, unique per bureau, so a retry finds its payment.
CREATE TABLE payments (
    id uuid PRIMARY KEY,
    contract_id uuid NOT NULL REFERENCES contracts(id),
    milestone_id uuid NOT NULL UNIQUE REFERENCES milestones(id),
    evaluation_id uuid NOT NULL,
    bureau_id uuid NOT NULL REFERENCES organisations(id),
    payee_id uuid NOT NULL REFERENCES organisations(id),
    budget_line_id uuid NOT NULL REFERENCES budget_lines(id),
    idempotency_key varchar(200) NOT NULL,
    milestone_amount numeric(16,2) NOT NULL CHECK (milestone_amount >= 0),
    amount numeric(16,2) NOT NULL CHECK (amount >= 0),
    withheld_amount numeric(16,2) NOT NULL CHECK (withheld_amount >= 0),
    payout_ratio numeric(5,4) NOT NULL CHECK (payout_ratio BETWEEN 0 AND 1),
    total_score numeric(5,2) NOT NULL CHECK (total_score BETWEEN 0 AND 100),
    grade varchar(10) NOT NULL CHECK (grade IN ('excellent','good','fair','poor')),
    status varchar(10) NOT NULL CHECK (status IN ('pending','confirmed')),
    treasury_reference varchar(64),
    confirmed_at timestamptz,
    confirmed_by uuid REFERENCES users(id),
    created_by uuid NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    UNIQUE (bureau_id, idempotency_key),
    FOREIGN KEY (milestone_id, contract_id) REFERENCES milestones (id, contract_id),
    -- the payee is the contract's payee, which is its vendor
    FOREIGN KEY (contract_id, payee_id) REFERENCES contracts (id, payee_id),
    CHECK (amount + withheld_amount = milestone_amount),
    CHECK ((status = 'confirmed') = (treasury_reference IS NOT NULL AND confirmed_at IS NOT NULL))
);
CREATE INDEX payments_contract ON payments (contract_id, created_at, id);
CREATE INDEX payments_budget_line ON payments (budget_line_id);
CREATE INDEX payments_evaluation ON payments (evaluation_id);
"""


forwards = sql_migration(ID, "contracts", DESCRIPTION, SQL)
