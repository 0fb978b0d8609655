"""An accepted evaluation stays immutable, except that its appeal window may end later.

Recording a year's holiday schedule recounts the vendor's appeal window of an evaluation
accepted while that year was still counted by the fallback; a window given to a party never
ends sooner than announced, so the only change allowed is a later `appeal_deadline`.
"""

from govbuy.migration import sql_migration

ID = "2026-12-03T10:40:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "appeal window may be extended"

SQL = """
CREATE OR REPLACE FUNCTION evaluations_accepted_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.status = 'accepted' THEN
        RAISE EXCEPTION 'an accepted evaluation is immutable' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'evaluations_accepted_immutable';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'accepted' AND (
        (NEW.status, NEW.scores, NEW.survey_responses, NEW.survey_satisfied, NEW.findings,
         NEW.evidence_document_ids, NEW.total_score, NEW.grade, NEW.accepted_at,
         NEW.evaluator_id, NEW.milestone_id, NEW.indicators
        ) IS DISTINCT FROM (
         OLD.status, OLD.scores, OLD.survey_responses, OLD.survey_satisfied, OLD.findings,
         OLD.evidence_document_ids, OLD.total_score, OLD.grade, OLD.accepted_at,
         OLD.evaluator_id, OLD.milestone_id, OLD.indicators
        )
        OR NEW.appeal_deadline IS NULL OR NEW.appeal_deadline < OLD.appeal_deadline
    ) THEN
        RAISE EXCEPTION 'an accepted evaluation is immutable' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'evaluations_accepted_immutable';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
"""


forwards = sql_migration(ID, "evaluation", DESCRIPTION, SQL)
