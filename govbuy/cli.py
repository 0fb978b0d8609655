"""The `govbuy` command: serve, migrate, create users, and the data tools of each domain."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from govbuy import database as db
from govbuy import audit, embedded, logs
from govbuy.auth import ROLES
from govbuy.rules import RuleViolation
from govbuy.settings import (
    LOG_LEVELS,
    ConfigError,
    SettingsError,
    effective_settings,
    get_settings,
    load_settings,
    refuse_default_ocid_prefix,
    refuse_example_secrets,
)

# The most a request line and its headers may take: a bearer token and a few cookies fit easily.
MAX_REQUEST_HEAD_BYTES = 64 * 1024


def cmd_serve(args: argparse.Namespace) -> None:
    if args.sandbox:
        os.environ["GOVBUY_SANDBOX"] = "1"
        get_settings.cache_clear()
    settings = get_settings()
    refuse_example_secrets(settings)
    refuse_default_ocid_prefix(settings)
    # SIGTERM ends the process through its `finally` blocks as SIGINT does (uvicorn shuts down
    # gracefully on either, then raises it again with the handler it found: this one).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # A server that was running before is left to whoever started it (and not joined: nothing
    # here keeps it running); one started here stops with the service, however it ends.
    server = embedded.open_embedded_server(settings.data_dir, register=False) if settings.embedded else None
    try:
        _serve(args)
    finally:
        if server is not None and server.started_here:
            embedded.stop_embedded_server(settings.data_dir)


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    log = logging.getLogger("govbuy")
    settings = get_settings()
    started = time.perf_counter()
    urls = db.prepare_database()
    log.info(
        "database ready in %.2f s (%s)", time.perf_counter() - started,
        "embedded server" if settings.embedded else "DATABASE_URL",
    )
    risks = asyncio.run(db.app_role_warnings(urls.app))
    if risks:
        log.warning(
            "the service's database role can get round the tables' triggers (%s): connect as an app role "
            "that owns nothing (docs/operations.md)", "; ".join(risks),
        )
    workers = args.workers or settings.workers
    if workers > 1:
        _share_metrics(settings.data_dir / "metrics")
    uvicorn.run(
        "govbuy.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=workers,
        # The same log in every worker process; the access lines are govbuy's (govbuy/logs.py).
        log_config=logs.logging_config(args.log_level, settings.log_format),
        access_log=False,
        # h11 bounds the request line and headers it buffers (httptools would take megabytes).
        http="h11",
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        # uvicorn would take X-Forwarded-For from any caller on this host as the client: the app
        # reads it itself, from GOVBUY_TRUSTED_PROXIES only (govbuy.http.client_address).
        proxy_headers=False,
    )


def _share_metrics(folder: Path) -> None:
    """Several worker processes: each writes its metrics in `folder` (emptied now: the counts of
    an earlier run are not this one's), and /metrics in any of them shows the sum. Set before
    uvicorn starts the workers, which import the Prometheus client afresh."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def cmd_migrate(_: argparse.Namespace) -> None:
    db.prepare_database()
    print("migrations applied")


def cmd_create_user(args: argparse.Namespace) -> None:
    from uuid import UUID

    from govbuy import service
    from govbuy.schemas import OrganisationCreate, UserCreate

    async def work() -> Any:
        org_id = args.organisation_id
        if org_id is None:
            org = await service.create_organisation(
                None,
                OrganisationCreate(name=args.organisation_name, kind=args.organisation_kind, uscc=args.uscc, region_code=args.region_code),
            )
            org_id = org.id
        return await service.create_user(
            None, UserCreate(username=args.username, password=args.password, organisation_id=UUID(str(org_id)), role=args.role)
        )

    user = db.run_job(work)
    print(f"created {user.role} {user.username} ({user.id}) in organisation {user.organisation_id}")


def cmd_publish_audit_head(_: argparse.Namespace) -> None:
    head = db.run_job(audit.publish_head)
    if head is None:
        print("the audit log is empty: no head to publish")
    else:
        print(f"audit head published: seq {head.seq}, hash {head.hash}, at {head.at.isoformat()}")


def cmd_database_url(args: argparse.Namespace) -> None:
    urls = db.prepare_database()
    print(urls.owner if args.owner else urls.app)


def cmd_check_config(_: argparse.Namespace) -> None:
    """The settings in force, secrets masked (an invalid environment never gets here: see main)."""
    shown = effective_settings(load_settings())
    width = max(map(len, shown))
    for name, value in shown.items():
        print(f"{name:<{width}}  {value}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govbuy", description=__doc__)
    parser.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, help="default GOVBUY_LOG_LEVEL, else INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API (embedded PostgreSQL unless DATABASE_URL is set)")
    serve.add_argument("--host", help="default GOVBUY_HOST, else 127.0.0.1")
    serve.add_argument("--port", type=int, help="default GOVBUY_PORT, else 8000")
    serve.add_argument("--workers", type=int, help="default GOVBUY_WORKERS, else 1")
    serve.add_argument("--sandbox", action="store_true", help="enable the sandbox clock (never in production)")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("check-config", help="print the settings in force, secrets masked; fail if invalid").set_defaults(
        func=cmd_check_config
    )
    database_url = sub.add_parser(
        "database-url", help="print the DSN the service connects with (starts the embedded server)"
    )
    database_url.add_argument("--owner", action="store_true", help="the owner role's, which runs the migrations")
    database_url.set_defaults(func=cmd_database_url)

    sub.add_parser(
        "publish-audit-head",
        help="record the audit chain's head for the public (GET /api/v1/public/audit-head, the OCDS packages); run it periodically",
    ).set_defaults(func=cmd_publish_audit_head)

    user = sub.add_parser("create-user", help="create a user (and optionally its organisation)")
    user.add_argument("--username", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--role", required=True, choices=list(ROLES))
    user.add_argument("--organisation-id")
    user.add_argument("--organisation-name", default="govbuy 平台运营方")
    user.add_argument("--organisation-kind", default="platform")
    user.add_argument("--uscc")
    user.add_argument("--region-code")
    user.set_defaults(func=cmd_create_user)

    for commands in command_modules():
        commands.register_commands(sub)
    return parser


def command_modules() -> tuple:
    """The domains' commands and the top's; the public feed's also registers the feed's audit
    listener, so that what a command changes is published too. Imported here, once main has
    checked the settings, because some of the modules behind them read the settings as they load."""
    from contracts import cli as contracts_cli
    from govbuy import prerender
    from govbuy.demo import seed as demo_seed
    from govbuy.demo import year as demo_year
    from govbuy.public import cli as public_cli
    from govbuy.reconcile import cli as reconcile_cli
    from planning import cli as planning_cli
    from procurement import cli as procurement_cli
    from vendors import cli as vendors_cli

    return (vendors_cli, planning_cli, procurement_cli, contracts_cli, public_cli, reconcile_cli, prerender, demo_year,
            demo_seed)


def main(argv: list[str] | None = None) -> None:
    # The environment is checked before any command is even loaded: a bad value is one clear
    # line per variable, exit status 2, no traceback.
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"govbuy: {exc}", file=sys.stderr)
        sys.exit(2)
    args = build_parser().parse_args(argv)
    args.log_level = args.log_level or settings.log_level
    logs.configure(args.log_level, settings.log_format)

    try:
        args.func(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except RuleViolation as exc:
        print(f"error ({exc.code}): {exc.detail}", file=sys.stderr)
        for item in exc.errors or []:
            print(f"  {item}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
