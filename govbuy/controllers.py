"""Kernel endpoints: sign-in, organisations, users, the calendar, the sandbox clock, the audit
log and the operational probes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from govbuy import audit
from govbuy import database as db
from govbuy import service
from govbuy.auth import any_signed_in, requires
from govbuy.http import LONG_RUNNING, Cursor, Limit, client_address
from govbuy.pagination import Page
from govbuy.schemas import (
    CalendarYearRecorded,
    StatutoryHolidayRead,
    AuditEventRead,
    CalendarYearRead,
    CalendarYearWrite,
    ChainVerification,
    ClockAdvance,
    ClockRead,
    Health,
    MeRead,
    NotificationRead,
    OrganisationCreate,
    OrganisationRead,
    PasswordChange,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserRead,
)
from govbuy.settings import get_settings


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/token", opt={"exclude_from_auth": True}, security=[{}], status_code=200)
    async def token(self, request: Request, data: JSONBody[TokenRequest]) -> TokenResponse:
        """Exchange a username and password for a bearer token. Failures slow further attempts of
        the account from the same address, and of the address across accounts (429 with
        Retry-After); the account from elsewhere is never refused."""
        access_token, expires_in = await service.sign_in(data.username, data.password, client_address(request))
        return TokenResponse(access_token=access_token, expires_in=expires_in)

    @post("/logout", guards=[any_signed_in], status_code=204)
    async def logout(self, request: Request) -> None:
        """Sign out everywhere: every token of the user, this one included, stops working."""
        await service.sign_out(request.user)

    @post("/password", guards=[any_signed_in], status_code=200)
    async def password(self, request: Request, data: JSONBody[PasswordChange]) -> TokenResponse:
        """Change one's own password with the current one: earlier tokens are revoked and a new
        token is returned."""
        access_token, expires_in = await service.change_password(request.user, data.current_password, data.new_password)
        return TokenResponse(access_token=access_token, expires_in=expires_in)

    @get("/me", guards=[any_signed_in])
    async def me(self, request: Request) -> MeRead:
        """The signed-in user and their organisation."""
        actor = request.user
        return MeRead(
            user=await service.get_user(actor.user_id),
            organisation=await service.get_organisation(actor.organisation_id),
        )


class OrganisationController(Controller):
    path = "/api/v1/organisations"
    tags = ["accounts"]

    @post("/", guards=[requires("admin")])
    async def create(self, request: Request, data: JSONBody[OrganisationCreate]) -> OrganisationRead:
        """Register an organisation; vendors and evaluators need a valid unified social credit code."""
        return await service.create_organisation(request.user, data)

    @get("/", guards=[requires("admin", "supervisor")])
    async def list(
        self, kind: Annotated[str | None, QueryParameter(max_length=20)] = None, limit: Limit = None, cursor: Cursor = None
    ) -> Page[OrganisationRead]:
        """Organisations by name, keyset-paginated."""
        return await service.list_organisations(kind, limit, cursor)

    @get("/{org_id:uuid}", guards=[requires("admin", "supervisor")])
    async def read(self, org_id: FromPath[UUID]) -> OrganisationRead:
        """One organisation."""
        return await service.get_organisation(org_id)


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["accounts"]

    @post("/", guards=[requires("admin")])
    async def create(self, request: Request, data: JSONBody[UserCreate]) -> UserRead:
        """Create a user; the role must match the organisation's kind."""
        return await service.create_user(request.user, data)

    @get("/", guards=[requires("admin", "supervisor")])
    async def list(
        self,
        organisation_id: Annotated[UUID | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[UserRead]:
        """Users by username, keyset-paginated."""
        return await service.list_users(organisation_id, limit, cursor)

    @get("/{user_id:uuid}", guards=[requires("admin", "supervisor")])
    async def read(self, user_id: FromPath[UUID]) -> UserRead:
        """One user (never the password)."""
        return await service.get_user(user_id)

    @post("/{user_id:uuid}/disable", guards=[requires("admin")], status_code=200)
    async def disable(self, request: Request, user_id: FromPath[UUID]) -> UserRead:
        """Disable a user: their tokens stop working at once."""
        return await service.set_user_active(request.user, user_id, False)

    @post("/{user_id:uuid}/enable", guards=[requires("admin")], status_code=200)
    async def enable(self, request: Request, user_id: FromPath[UUID]) -> UserRead:
        """Enable a disabled user again."""
        return await service.set_user_active(request.user, user_id, True)


class CalendarController(Controller):
    path = "/api/v1/calendar"
    tags = ["time"]

    @get("/{year:int}", guards=[any_signed_in])
    async def read(self, year: FromPath[int]) -> CalendarYearRead:
        """A year's official schedule: statutory holidays and make-up working days (调休)."""
        return await service.get_calendar_year(year)

    @put("/{year:int}", guards=[requires("admin")])
    async def record(
        self, request: Request, year: FromPath[int], data: JSONBody[CalendarYearWrite]
    ) -> CalendarYearRecorded:
        """Record a year's schedule as published by the State Council. It must contain every
        statutory holiday (`calendar_schedule_incomplete` names the missing days). Every open
        period that counted the year by the fallback is recomputed in the same change: a window
        given to a party only ever ends later, a bid deadline that became too short is moved,
        and each party concerned is notified."""
        recomputers = request.app.state.get("period_recomputers", ())
        return await service.put_calendar_year(request.user, year, data, recomputers)

    @get("/{year:int}/statutory-holidays", guards=[any_signed_in])
    async def statutory(self, year: FromPath[int]) -> list[StatutoryHolidayRead]:
        """The statutory holidays 《全国年节及纪念日放假办法》 fixes for a year, computed from the
        lunar calendar and the solar terms: what any schedule of that year must contain, and what
        the fallback counts for a year with no recorded schedule."""
        return service.statutory_holidays_of(year)

    @get("/days/{day:date}", guards=[any_signed_in])
    async def day(self, day: FromPath[date]) -> dict[str, Any]:
        """Whether a date is a working day, whether its year's schedule is known (if not, the
        answer counts weekends and the statutory holidays only), and which statutory holiday it
        is, if any."""
        return await service.working_day(day)


class SandboxController(Controller):
    path = "/api/v1/sandbox"
    tags = ["time"]

    @get("/clock", guards=[any_signed_in])
    async def read(self) -> ClockRead:
        """The service's clock: its instant, and its own date and time zone (Asia/Shanghai), so
        that no client derives a date from UTC."""
        return await service.clock_read()

    @post("/clock", guards=[requires("admin")], status_code=200)
    async def advance(self, request: Request, data: JSONBody[ClockAdvance]) -> ClockRead:
        """Move the sandbox clock forward (GOVBUY_SANDBOX=1 only; never in production)."""
        seconds = int(timedelta(days=data.advance_days).total_seconds()) + data.advance_seconds
        await service.advance_clock(request.user, seconds)
        return await service.clock_read()


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [any_signed_in]

    @get("/")
    async def inbox(
        self,
        request: Request,
        unread: Annotated[bool | None, QueryParameter(description="true: unread only; false: read only")] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[NotificationRead]:
        """What the service told the caller's organisation, unread first, then newest."""
        return await service.list_notifications(request.user, unread, limit, cursor)

    @post("/{notification_id:uuid}/read", status_code=200)
    async def read(self, request: Request, notification_id: FromPath[UUID]) -> NotificationRead:
        """Mark a notification read."""
        return await service.mark_notification_read(request.user, notification_id)


class AuditController(Controller):
    path = "/api/v1/audit-events"
    tags = ["audit"]
    guards = [requires("admin", "supervisor")]

    @get("/")
    async def list(
        self,
        entity_type: Annotated[str | None, QueryParameter(max_length=64)] = None,
        entity_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        actor_user_id: Annotated[UUID | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[AuditEventRead]:
        """The audit log, newest first, filtered by entity and actor."""
        return await service.list_audit_events(entity_type, entity_id, actor_user_id, limit, cursor)

    @get("/verify", opt=LONG_RUNNING)
    async def verify(
        self,
        full: Annotated[
            bool, QueryParameter(description="walk from the first event, and check every checkpoint, not from the latest")
        ] = False,
    ) -> ChainVerification:
        """Walk the hash chain from the latest checkpoint (`full=true`: from the first event)
        and report the first broken link, if any; a whole chain gets a new checkpoint. One run
        at a time: another meanwhile is 429 `verify_in_progress` with Retry-After."""
        result = await audit.verify(full=full)
        check = result.check
        return ChainVerification(
            ok=check.ok,
            checked=check.checked,
            first_broken=check.first_broken,
            reason=check.reason,
            from_checkpoint=result.from_checkpoint,
            verified_through=check.last_seq if check.ok and check.last_seq else None,
        )


class OpsController(Controller):
    path = "/"
    tags = ["operations"]
    opt = {"exclude_from_auth": True}
    security = [{}]
    include_in_schema = True

    @get("/health")
    async def health(self) -> Health:
        """Liveness: the process answers, always 200 — restarting the API mends no database.
        `status` is `degraded` when the database does not answer within
        `health_timeout_seconds` (`database: unreachable`) or the embedded server is stopped;
        /ready is what answers 503 then."""
        settings = get_settings()
        database = "ok" if await db.database_answers(settings.health_timeout_seconds) else "unreachable"
        embedded = None
        if settings.embedded:
            from govbuy.embedded import embedded_server_pid

            embedded = "running" if embedded_server_pid(settings.data_dir) is not None else "stopped"
        status = "ok" if database == "ok" and embedded in (None, "running") else "degraded"
        # What the public feed still owes (govbuy/public/feed.py): shown, not a reason to restart.
        owed = await db.fetchval("SELECT count(*) FROM ocds_pending_releases") if database == "ok" else None
        return Health(status=status, database=database, embedded_server=embedded or "not used", owed_releases=owed)

    @get("/ready")
    async def ready(self) -> Response[Health]:
        """Readiness: the database answers within `health_timeout_seconds`; 503 while it does not."""
        if await db.database_answers(get_settings().health_timeout_seconds):
            return Response(Health(status="ok", database="ok"))
        return Response(Health(status="degraded", database="unreachable"), status_code=503)
