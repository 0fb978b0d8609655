"""The OpenAPI document declares the bearer scheme, so that its interactive page can sign in and
generated clients send the token; the operations that need no token say so."""

from __future__ import annotations

from litestar.routes import HTTPRoute

from govbuy.app import create_app


def test_the_document_declares_the_bearer_scheme_and_which_operations_need_none():
    app = create_app()
    doc = app.openapi_schema.to_schema()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "the access_token of POST /api/v1/auth/token"
    }
    assert doc["security"] == [{"bearer": []}]
    public = needs_token = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods:
                operation = doc["paths"][route.path_format][method.lower()]
                if handler.opt.get("exclude_from_auth"):
                    public += 1
                    assert operation.get("security") == [{}], (method, route.path)
                else:
                    needs_token += 1
                    assert "security" not in operation, (method, route.path)
    assert public >= 10 and needs_token >= 50
