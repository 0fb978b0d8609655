"""Schemathesis over the OpenAPI document, signed in as each role and as nobody.

One test per operation of the document. Each generated request, schema-valid (positive) and
schema-invalid (negative), is sent to a live `govbuy serve` as every identity the operation
admits; identities it does not admit get the first example only (the access matrix in
tests/security covers them fully). Whatever arrives:
- no 5xx (`not_a_server_error`);
- the status, content type and body are those the document declares (`status_code_conformance`,
  `content_type_conformance`, `response_schema_conformance`): the kernel documents every error
  of every operation as problem+json, so errors are checked against that schema too;
- every 4xx/5xx is application/problem+json with a `code` (checked here, whatever the document);
- a request the schema calls invalid is refused (`negative_data_rejection`).

Path ids are random (→ 404) in half of the positive examples and real in the other half (ids
collected from the list endpoints), so the fuzzer also reaches the code behind the lookups.

Examples are bounded for CI (GOVBUY_FUZZ_EXAMPLES per operation and mode, default 3) and
derandomised so a run is reproducible; GOVBUY_FUZZ_SEED=<int> explores other examples.
Long runs: `python -m bench.fuzz`.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from bench import harness, scenario
from tests.security.routes import roles_by_operation

EXAMPLES = int(os.environ.get("GOVBUY_FUZZ_EXAMPLES", "3"))
SEED = os.environ.get("GOVBUY_FUZZ_SEED")
# Admin last in every example: its writes must not change what the others see before them.
IDENTITIES = ("anonymous", "supervisor", "vendor", "bureau", "evaluator", "expert", "admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Defects found by fuzzing and not fixed yet, by operation label: {label: reason}. Strict, so the
# mark must go once the owner fixes it.
KNOWN_DEFECTS: dict[str, str] = {}
# Fuzzed as every identity, it would end the sessions the fuzzer runs with: its contract is
# tested in tests/govbuy/test_sessions.py.
ENDS_THE_SESSION = {"POST /api/v1/auth/logout"}


def _document() -> dict:
    from govbuy.app import create_app

    return create_app(manage_pool=False).openapi_schema.to_schema()


DOCUMENT = _document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
ROLES = roles_by_operation()


@dataclass
class FuzzReport:
    requests: int = 0
    statuses: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def fail(self, identity: str, kind: str, message: str) -> None:
        self.failures.setdefault((identity, kind), message)


def problem_json_check(status: int, content_type: str, content: bytes) -> str | None:
    """Every error is RFC 9457 problem+json with a stable `code` (DESIGN §4)."""
    if status < 400:
        return None
    if not content_type.startswith("application/problem+json"):
        return f"{status} answered as {content_type!r}, not application/problem+json"
    try:
        body = json.loads(content)
    except ValueError:
        return f"{status} problem+json body is not JSON"
    missing = {"type", "title", "status", "detail", "code"} - set(body if isinstance(body, dict) else {})
    if missing:
        return f"{status} problem body lacks {sorted(missing)}"
    if body["status"] != status or not re.fullmatch(r"[a-z][a-z0-9_]*", str(body["code"])):
        return f"problem status {body['status']} / code {body['code']!r} do not fit the HTTP status {status}"
    return None


def collect_ids(server: harness.LiveServer, seeded: set[str]) -> list[str]:
    """Ids of real records: those seeded, and every uuid the list endpoints without path
    parameters return."""
    ids: set[str] = set(seeded)

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str) and (key == "id" or key.endswith("_id")) and UUID_RE.match(item):
                    ids.add(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    with server.client() as client:
        for path, item in DOCUMENT["paths"].items():
            if "get" in item and "{" not in path and path.startswith("/api/"):
                # Only the parameters an operation takes: any other is 422 unknown_query_parameter.
                takes = {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "query"}
                params = {"limit": 50} if "limit" in takes else {}
                for who in ("admin", "supervisor", "bureau", "vendor"):
                    response = client.get(path, headers=server.accounts[who].headers, params=params)
                    if response.status_code == 200 and "json" in response.headers.get("content-type", ""):
                        walk(response.json())
    # Never hand the fuzzer the accounts themselves: disabling them would blind the other identities.
    ids -= {account.user_id for account in server.accounts.values()}
    return sorted(ids)


def seed_records(server: harness.LiveServer) -> set[str]:
    """A little of what the API holds, so that real ids have records behind them."""
    ids: set[str] = set()
    with server.client() as client:
        admin = server.accounts["admin"]
        if "/api/v1/tenders/{tender_id}/bids" in DOCUMENT["paths"]:
            bureau = scenario.bureau_with_budget(client, admin, server.accounts["bureau"])
            if "/api/v1/contracts/{contract_id}/milestones/{milestone_id}/payments" in DOCUMENT["paths"]:
                vendors = [server.accounts["vendor"]] + [harness.create_account(client, admin, "vendor") for _ in range(2)]
                payable = scenario.contracts_ready_for_payment(client, admin, bureau, vendors, [server.accounts["evaluator"]], 1)
                paid = scenario.check(client.post(
                    f"/api/v1/contracts/{payable[0].contract_id}/milestones/{payable[0].milestone_id}/payments",
                    headers={**server.accounts["bureau"].headers, "Idempotency-Key": "fuzz-seed"},
                ))
                ids |= {paid["id"]} | {v for m in payable for v in (m.contract_id, m.milestone_id, m.evaluation_id)}
            tender = scenario.published_tender(client, bureau)
            bid = scenario.check(scenario.place_bid(client, tender["id"], server.accounts["vendor"], "880000.00"))
            ids |= {bureau.catalogue_id, bureau.item_id, bureau.budget_line_id, tender["id"], bid["id"]}
        for n in range(2):
            vendor = harness.create_organisation(client, admin, "vendor")
            client.post(
                f"/api/v1/vendors/{vendor['id']}/assessment-grades",
                headers=admin.headers,
                json={"grade": "4A", "awarded_on": "2024-03-01"},
            )
            client.post(
                f"/api/v1/vendors/{vendor['id']}/credit-list-entries",
                headers=admin.headers,
                json={"list": "abnormal", "reason": f"年报未按时报送 {n}", "listed_on": "2025-01-10"},
            )
    return ids


# Figures of the whole run, written as JSON to GOVBUY_FUZZ_REPORT if set (bench/fuzz.py prints them).
TOTALS: dict = {"operations": 0, "requests": 0, "failed_operations": [], "statuses": defaultdict(int), "seconds": 0.0}


@pytest.fixture(scope="module")
def fuzz_target(live_server):
    served = requests.get(f"{live_server.base_url}/schema/openapi.json", timeout=30).json()
    assert served["paths"].keys() == DOCUMENT["paths"].keys(), "the server runs other code than this test"
    seeded = seed_records(live_server)
    with requests.Session() as session:
        yield live_server, collect_ids(live_server, seeded), session
    if os.environ.get("GOVBUY_FUZZ_REPORT"):
        with open(os.environ["GOVBUY_FUZZ_REPORT"], "w") as out:
            json.dump({**TOTALS, "examples": EXAMPLES, "identities": list(IDENTITIES)}, out, indent=1, default=str)


def _has_input(operation) -> bool:
    return bool(list(operation.iter_parameters())) or bool(list(operation.body))


def fuzz(operation, mode: GenerationMode, target, report: FuzzReport) -> None:
    server, known_ids, session = target
    admitted = ROLES.get((operation.method.upper(), operation.path), frozenset())
    identities = [
        (name, server.accounts[name].headers if name in server.accounts else {}, admitted is None or name in admitted)
        for name in IDENTITIES
    ]
    tried: set[str] = set()
    uuid_params = [
        p.name for p in operation.path_parameters if (p.definition.get("schema") or p.definition).get("format") == "uuid"
    ]
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    def send(case, identity: str, headers: dict[str, str]) -> None:
        try:
            response = case.call(base_url=server.base_url, headers=headers, session=session, timeout=30)
        except requests.RequestException as exc:
            report.fail(identity, "transport", f"{type(exc).__name__}: {exc}")
            return
        report.requests += 1
        report.statuses[(identity, response.status_code)] += 1
        content_type = (response.headers.get("content-type") or [""])[0]
        problem = problem_json_check(response.status_code, content_type, response.content)
        if problem:
            report.fail(identity, "problem+json", f"{problem}\n{case.as_curl_command(headers=headers)}")
        # A body too large is refused before it is read (413): a rejection like any other.
        active = [c for c in checks if not (c is negative_data_rejection and response.status_code == 413)]
        try:
            case.validate_response(response, checks=active, headers=headers)
        except (Exception, BaseExceptionGroup) as failure:  # FailureGroup: the failed checks, with curl
            report.fail(identity, type(failure).__name__, str(failure)[:4000])

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
        suppress_health_check=list(HealthCheck),
    )
    def run(case, data) -> None:
        if known_ids and uuid_params and mode is GenerationMode.POSITIVE and data.draw(st.booleans()):
            for name in uuid_params:
                case.path_parameters[name] = data.draw(st.sampled_from(known_ids))
        for identity, headers, allowed in identities:
            if allowed or identity not in tried:
                tried.add(identity)
                send(case, identity, headers)

    if SEED is not None:
        run = seed(int(SEED))(run)
    try:
        run()
    except Unsatisfiable:
        pass  # nothing the schema calls invalid for this operation


def _params():
    for label in OPERATIONS:
        if label in ENDS_THE_SESSION:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[label])] if label in KNOWN_DEFECTS else []
        yield pytest.param(label, id=label, marks=marks)


@pytest.mark.parametrize("label", list(_params()))
def test_fuzzed_operation_answers_within_its_contract(fuzz_target, label):
    operation = OPERATIONS[label]
    report = FuzzReport()
    started = time.perf_counter()
    fuzz(operation, GenerationMode.POSITIVE, fuzz_target, report)
    if _has_input(operation):
        fuzz(operation, GenerationMode.NEGATIVE, fuzz_target, report)
    TOTALS["operations"] += 1
    TOTALS["requests"] += report.requests
    TOTALS["seconds"] += time.perf_counter() - started
    for (identity, status), n in report.statuses.items():
        TOTALS["statuses"][f"{identity} {status}"] += n
    if report.failures:
        TOTALS["failed_operations"].append(label)
    assert report.requests > 0
    assert not report.failures, f"{label}: " + "\n\n".join(
        f"== as {identity} [{kind}]\n{message}" for (identity, kind), message in sorted(report.failures.items())
    )


def test_every_operation_is_fuzzed():
    """The document lists every endpoint of the app (nothing is left out of the fuzzing)."""
    documented = {(op.method.upper(), op.path) for op in OPERATIONS.values()}
    missing = {key for key in ROLES if key not in documented}
    assert not missing, f"endpoints left out of the OpenAPI document, so never fuzzed: {sorted(missing)}"


def test_uploading_the_same_document_twice_answers_a_documented_status(fuzz_target):
    if "/api/v1/documents" not in DOCUMENT["paths"]:
        pytest.skip("no documents endpoint")
    server, _, session = fuzz_target
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n% uploaded twice\n"
    headers = server.accounts["vendor"].headers
    statuses = [
        session.post(f"{server.base_url}/api/v1/documents", headers=headers, files={"file": ("a.pdf", pdf, "application/pdf")}).status_code
        for _ in range(2)
    ]
    documented = DOCUMENT["paths"]["/api/v1/documents"]["post"]["responses"]
    assert all(str(status) in documented for status in statuses), f"answered {statuses}, documented {sorted(documented)}"


SME_POLICIES = {"SmeIn", "SmeRead", "PublicSmePolicy"}


def test_money_is_documented_as_the_string_it_is_served_as():
    """DESIGN §4: money travels as a JSON string with two decimals; the document says so."""
    money = [
        (name, prop)
        for name, component in DOCUMENT["components"]["schemas"].items()
        for prop_name, prop in component.get("properties", {}).items()
        if prop_name in ("amount", "ceiling_amount", "price", "spent", "reserved", "committed", "available")
        # DESIGN §5 names a tender's SME reservation `sme.reserved` (专门面向中小企业): a flag, not money.
        and not (name in SME_POLICIES and prop_name == "reserved")
    ]
    assert money, "no money field in the document"
    for name, prop in money:
        variants = prop.get("oneOf") or prop.get("anyOf") or [prop]
        types = {v.get("type") for v in variants} - {"null"}
        assert types == {"string"}, f"{name}: money documented as {types}"


async def test_money_sent_as_a_json_number_is_refused(client):
    from tests import factories

    bureau = await factories.signed_in("bureau", await factories.organisation("bureau"))
    body = {"code": "21300001", "year": 2031, "title": "社区养老服务经费", "amount": 1500000.1}
    response = await client.post("/api/v1/budget-lines", headers=bureau.headers, json=body)
    assert response.status_code == 422, response.text
    accepted = await client.post("/api/v1/budget-lines", headers=bureau.headers, json={**body, "amount": "1500000.10"})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["amount"] == "1500000.10"


# --- the stateful phase ------------------------------------------------------------------------
# Chains of calls in which what one operation returns (a created record's id) feeds the operations
# that take it — links schemathesis infers from the response schemas and the path parameters —,
# signed in as each role in turn (admin last). Each step: no 5xx, errors as problem+json. Bounded
# for CI (GOVBUY_FUZZ_STATEFUL scenarios of up to 8 steps per role, default 4, derandomised).

SCENARIOS = int(os.environ.get("GOVBUY_FUZZ_STATEFUL", "4"))
TOTALS["stateful_steps"] = 0


def _machine(server, identity: str, session: requests.Session, failures: list[str], steps: list[int]):
    headers = server.accounts[identity].headers if identity in server.accounts else {}

    def admitted(ctx) -> bool:
        # The operations this identity may call (others answer 403: the access matrix's part);
        # never logging out, which would end the session the chain runs with.
        operation = ctx.operation
        if operation.label in ENDS_THE_SESSION:
            return False
        roles = ROLES.get((operation.method.upper(), operation.path), frozenset())
        return roles is None or identity in roles

    base = SCHEMA.include(admitted).as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def call(self, case, **kwargs):
            return super().call(case, base_url=server.base_url, headers=headers, session=session, timeout=30)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            steps[0] += 1
            TOTALS["stateful_steps"] += 1
            TOTALS["statuses"][f"{identity} {response.status_code}"] += 1
            content_type = (response.headers.get("content-type") or [""])[0]
            problem = problem_json_check(response.status_code, content_type, response.content)
            if problem:
                failures.append(f"{identity} {case.operation.label}: {problem}")
            if response.status_code >= 500:  # kept here too: see the run's FlakyStrategyDefinition below
                failures.append(f"{identity} {case.operation.label}: {response.status_code}\n{case.as_curl_command(headers=headers)}")
            case.validate_response(response, checks=[not_a_server_error], headers=headers)

    return Machine


@pytest.mark.parametrize("identity", [i for i in IDENTITIES if i != "anonymous"])
def test_chains_of_calls_answer_within_the_contract(fuzz_target, identity):
    server, _, session = fuzz_target
    failures: list[str] = []
    steps = [0]
    machine = _machine(server, identity, session, failures, steps)
    try:
        machine.run(settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            database=None,
            derandomize=SEED is None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ))
    except FlakyStrategyDefinition:
        # Hypothesis replays a chain to vary it, and the live server has moved on since (a record
        # created, a tender opened), so the replay may not draw what the first run drew. Every step
        # that ran was still checked: its 5xx and problem+json faults are in `failures`.
        pass
    assert steps[0] > 0
    assert not failures, "\n".join(failures[:20])
