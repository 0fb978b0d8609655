"""Evaluation: evaluators' declared affiliations, indicator templates (the default one seeded
from evaluation.rules.DEFAULT_TEMPLATE), evaluations of milestones and the vendors' appeals."""

from uuid import UUID

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T03:40:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "evaluation schema and default indicator template"

DEFAULT_TEMPLATE_ID = UUID("00000000-0000-4000-8000-000000000001")

SQL = """
-- Affiliations an evaluator organisation declared with vendors (回避: it may not evaluate them).
CREATE TABLE evaluator_affiliations (
    evaluator_id uuid NOT NULL REFERENCES organisations(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    note text NOT NULL DEFAULT '',
    declared_by uuid REFERENCES users(id),
    declared_at timestamptz NOT NULL,
    PRIMARY KEY (evaluator_id, vendor_id),
    CHECK (evaluator_id <> vendor_id)
);
CREATE INDEX evaluator_affiliations_vendor ON evaluator_affiliations (vendor_id);

-- The sum of a template's weights, for the CHECK that keeps every stored template at 100.
CREATE FUNCTION indicator_weight_total(indicators jsonb) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT coalesce(sum((item->>'weight')::numeric), 0) FROM jsonb_array_elements(indicators) AS item
$$;

CREATE TABLE indicator_templates (
    id uuid PRIMARY KEY,
    name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
    description text NOT NULL DEFAULT '',
    indicators jsonb NOT NULL CHECK (jsonb_typeof(indicators) = 'array' AND jsonb_array_length(indicators) > 0),
    is_default boolean NOT NULL DEFAULT false,
    organisation_id uuid REFERENCES organisations(id),
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    CHECK (indicator_weight_total(indicators) = 100)
);
CREATE UNIQUE INDEX indicator_templates_one_default ON indicator_templates (is_default) WHERE is_default;
CREATE INDEX indicator_templates_list ON indicator_templates (created_at, id);

-- Evaluations (第三方绩效评价) of a milestone. A re-evaluation after an upheld appeal is a new
-- row that `supersedes` the appealed one; the appealed one is kept, marked superseded.
CREATE TABLE evaluations (
    id uuid PRIMARY KEY,
    contract_id uuid NOT NULL REFERENCES contracts(id),
    milestone_id uuid NOT NULL,
    FOREIGN KEY (milestone_id, contract_id) REFERENCES milestones (id, contract_id),
    bureau_id uuid NOT NULL REFERENCES organisations(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    evaluator_id uuid NOT NULL REFERENCES organisations(id),
    template_id uuid NOT NULL REFERENCES indicator_templates(id),
    indicators jsonb NOT NULL CHECK (indicator_weight_total(indicators) = 100),
    due_date date NOT NULL,
    status varchar(12) NOT NULL CHECK (status IN ('commissioned','submitted','accepted','returned')),
    scores jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(scores) = 'object'),
    survey_responses integer CHECK (survey_responses > 0),
    survey_satisfied integer CHECK (survey_satisfied >= 0),
    findings text NOT NULL DEFAULT '' CHECK (length(findings) <= 20000),
    evidence_document_ids text[] NOT NULL DEFAULT '{}',
    total_score numeric(5,2) CHECK (total_score BETWEEN 0 AND 100),
    grade varchar(10) CHECK (grade IN ('excellent','good','fair','poor')),
    returned_reason text,
    commissioned_by uuid NOT NULL REFERENCES users(id),
    commissioned_at timestamptz NOT NULL,
    submitted_at timestamptz,
    submitted_by uuid REFERENCES users(id),
    accepted_at timestamptz,
    accepted_by uuid REFERENCES users(id),
    appeal_deadline timestamptz,
    supersedes_id uuid UNIQUE REFERENCES evaluations(id),
    superseded_at timestamptz,
    superseded_by_id uuid REFERENCES evaluations(id) DEFERRABLE INITIALLY DEFERRED,
    version integer NOT NULL DEFAULT 1,
    CHECK ((survey_responses IS NULL) = (survey_satisfied IS NULL)),
    CHECK (survey_satisfied IS NULL OR survey_satisfied <= survey_responses),
    CHECK (status NOT IN ('submitted','accepted') OR (total_score IS NOT NULL AND grade IS NOT NULL)),
    CHECK ((status = 'accepted') = (accepted_at IS NOT NULL AND appeal_deadline IS NOT NULL)),
    CHECK ((superseded_at IS NULL) = (superseded_by_id IS NULL)),
    CHECK (superseded_at IS NULL OR status = 'accepted')
);
-- One current (not superseded) evaluation per milestone.
CREATE UNIQUE INDEX evaluations_current_per_milestone ON evaluations (milestone_id) WHERE superseded_at IS NULL;
CREATE INDEX evaluations_evaluator ON evaluations (evaluator_id, commissioned_at DESC, id DESC);
CREATE INDEX evaluations_bureau ON evaluations (bureau_id, commissioned_at DESC, id DESC);
CREATE INDEX evaluations_vendor ON evaluations (vendor_id, commissioned_at DESC, id DESC);
CREATE INDEX evaluations_contract ON evaluations (contract_id, commissioned_at DESC, id DESC);
CREATE INDEX evaluations_milestone ON evaluations (milestone_id, commissioned_at DESC, id DESC);
CREATE INDEX evaluations_list ON evaluations (commissioned_at DESC, id DESC);

-- An accepted evaluation is immutable: only its being superseded may still be recorded.
CREATE FUNCTION evaluations_accepted_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'accepted' AND (
        NEW.status, NEW.scores, NEW.survey_responses, NEW.survey_satisfied, NEW.findings,
        NEW.evidence_document_ids, NEW.total_score, NEW.grade, NEW.accepted_at, NEW.appeal_deadline,
        NEW.evaluator_id, NEW.milestone_id, NEW.indicators
    ) IS DISTINCT FROM (
        OLD.status, OLD.scores, OLD.survey_responses, OLD.survey_satisfied, OLD.findings,
        OLD.evidence_document_ids, OLD.total_score, OLD.grade, OLD.accepted_at, OLD.appeal_deadline,
        OLD.evaluator_id, OLD.milestone_id, OLD.indicators
    ) THEN
        RAISE EXCEPTION 'an accepted evaluation is immutable' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'evaluations_accepted_immutable';
    END IF;
    IF TG_OP = 'DELETE' AND OLD.status = 'accepted' THEN
        RAISE EXCEPTION 'an accepted evaluation is immutable' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'evaluations_accepted_immutable';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER evaluations_accepted_immutable BEFORE UPDATE OR DELETE ON evaluations
    FOR EACH ROW EXECUTE FUNCTION evaluations_accepted_immutable();

-- Appeals (申诉) of the vendor against an accepted evaluation.
CREATE TABLE appeals (
    id uuid PRIMARY KEY,
    evaluation_id uuid NOT NULL REFERENCES evaluations(id),
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    reason text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 5000),
    status varchar(10) NOT NULL CHECK (status IN ('pending','upheld','dismissed')),
    filed_by uuid NOT NULL REFERENCES users(id),
    filed_at timestamptz NOT NULL,
    reply text,
    resolved_by uuid REFERENCES users(id),
    resolved_at timestamptz,
    reevaluation_id uuid REFERENCES evaluations(id),
    version integer NOT NULL DEFAULT 1,
    CHECK ((status = 'pending') = (resolved_at IS NULL)),
    CHECK ((status = 'upheld') = (reevaluation_id IS NOT NULL))
);
CREATE UNIQUE INDEX appeals_one_pending ON appeals (evaluation_id) WHERE status = 'pending';
CREATE INDEX appeals_evaluation ON appeals (evaluation_id, filed_at, id);

-- Every payment rests on the evaluation it was decided from.
ALTER TABLE payments ADD CONSTRAINT payments_evaluation_fk FOREIGN KEY (evaluation_id) REFERENCES evaluations(id);
"""


async def seed_default_template() -> None:
    """The default template of DESIGN §2 (投入 10, 过程 20, 产出 30, 效益 25, 满意度 15)."""
    from evaluation.rules import DEFAULT_TEMPLATE, as_dicts
    from govbuy import database as db

    await db.execute(
        """INSERT INTO indicator_templates (id, name, description, indicators, is_default, created_at)
           VALUES ($1, $2, $3, $4, true, now())""",
        DEFAULT_TEMPLATE_ID,
        "政府购买服务绩效评价指标（默认）",
        "投入 10、过程 20、产出 30、效益 25、满意度 15",
        as_dicts(DEFAULT_TEMPLATE),
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evaluation", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        await db.execute(SQL)
        await seed_default_template()

    manager.add_raw(run)
    return manager
