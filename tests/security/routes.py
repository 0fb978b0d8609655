"""The app's endpoints as data: method, path (as the OpenAPI document spells it) and who may call
them, read from the route handlers' guards (`requires(...)` and `any_signed_in` carry `.roles`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from govbuy.auth import ROLES

# Served by the framework for the OpenAPI document and its page: public by construction.
FRAMEWORK_PREFIXES = ("/schema",)
IGNORED_METHODS = {"OPTIONS", "HEAD"}  # answered by the framework (CORS preflight), no handler code


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # /api/v1/vendors/{vendor_id}
    route_path: str  # /api/v1/vendors/{vendor_id:uuid}
    handler: HTTPRouteHandler
    public: bool  # opt exclude_from_auth and no guard
    roles: frozenset[str] | None  # None when a guard carries no `.roles`, or for public endpoints
    unlabelled_guards: tuple[str, ...]  # guards without `.roles`: the matrix cannot reason about them

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints_of(app: Litestar) -> list[Endpoint]:
    found: dict[tuple[str, str], Endpoint] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(FRAMEWORK_PREFIXES):
            continue
        for handler in route.route_handlers:
            methods = sorted(m for m in handler.http_methods if m not in IGNORED_METHODS)
            if not methods:
                continue
            # Litestar wraps sync guards in an AsyncCallable that keeps the original as `.func`.
            guards = [getattr(g, "func", g) for g in handler.resolve_guards()]
            labelled = [g for g in guards if hasattr(g, "roles")]
            unlabelled = tuple(getattr(g, "__qualname__", repr(g)) for g in guards if not hasattr(g, "roles"))
            roles: frozenset[str] | None = None
            if labelled:
                roles = frozenset(ROLES)
                for guard in labelled:  # every guard must admit the caller
                    roles &= frozenset(guard.roles)
            public = not guards and bool(handler.opt.get("exclude_from_auth"))
            for method in methods:
                endpoint = Endpoint(
                    method=method,
                    path=route.path_format,
                    route_path=route.path,
                    handler=handler,
                    public=public,
                    roles=None if unlabelled else roles,
                    unlabelled_guards=unlabelled,
                )
                found[endpoint.key] = endpoint
    return sorted(found.values(), key=lambda e: (e.path, e.method))


@cache
def app_endpoints() -> tuple[Endpoint, ...]:
    """The endpoints of the app the service runs (every domain that is installed)."""
    from govbuy.app import create_app

    return tuple(endpoints_of(create_app(manage_pool=False)))


def roles_by_operation() -> dict[tuple[str, str], frozenset[str] | None]:
    """(METHOD, /openapi/path) → the roles admitted; None for a public endpoint."""
    return {e.key: (None if e.public else e.roles) for e in app_endpoints()}
