"""Health, readiness, metrics, the OpenAPI document, request ids and security headers."""

from __future__ import annotations


async def test_health_and_ready_answer(client):
    health = await client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] in {"ok", "degraded"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_openapi_lists_the_api(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/auth/token" in schema["paths"]
    assert "/api/v1/vendors/{vendor_id}" in schema["paths"]
    page = await client.get("/schema")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()


async def test_metrics_are_prometheus_text(client, monkeypatch):
    from govbuy.settings import get_settings

    monkeypatch.setenv("GOVBUY_METRICS_TOKEN", "scraper-token-1")
    get_settings.cache_clear()
    try:
        await client.get("/health")
        metrics = await client.get("/metrics", headers={"Authorization": "Bearer scraper-token-1"})
        assert metrics.status_code == 200
        assert "govbuy_http_requests_total" in metrics.text
    finally:
        monkeypatch.delenv("GOVBUY_METRICS_TOKEN")
        get_settings.cache_clear()


async def test_every_response_carries_a_request_id_and_security_headers(client):
    response = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32


async def test_cors_is_closed_by_default(client):
    response = await client.options(
        "/api/v1/auth/token",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_metrics_are_for_the_operator_only(client, monkeypatch):
    from govbuy import app as app_module
    from govbuy.settings import get_settings

    # Without a token: callers on this host only (the test client is 203.0.113.7, a remote).
    app_module.check_metrics_access(None, "127.0.0.1")
    remote = await client.get("/metrics")
    assert (remote.status_code, remote.json()["code"]) == (403, "metrics_forbidden")
    for host in ("203.0.113.7", None):
        try:
            app_module.check_metrics_access(None, host)
        except Exception as refused:
            assert getattr(refused, "code", None) == "metrics_forbidden"
        else:
            raise AssertionError(f"{host} read the metrics")
    # With a token: whoever presents it, wherever from; nobody else, loopback included.
    monkeypatch.setenv("GOVBUY_METRICS_TOKEN", "s3cret-scrape-token")
    get_settings.cache_clear()
    try:
        refused = await client.get("/metrics")
        assert (refused.status_code, refused.json()["code"]) == (403, "metrics_forbidden")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        ok = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
        assert ok.status_code == 200 and "govbuy_http_requests_total" in ok.text
    finally:
        monkeypatch.delenv("GOVBUY_METRICS_TOKEN")
        get_settings.cache_clear()
