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


async def test_metrics_are_prometheus_text(client):
    await client.get("/health")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "govbuy_http_requests_total" in metrics.text


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
