"""Who may call what: every endpoint × every role, generated from the app's routes.

- Every endpoint is guarded by a guard that names its roles (`requires(...)`, `any_signed_in`)
  or is explicitly public (`opt={"exclude_from_auth": True}` and no guard).
- EXPECTED below says, by hand, who may call each endpoint (DESIGN §1 and §5); it must agree
  with the guards, and an endpoint missing from it fails with a message saying what to add.
- Called for real: a role the guard does not admit gets 403 `role_not_allowed`, nobody signed
  in gets 401, whatever the path ids or the body; a role it admits is never refused for its
  role, and nothing answers 5xx.

Which records of another organisation a caller may not see (404) is tests/security/test_ownership.py.
"""

from __future__ import annotations

import uuid

import pytest

from govbuy.auth import ROLES
from tests.security.routes import Endpoint, app_endpoints

PUBLIC = "public"
SIGNED_IN = ROLES  # any_signed_in
# evaluators have no business with tenders; the regulator reads those of its region
TENDER_ROLES = ("admin", "bureau", "expert", "regulator", "supervisor", "vendor")
PANEL_READERS = ("admin", "bureau", "expert", "regulator", "supervisor")
COMPLAINT_READERS = ("admin", "bureau", "regulator", "supervisor", "vendor")
READERS = ("admin", "supervisor")
# Experts score bids; contracts, evaluations and their reports are none of their business.
CONTRACT_READERS = ("admin", "bureau", "evaluator", "supervisor", "vendor")

# (METHOD, path as in the OpenAPI document) → the roles that may call it, or PUBLIC.
EXPECTED: dict[tuple[str, str], tuple[str, ...] | str] = {
    # operations (DESIGN §4)
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    # sign-in
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("GET", "/api/v1/auth/me"): SIGNED_IN,
    ("POST", "/api/v1/auth/logout"): SIGNED_IN,
    ("POST", "/api/v1/auth/password"): SIGNED_IN,
    ("GET", "/api/v1/notifications"): SIGNED_IN,
    ("POST", "/api/v1/notifications/{notification_id}/read"): SIGNED_IN,
    # accounts (§5: admin only; supervisors read everything)
    ("GET", "/api/v1/organisations"): READERS,
    ("POST", "/api/v1/organisations"): ("admin",),
    ("GET", "/api/v1/organisations/{org_id}"): READERS,
    ("GET", "/api/v1/users"): READERS,
    ("POST", "/api/v1/users"): ("admin",),
    ("GET", "/api/v1/users/{user_id}"): READERS,
    ("POST", "/api/v1/users/{user_id}/disable"): ("admin",),
    ("POST", "/api/v1/users/{user_id}/enable"): ("admin",),
    # time (§3)
    ("GET", "/api/v1/calendar/{year}"): SIGNED_IN,
    ("PUT", "/api/v1/calendar/{year}"): ("admin",),
    ("GET", "/api/v1/calendar/days/{day}"): SIGNED_IN,
    ("GET", "/api/v1/calendar/{year}/statutory-holidays"): SIGNED_IN,
    ("GET", "/api/v1/sandbox/clock"): SIGNED_IN,
    ("POST", "/api/v1/sandbox/clock"): ("admin",),
    # audit log (§5: admin, supervisor)
    ("GET", "/api/v1/audit-events"): READERS,
    ("GET", "/api/v1/audit-events/verify"): READERS,
    ("GET", "/api/v1/audit-events/reconcile"): READERS,
    # vendors: standing is readable by anyone signed in; civil-affairs data recorded by admins
    ("GET", "/api/v1/vendors"): SIGNED_IN,
    ("GET", "/api/v1/vendors/{vendor_id}"): SIGNED_IN,
    ("GET", "/api/v1/vendors/{vendor_id}/assessment-grades"): SIGNED_IN,
    ("POST", "/api/v1/vendors/{vendor_id}/assessment-grades"): ("admin",),
    ("GET", "/api/v1/vendors/{vendor_id}/credit-list-entries"): SIGNED_IN,
    ("POST", "/api/v1/vendors/{vendor_id}/credit-list-entries"): ("admin",),
    ("POST", "/api/v1/vendors/{vendor_id}/credit-list-entries/{entry_id}/remove"): ("admin",),
    ("GET", "/api/v1/vendors/{vendor_id}/credit-rating"): SIGNED_IN,
    ("GET", "/api/v1/vendors/{vendor_id}/credit-rating/history"): SIGNED_IN,
    ("GET", "/api/v1/vendors/{vendor_id}/credit-report.pdf"): SIGNED_IN,
    # catalogue: kept by bureaus, read by all who buy, bid or evaluate
    ("GET", "/api/v1/catalogues"): SIGNED_IN,
    ("POST", "/api/v1/catalogues"): ("bureau",),
    ("GET", "/api/v1/catalogues/{catalogue_id}"): SIGNED_IN,
    ("GET", "/api/v1/catalogues/{catalogue_id}/items"): SIGNED_IN,
    ("POST", "/api/v1/catalogues/{catalogue_id}/items"): ("bureau",),
    ("DELETE", "/api/v1/catalogues/{catalogue_id}/items/{item_id}"): ("bureau",),
    ("POST", "/api/v1/catalogues/{catalogue_id}/import"): ("bureau",),
    ("POST", "/api/v1/catalogues/{catalogue_id}/publish"): ("bureau",),
    # budget lines: the bureau's; platform and supervisors read
    ("GET", "/api/v1/budget-lines"): ("admin", "bureau", "supervisor"),
    ("POST", "/api/v1/budget-lines"): ("bureau",),
    ("GET", "/api/v1/budget-lines/{line_id}"): ("admin", "bureau", "supervisor"),
    ("PATCH", "/api/v1/budget-lines/{line_id}"): ("bureau",),
    # procurement intentions (采购意向, 财库〔2020〕10号): the bureau's own; readers read
    ("GET", "/api/v1/procurement-intentions"): ("admin", "bureau", "supervisor"),
    ("POST", "/api/v1/procurement-intentions"): ("bureau",),
    ("GET", "/api/v1/procurement-intentions/{intention_id}"): ("admin", "bureau", "supervisor"),
    ("PATCH", "/api/v1/procurement-intentions/{intention_id}"): ("bureau",),
    ("POST", "/api/v1/procurement-intentions/{intention_id}/publish"): ("bureau",),
    ("POST", "/api/v1/procurement-intentions/{intention_id}/withdraw"): ("bureau",),
    # tenders
    ("GET", "/api/v1/tenders"): TENDER_ROLES,
    ("POST", "/api/v1/tenders"): ("bureau",),
    ("GET", "/api/v1/tenders/{tender_id}"): TENDER_ROLES,
    ("PATCH", "/api/v1/tenders/{tender_id}"): ("bureau",),
    ("POST", "/api/v1/tenders/{tender_id}/publish"): ("bureau",),
    ("POST", "/api/v1/tenders/{tender_id}/cancel"): ("bureau",),
    ("GET", "/api/v1/tenders/{tender_id}/amendments"): TENDER_ROLES,
    ("POST", "/api/v1/tenders/{tender_id}/amendments"): ("bureau",),
    ("GET", "/api/v1/tenders/{tender_id}/questions"): TENDER_ROLES,
    ("POST", "/api/v1/tenders/{tender_id}/questions"): ("vendor",),
    ("POST", "/api/v1/tenders/{tender_id}/questions/{question_id}/answer"): ("bureau",),
    ("GET", "/api/v1/tenders/{tender_id}/bids"): TENDER_ROLES,
    ("POST", "/api/v1/tenders/{tender_id}/bids"): ("vendor",),
    ("GET", "/api/v1/tenders/{tender_id}/bids/{bid_id}"): TENDER_ROLES,
    ("PATCH", "/api/v1/tenders/{tender_id}/bids/{bid_id}"): ("vendor",),
    ("POST", "/api/v1/tenders/{tender_id}/bids/{bid_id}/withdraw"): ("vendor",),
    # experts' individual scores are never public, nor shown to bidders (§8)
    ("GET", "/api/v1/tenders/{tender_id}/bids/{bid_id}/scores"): PANEL_READERS,
    # the panel scores: its experts and the purchaser's representatives (bureau users on it)
    ("PUT", "/api/v1/tenders/{tender_id}/bids/{bid_id}/scores"): ("bureau", "expert"),
    ("PUT", "/api/v1/tenders/{tender_id}/bids/{bid_id}/review"): ("bureau", "expert"),
    ("POST", "/api/v1/tenders/{tender_id}/bids/{bid_id}/sme-declaration/false"): ("regulator",),
    ("GET", "/api/v1/contracts/late-payments"): ("admin", "supervisor", "bureau", "regulator"),
    ("GET", "/api/v1/budget-lines/{line_id}/performance"): ("admin", "supervisor", "bureau"),
    ("PUT", "/api/v1/vendors/{vendor_id}/legal-exclusion"): ("admin",),
    ("POST", "/api/v1/vendors/{vendor_id}/legal-exclusion/lift"): ("admin",),
    ("GET", "/api/v1/tenders/{tender_id}/scores"): PANEL_READERS,
    ("GET", "/api/v1/tenders/{tender_id}/panel"): PANEL_READERS,
    ("PUT", "/api/v1/tenders/{tender_id}/panel"): ("bureau",),
    ("POST", "/api/v1/tenders/{tender_id}/panel/draw"): ("bureau",),
    ("POST", "/api/v1/tenders/{tender_id}/panel/replace"): ("bureau",),
    ("POST", "/api/v1/tenders/{tender_id}/award"): ("bureau",),
    ("GET", "/api/v1/tenders/{tender_id}/award"): TENDER_ROLES,
    ("GET", "/api/v1/tenders/{tender_id}/challenges"): TENDER_ROLES,
    ("POST", "/api/v1/tenders/{tender_id}/challenges"): ("vendor",),
    ("POST", "/api/v1/tenders/{tender_id}/challenges/{challenge_id}/resolve"): ("bureau",),
    # complaints (§1, §5): filed by a challenger, handled by the regulator of the region
    ("GET", "/api/v1/complaints"): COMPLAINT_READERS,
    ("POST", "/api/v1/complaints"): ("vendor",),
    ("GET", "/api/v1/complaints/{complaint_id}"): COMPLAINT_READERS,
    ("POST", "/api/v1/complaints/{complaint_id}/accept"): ("regulator",),
    ("POST", "/api/v1/complaints/{complaint_id}/refuse"): ("regulator",),
    ("POST", "/api/v1/complaints/{complaint_id}/suspend"): ("regulator",),
    ("POST", "/api/v1/complaints/{complaint_id}/resume"): ("regulator",),
    ("POST", "/api/v1/complaints/{complaint_id}/decide"): ("regulator",),
    ("GET", "/api/v1/experts/{user_id}/affiliations"): ("admin", "expert", "supervisor"),
    ("PUT", "/api/v1/experts/{user_id}/affiliations"): ("admin",),
    # contracts: the parties and the evaluators commissioned on them read (404 for the rest)
    ("GET", "/api/v1/contracts"): CONTRACT_READERS,
    ("POST", "/api/v1/contracts"): ("bureau",),
    ("GET", "/api/v1/contracts/{contract_id}"): CONTRACT_READERS,
    ("POST", "/api/v1/contracts/{contract_id}/sign"): ("bureau", "vendor"),
    ("GET", "/api/v1/contracts/{contract_id}/amendments"): CONTRACT_READERS,
    ("POST", "/api/v1/contracts/{contract_id}/amendments"): ("bureau",),
    ("POST", "/api/v1/contracts/{contract_id}/terminate"): ("bureau",),
    ("GET", "/api/v1/contracts/{contract_id}/milestones/{milestone_id}/deliverables"): CONTRACT_READERS,
    ("POST", "/api/v1/contracts/{contract_id}/milestones/{milestone_id}/deliverables"): ("vendor",),
    ("POST", "/api/v1/contracts/{contract_id}/milestones/{milestone_id}/payments"): ("bureau",),
    ("GET", "/api/v1/contracts/{contract_id}/payments"): CONTRACT_READERS,
    ("GET", "/api/v1/contracts/{contract_id}/payments/{payment_id}"): CONTRACT_READERS,
    ("POST", "/api/v1/contracts/{contract_id}/payments/{payment_id}/confirm"): ("bureau",),
    ("GET", "/api/v1/contracts/{contract_id}/report.pdf"): ("admin", "bureau", "supervisor"),  # its docstring
    # third-party evaluation
    ("GET", "/api/v1/evaluators"): ("admin", "bureau", "supervisor"),
    ("GET", "/api/v1/evaluators/{org_id}/affiliations"): ("admin", "bureau", "evaluator", "supervisor"),
    ("PUT", "/api/v1/evaluators/{org_id}/affiliations"): ("admin",),
    ("GET", "/api/v1/indicator-templates"): SIGNED_IN,
    ("POST", "/api/v1/indicator-templates"): ("admin", "bureau"),
    ("GET", "/api/v1/indicator-templates/{template_id}"): SIGNED_IN,
    ("GET", "/api/v1/evaluations"): CONTRACT_READERS,
    ("POST", "/api/v1/evaluations"): ("bureau",),
    ("GET", "/api/v1/evaluations/{evaluation_id}"): CONTRACT_READERS,
    ("PUT", "/api/v1/evaluations/{evaluation_id}/scores"): ("evaluator",),
    ("POST", "/api/v1/evaluations/{evaluation_id}/submit"): ("evaluator",),
    ("POST", "/api/v1/evaluations/{evaluation_id}/accept"): ("bureau",),
    ("POST", "/api/v1/evaluations/{evaluation_id}/return"): ("bureau",),
    ("GET", "/api/v1/evaluations/{evaluation_id}/appeals"): CONTRACT_READERS,
    ("POST", "/api/v1/evaluations/{evaluation_id}/appeals"): ("vendor",),
    ("POST", "/api/v1/evaluations/{evaluation_id}/appeals/{appeal_id}/resolve"): ("bureau",),
    ("GET", "/api/v1/evaluations/{evaluation_id}/report.pdf"): CONTRACT_READERS,
    # documents: everyone who writes may upload (not supervisors); reading is decided per document
    ("POST", "/api/v1/documents"): ("admin", "bureau", "evaluator", "expert", "regulator", "vendor"),
    ("GET", "/api/v1/documents/{sha256}"): SIGNED_IN,
    ("GET", "/api/v1/documents/{sha256}/meta"): SIGNED_IN,
    # reports
    ("GET", "/api/v1/reports/annual.pdf"): ("admin", "bureau", "supervisor"),
    ("GET", "/api/v1/reports/performance"): ("admin", "bureau", "supervisor"),
    ("GET", "/api/v1/tenders/{tender_id}/award-notice.pdf"): SIGNED_IN,  # public anyway (§8)
    # disclosure (§8): no sign-in
    ("GET", "/api/v1/public/tenders/{tender_id}/award-notice.pdf"): PUBLIC,
    ("GET", "/api/v1/public/tenders"): PUBLIC,
    ("GET", "/api/v1/public/notices"): PUBLIC,
    ("GET", "/api/v1/public/notices/{notice_id}"): PUBLIC,
    ("GET", "/api/v1/public/procurement-intentions"): PUBLIC,
    ("GET", "/api/v1/public/procurement-intentions/{intention_id}"): PUBLIC,
    ("GET", "/api/v1/public/tenders/{tender_id}"): PUBLIC,
    ("GET", "/api/v1/public/tenders/{tender_id}/amendments"): PUBLIC,
    ("GET", "/api/v1/public/contracts"): PUBLIC,
    ("GET", "/api/v1/public/contracts/{contract_id}"): PUBLIC,
    ("GET", "/api/v1/public/vendors/{vendor_id}"): PUBLIC,
    ("GET", "/api/v1/public/ocds/releases"): PUBLIC,
    ("GET", "/api/v1/public/ocds/records/{ocid}"): PUBLIC,
    ("GET", "/api/v1/public/ocds/publication-policy"): PUBLIC,
    ("GET", "/api/v1/public/audit-head"): PUBLIC,
}

# Endpoints whose guards disagree with EXPECTED and whose owner has not settled it yet:
# {(METHOD, path): reason}. Strict, so the mark must go once the guard or the table changes.
DISPUTED: dict[tuple[str, str], str] = {}

ENDPOINTS = app_endpoints()
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Roles a supervisor must never have on a write (§1: reads everything, writes nothing).
NEVER_WRITES = {"supervisor"}


def _sample(kind: str) -> str:
    return {
        "uuid": str(uuid.uuid4()),
        "int": "2031",
        "date": "2031-05-06",
        "str": "ocds-govbuy-0000000000",
        "path": "x",
    }.get(kind, "x")


def concrete_path(endpoint: Endpoint) -> str:
    """The route's path with each parameter filled by a value of its type (ids that exist nowhere)."""
    parts = []
    for part in endpoint.route_path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            _, _, kind = part[1:-1].partition(":")
            part = _sample(kind)
        parts.append(part)
    return "/".join(parts)


def _admitted(endpoint: Endpoint) -> str | frozenset[str]:
    return PUBLIC if endpoint.public else endpoint.roles  # type: ignore[return-value]


def test_every_endpoint_is_guarded_by_roles_or_explicitly_public():
    faults = []
    for e in ENDPOINTS:
        if e.unlabelled_guards:
            faults.append(f"{e}: guard(s) {e.unlabelled_guards} carry no `.roles` (use govbuy.auth.requires)")
        elif not e.public and e.roles is None:
            faults.append(f"{e}: neither a guard nor opt={{'exclude_from_auth': True}}: declare who may call it")
        elif e.roles is not None and not e.roles:
            faults.append(f"{e}: its guards admit no role at all")
        if e.handler.opt.get("exclude_from_auth") and e.roles is not None:
            faults.append(f"{e}: excluded from authentication yet guarded, so nobody can ever call it")
    assert not faults, "\n".join(faults)


def test_the_expected_table_lists_every_endpoint():
    missing = []
    for e in ENDPOINTS:
        if e.key not in EXPECTED:
            actual = _admitted(e)
            shown = "PUBLIC" if actual == PUBLIC else repr(tuple(sorted(actual or ())))
            missing.append(f"    ({e.method!r}, {e.path!r}): {shown},")
    stale = sorted(set(EXPECTED) - {e.key for e in ENDPOINTS})
    message = []
    if missing:
        message.append(
            "New endpoints: say who may call them in EXPECTED (tests/security/test_access_matrix.py), "
            "after checking DESIGN §1/§5 — their guards currently admit:\n" + "\n".join(missing)
        )
    if stale:
        message.append(f"EXPECTED lists endpoints that no longer exist: {stale}")
    assert not message, "\n\n".join(message)


def _table_params():
    for e in ENDPOINTS:
        marks = [pytest.mark.xfail(strict=True, reason=DISPUTED[e.key])] if e.key in DISPUTED else []
        yield pytest.param(e, id=str(e), marks=marks)


@pytest.mark.parametrize("endpoint", list(_table_params()))
def test_the_guards_admit_the_roles_the_table_expects(endpoint: Endpoint):
    if endpoint.key not in EXPECTED:
        pytest.fail(f"{endpoint} is missing from EXPECTED (see test_the_expected_table_lists_every_endpoint)")
    expected = EXPECTED[endpoint.key]
    actual = _admitted(endpoint)
    shown = actual if actual == PUBLIC else sorted(actual)
    assert (PUBLIC if expected == PUBLIC else frozenset(expected)) == actual, f"the table says {expected}, the guards admit {shown}"


# A user's own session is not the service's data: a supervisor too signs out and changes its password.
OWN_SESSION = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/password"),
               ("POST", "/api/v1/notifications/{notification_id}/read")}  # and its inbox's read marks


def test_supervisors_write_nothing():
    writes = [e for e in ENDPOINTS if e.method in WRITES and e.roles and e.roles & NEVER_WRITES
              and (e.method, e.path) not in OWN_SESSION]
    assert not writes, f"supervisors read everything and write nothing (DESIGN §1): {[str(e) for e in writes]}"


@pytest.fixture(scope="module")
def callers(security_server):
    """A client of the live server, and the headers of one user per role and of nobody."""
    headers = {"anonymous": {}} | {role: account.headers for role, account in security_server.accounts.items()}
    with security_server.client() as client:
        yield client, headers


# Probing these as every role would end the shared accounts' sessions for every later test; their
# guards are checked by the table above, their behaviour by tests/govbuy/test_sessions.py.
ENDS_THE_SESSION = {("POST", "/api/v1/auth/logout")}


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if (e.method, e.path) not in ENDS_THE_SESSION], ids=str
)
def test_each_role_is_refused_or_admitted_as_the_guards_say(callers, endpoint: Endpoint):
    client, identities = callers
    path = concrete_path(endpoint)
    kwargs = {"json": {}} if endpoint.method in WRITES else {}
    admitted = _admitted(endpoint)
    faults = []
    for identity, headers in identities.items():
        response = client.request(endpoint.method, path, headers=headers, **kwargs)
        status = response.status_code
        code = response.json().get("code") if response.headers.get("content-type", "").startswith("application/problem+json") else None
        if status >= 500:
            faults.append(f"as {identity}: {status} {response.text[:300]}")
        elif admitted == PUBLIC or (identity != "anonymous" and identity in admitted):
            if status == 401 or (status == 403 and code == "role_not_allowed"):
                faults.append(f"as {identity}: refused ({status} {code}) though admitted")
        elif identity == "anonymous":
            if status != 401:
                faults.append(f"signed out: {status} {code}, expected 401")
        elif status != 403 or code != "role_not_allowed":
            faults.append(f"as {identity}: {status} {code}, expected 403 role_not_allowed")
    assert not faults, f"{endpoint.method} {path}\n" + "\n".join(faults)
