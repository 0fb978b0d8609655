"""Procurement services: tenders from draft to award, questions, sealed bids and their
opening, the panel and its scores, the award notice and challenges. The catalogue item a
tender buys and the budget line it draws on are planning's: a tender asks `planning.service`
whether it may use them, and reserves and releases its ceiling through it.

Every state change runs in one transaction that locks what it changes (`FOR UPDATE`), applies
the pure rules of `procurement.rules` and appends its audit events last. Row locks are always
taken in the order tender → bid → budget line, and before the first audit event (which holds
the audit chain's lock until commit), so that concurrent changes queue rather than deadlock.

Time drives a tender: bids are sealed until its deadline, and the first request that touches
the tender after the deadline opens it (`_tender_for`, `_OpenFirst`), whatever a background worker running
`open_due_tenders` is doing.

The service is a package by stage: `tenders`, `amendments` (澄清或者修改), `opening`, `questions`, `bids`, `panel` (the
draw), `review`, `award`, `challenges`, `complaints`, `remedies` (what ends or rewinds a tender),
`contracting` (what the contracts domain needs), `periods` (the recount when
a year's schedule is recorded), with what they share in `_common`. Its public functions are
named here, so callers write `from procurement import service` and `service.publish_tender(...)`.
"""

from procurement.service._common import READERS as READERS
from procurement.service.tenders import (
    cancel_tender as cancel_tender,
    create_tender as create_tender,
    get_tender as get_tender,
    list_tenders as list_tenders,
    publish_tender as publish_tender,
    update_tender as update_tender,
)
from procurement.service.amendments import (
    amend_tender as amend_tender,
    list_amendments as list_amendments,
    public_amendments as public_amendments,
)
from procurement.service.opening import (
    open_due_tenders as open_due_tenders,
    open_tender as open_tender,
)
from procurement.service.questions import (
    answer_question as answer_question,
    ask_question as ask_question,
    list_questions as list_questions,
)
from procurement.service.bids import (
    get_bid as get_bid,
    list_bids as list_bids,
    revise_bid as revise_bid,
    submit_bid as submit_bid,
    tender_bidder_ids as tender_bidder_ids,
    withdraw_bid as withdraw_bid,
)
from procurement.service.panel import (
    draw_panel as draw_panel,
    get_affiliations as get_affiliations,
    get_panel as get_panel,
    replace_panel_member as replace_panel_member,
    list_scores as list_scores,
    put_affiliations as put_affiliations,
    put_scores as put_scores,
    set_panel as set_panel,
)
from procurement.service.review import (
    find_declaration_false as find_declaration_false,
    review_bid as review_bid,
)
from procurement.service.award import (
    award_tender as award_tender,
    get_award as get_award,
)
from procurement.service.challenges import (
    file_challenge as file_challenge,
    list_challenges as list_challenges,
    resolve_challenge as resolve_challenge,
)
from procurement.service.complaints import (
    accept_complaint as accept_complaint,
    decide_complaint as decide_complaint,
    file_complaint as file_complaint,
    get_complaint as get_complaint,
    list_complaints as list_complaints,
    refuse_complaint as refuse_complaint,
    resume_procurement as resume_procurement,
    suspend_procurement as suspend_procurement,
)
from procurement.service.contracting import (
    AwardForContract as AwardForContract,
    award_for_contract as award_for_contract,
    check_not_suspended as check_not_suspended,
    mark_contracted as mark_contracted,
    tenders_sql as tenders_sql,
)
from procurement.service.periods import (
    recompute_periods as recompute_periods,
)
