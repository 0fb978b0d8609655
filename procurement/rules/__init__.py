"""Procurement rules: tenders and their minimum periods, bids, the evaluation panel
(评标委员会), comprehensive scoring (综合评分法) and lowest-price ranking (最低评标价法), award,
standstill and challenges (质疑).

A package by stage (`tenders`, `scoring`, `award`, …), re-exported here so that callers
write `from procurement import rules`. Pure functions, enums and frozen dataclasses: no I/O, no database, no project imports but
`govbuy.rules` and `evaluation.rules` (the payment-rule bands a tender may set). The service layer loads state, calls these and persists what they return.

Sources: 《政府购买服务管理办法》(财政部令第102号), 《政府采购法》 and its 实施条例,
《政府采购货物和服务招标投标管理办法》(财政部令第87号), 《政府采购非招标采购方式管理办法》
(财政部令第74号), 《政府采购竞争性磋商采购方式管理暂行办法》(财库〔2014〕214号),
财库〔2015〕124号, 《政府采购质疑和投诉办法》(财政部令第94号), 《政府采购促进中小企业发展管理办法》
(财库〔2020〕46号, 财库〔2022〕19号), 《民法典》 Arts. 201, 203.

Error codes (422 bad input unless marked 409 state conflict). Those named in DESIGN.md are
part of the API contract and spelled exactly as there.

The catalogue and budget rules a tender meets are planning's (`planning.rules`).

Tenders
  invalid_method, invalid_status_transition (409), timezone_required, deadline_too_short,
  invalid_contract_term, contract_term_too_long, invalid_evaluation_method,
  invalid_price_weight, price_weight_not_allowed, criteria_required, invalid_criteria,
  criteria_not_allowed, weights_must_sum_to_100, milestones_required, invalid_milestone,
  percentages_must_sum_to_100, invitations_required, single_source_requires_one_vendor,
  invitations_not_allowed, duplicate_invitation, invalid_eligibility_requirement,
  assessment_grade_not_a_bar, vendor_ineligible and vendor_excluded_by_law (409; the check
  itself is vendors.service.check_eligibility),
  invalid_payment_rule (evaluation.rules), intention_required, intention_too_recent
  (财库〔2020〕10号: the 30 days from the procurement intention to the tender)
Amendments (澄清或者修改, 87号令 Art. 27)
  amendment_not_allowed, amendment_empty, tender_not_published (409), bid_deadline_passed (409),
  deadline_too_short
Bids
  bid_deadline_passed (409), bids_sealed (409), invalid_bid_price, bid_exceeds_ceiling
SMEs (财库〔2020〕46号)
  invalid_price_deduction, sme_deduction_with_reservation, invalid_sme_declaration,
  sme_declaration_not_allowed, tender_reserved_for_smes (409), no_sme_declaration (409),
  declaration_already_found_false (409)
Panel and scoring
  duplicate_panel_expert, invalid_panel_size, expert_conflict_of_interest, invalid_scores,
  scoring_incomplete (409)
Award and challenges
  standstill_over (409), standstill_active (409), challenge_pending (409)
"""

from procurement.rules._common import *  # noqa: F403
from procurement.rules._common import HUNDRED, Method  # noqa: F401
from procurement.rules.tenders import *  # noqa: F403
from procurement.rules.scoring import *  # noqa: F403
from procurement.rules.award import *  # noqa: F403
from procurement.rules.panel import *  # noqa: F403
from procurement.rules.review import *  # noqa: F403
from procurement.rules.challenges import *  # noqa: F403
from procurement.rules.complaints import *  # noqa: F403
from procurement.rules.sme import *  # noqa: F403
from procurement.rules.amendments import *  # noqa: F403
