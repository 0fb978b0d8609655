"""SMEs and assessment grades in the evaluation (财库〔2020〕46号 as amended by 财库〔2022〕19号;
民政部令第39号 Art. 30):

- a tender's SME policy: reserved for SMEs, or the price deduction for small and micro
  enterprises. Tenders made before have neither (0 %), so their evaluation does not change;
- a bid's size declaration (声明函), the finding that it was false, and the bidder's assessment
  grade at the opening (a criterion may give points by grade).
"""

from govbuy.migration import sql_migration

ID = "2026-12-03T14:20:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "sme policy and assessment grade criteria"

SQL = """
ALTER TABLE tenders
    ADD COLUMN sme_reserved boolean NOT NULL DEFAULT false,
    ADD COLUMN sme_price_deduction_percent numeric(5,2) NOT NULL DEFAULT 0
        CHECK (sme_price_deduction_percent = 0 OR sme_price_deduction_percent BETWEEN 10 AND 20),
    ADD CONSTRAINT tenders_sme_reserved_no_deduction CHECK (NOT sme_reserved OR sme_price_deduction_percent = 0);
ALTER TABLE bids
    ADD COLUMN sme_declaration varchar(24)
        CHECK (sme_declaration IN ('medium','small','micro','prison_enterprise','disability_welfare_unit')),
    ADD COLUMN sme_declaration_false_at timestamptz,
    ADD COLUMN sme_declaration_finding text CHECK (length(sme_declaration_finding) <= 4000),
    ADD COLUMN assessment_grade_at_opening smallint CHECK (assessment_grade_at_opening BETWEEN 1 AND 5),
    ADD CONSTRAINT bids_false_declaration CHECK (sme_declaration_false_at IS NULL OR sme_declaration IS NOT NULL);
"""


forwards = sql_migration(ID, "procurement", DESCRIPTION, SQL)
