"""The app factory: one `create_app()` that wires every domain's controllers, the error
mapping, authentication, request ids, the request deadline, metrics and security headers."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar, Request, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders, State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, Operation, SecurityScheme
from litestar.response import Response
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from contracts import service as contracts_service
from contracts.controllers import BudgetPerformanceController, ContractController
from contracts.report_controllers import AnnualReportController, ContractReportController
from evaluation import service as evaluation_service
from evaluation.controllers import EvaluationController, EvaluatorController, IndicatorTemplateController
from evaluation.report_controllers import EvaluationReportController
from govbuy import controllers as kernel
from govbuy import database as db
from govbuy import documents, logs, offload, swagger
from govbuy.auth import TokenAuthentication
from govbuy.deadline import request_deadline_middleware
from govbuy.errors import _TITLES, EXCEPTION_HANDLERS, PROBLEM_JSON, Forbidden, Problem
from govbuy.http import ApiRequest, client_address, enforce_if_match, requires_if_match
from govbuy.public import feed
from govbuy.public.controllers import (
    OcdsController,
    PublicAuditHeadController,
    PublicContractController,
    PublicIntentionController,
    PublicTenderController,
    PublicNoticeController,
    PublicVendorController,
)
from govbuy.reconcile.controllers import ReconcileController
from govbuy.settings import get_settings
from procurement.controllers import (
    AwardController,
    ComplaintController,
    BidController,
    EvaluationPanelController,
    ExpertController,
    TenderController,
    TenderAmendmentController,
    TenderQuestionController,
)
from planning.controllers import BudgetLineController, CatalogueController, ProcurementIntentionController
from procurement import service as procurement_service
from procurement.report_controllers import PublicTenderReportController, TenderReportController
from vendors.controllers import VendorController
from vendors.report_controllers import VendorReportController

log = logging.getLogger("govbuy")

REQUESTS = Counter("govbuy_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("govbuy_http_request_seconds", "HTTP request latency", ["method", "route"])

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
# The interactive docs page's own script and styles, served by the service (govbuy/swagger.py).
DOCS_CSP = swagger.DOCS_CSP
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Metrics of a routed request (its id and log context: `logs.log_requests`, around the app)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        path = scope.get("path", "")

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            route = scope.get("path_template") or ("/unmatched" if status == 404 else path)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)

    return middleware


async def security_headers(message: Message, scope: Scope) -> None:
    """Security headers on every response: a before-send hook, because the router answers an
    unknown path (404) or method (405) itself, before any middleware of a route runs."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
    headers["content-security-policy"] = DOCS_CSP if scope.get("path", "").startswith("/schema") else API_CSP


@get("/metrics", opt={"exclude_from_auth": True}, security=[{}], tags=["operations"], media_type=CONTENT_TYPE_LATEST)
async def metrics(request: Request) -> Response[bytes]:
    """Prometheus metrics, for the operator only: with `GOVBUY_METRICS_TOKEN` set, to a caller
    presenting it as a bearer token; without, to callers on this host (loopback; a caller that a
    trusted proxy on this host forwards is where the proxy says it is)."""
    check_metrics_access(request.headers.get("authorization"), client_address(request))
    return Response(metrics_text(), media_type=CONTENT_TYPE_LATEST)


def metrics_text() -> bytes:
    """The metrics of every worker process together when `govbuy serve` runs several (the
    Prometheus client's multiprocess mode: each process writes its own files in
    PROMETHEUS_MULTIPROC_DIR, and any of them sums them), else this process's."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def check_metrics_access(authorization: str | None, host: str | None) -> None:
    token = get_settings().metrics_token
    if token is not None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return
    elif host in ("127.0.0.1", "::1", "localhost"):
        return
    raise Forbidden("the metrics are for the operator: present GOVBUY_METRICS_TOKEN, or read them on the host",
                    "metrics_forbidden")


# The errors any operation may answer, all as problem+json; 401 and 403 only where a guard is,
# 428 only where If-Match is required.
PROBLEM_STATUSES = (404, 409, 412, 413, 415, 422, 429, 503)
GUARDED_PROBLEM_STATUSES = (401, 403)
IF_MATCH_PROBLEM_STATUSES = (428,)


@dataclass
class _ProblemOperation(Operation):
    """An operation without Litestar's default 400 response: bad input answers 422 here."""

    def __post_init__(self) -> None:
        if self.responses:
            self.responses.pop("400", None)


def document_problem_responses(app: Litestar) -> None:
    """Declare in the OpenAPI document that every operation answers its errors as problem+json
    (a domain's own `responses=` for a status wins), so clients and schema checks know the shape."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            guarded = bool(handler.resolve_guards())
            statuses = PROBLEM_STATUSES + (GUARDED_PROBLEM_STATUSES if guarded else (401,))
            if requires_if_match(handler):
                statuses += IF_MATCH_PROBLEM_STATUSES
            problems = {
                status: ResponseSpec(
                    data_container=Problem, media_type=PROBLEM_JSON, description=_TITLES.get(status, "Error"),
                    generate_examples=False,
                )
                for status in sorted(statuses)
            }
            handler.responses = {**problems, **(handler.responses or {})}
            if handler.operation_class is Operation:
                handler.operation_class = _ProblemOperation


def route_handlers() -> list:
    """Every controller of every domain; the one place the domains are assembled. Each domain's
    API controllers come first, then its PDF report endpoints."""
    return [
        kernel.OpsController,
        kernel.AuthController,
        kernel.OrganisationController,
        kernel.UserController,
        kernel.CalendarController,
        kernel.SandboxController,
        kernel.AuditController,
        ReconcileController,
        kernel.NotificationController,
        documents.DocumentController,
        metrics,
        swagger.swagger_asset,
        VendorController,
        VendorReportController,
        CatalogueController,
        BudgetLineController,
        ProcurementIntentionController,
        TenderController,
        TenderAmendmentController,
        TenderQuestionController,
        BidController,
        EvaluationPanelController,
        AwardController,
        ComplaintController,
        ExpertController,
        TenderReportController,
        PublicTenderReportController,
        ContractController,
        BudgetPerformanceController,
        ContractReportController,
        AnnualReportController,
        EvaluatorController,
        IndicatorTemplateController,
        EvaluationController,
        EvaluationReportController,
        PublicTenderController,
        PublicContractController,
        PublicNoticeController,
        PublicIntentionController,
        PublicVendorController,
        OcdsController,
        PublicAuditHeadController,
    ]


def period_recomputers() -> list:
    """What recording a year's schedule recomputes: each domain's stored periods."""
    return [procurement_service.recompute_periods, evaluation_service.recompute_periods]


def create_app(*, dsn: str | None = None, manage_pool: bool = True) -> Litestar:
    """Build the app. With `dsn` the database is that one; else DATABASE_URL or the embedded
    server's app role (govbuy/db_roles.py)."""
    settings = get_settings()
    # What the app's requests change is published in the OCDS feed.
    feed.register()
    # Who may read a document linked to a deliverable or an evaluation: whoever may see it.
    documents.register_visibility("deliverable", contracts_service.deliverables_visible)
    documents.register_visibility("evaluation", evaluation_service.evaluations_visible)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        watchdog = None
        if manage_pool:
            db.configure(dsn or db.app_dsn(settings))
            await db.start_pool(settings.pool_min_size, settings.pool_max_size)
            if dsn is None and settings.embedded:
                from govbuy.embedded import watch_embedded_server

                watchdog = asyncio.create_task(watch_embedded_server(settings.data_dir), name="embedded-server-watchdog")
        try:
            from govbuy import service

            await service.ensure_admin()
            await offload.warm()
            yield
        finally:
            from govbuy import reports

            if watchdog is not None:
                watchdog.cancel()
            reports.shutdown_renderer()
            if manage_pool:
                await db.close_pool()

    cors = (
        CORSConfig(allow_origins=list(settings.cors_origins), allow_headers=["authorization", "content-type", "if-match", "idempotency-key"])
        if settings.cors_origins
        else None
    )
    app = Litestar(
        route_handlers=route_handlers(),
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[
            request_context_middleware,
            request_deadline_middleware,
            DefineMiddleware(TokenAuthentication),
        ],
        cors_config=cors,
        request_class=ApiRequest,
        request_max_body_size=settings.max_json_bytes,
        before_send=[security_headers],
        # The only before-request hook: Litestar runs the innermost layer's alone, so a controller
        # that set its own would skip the If-Match requirement (428) on its handlers.
        before_request=enforce_if_match,
        openapi_config=OpenAPIConfig(
            title="govbuy",
            version="1.0.0",
            description="Government purchase of services (政府购买服务): catalogue, tenders, contracts, "
            "third-party evaluation and payments.",
            path="/schema",
            render_plugins=[swagger.swagger_page(path="/"), JsonRenderPlugin(path="/openapi.json")],
            # The bearer token of POST /api/v1/auth/token, so that the interactive page can sign in
            # and generated clients send it; the public endpoints say they need none.
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", bearer_format="JWT",
                        description="the access_token of POST /api/v1/auth/token",
                    )
                }
            ),
            security=[{"bearer": []}],
        ),
        state=State({"period_recomputers": period_recomputers()}),
        debug=False,
        logging_config=None,  # the CLI configures logging (govbuy/logs.py)
    )
    document_problem_responses(app)
    # Around the whole app, so that the router's own 404 and 405 have a request id and a line too.
    app.asgi_handler = logs.log_requests(app.asgi_handler)
    return app
