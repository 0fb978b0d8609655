"""/metrics of `govbuy serve --workers 2` counts the requests every worker answered: each scrape,
whichever worker takes it, shows the same totals (the Prometheus client's multiprocess mode)."""

from __future__ import annotations

import re

from tests.reliability.live import live_server

HEALTH_LINE = re.compile(r'^govbuy_http_requests_total\{[^}]*route="/health"[^}]*\} ([0-9.e+]+)$', re.M)


def _health_count(text: str) -> float:
    return sum(float(n) for n in HEALTH_LINE.findall(text))


def test_every_scrape_shows_the_requests_of_every_worker(server_dsn, tmp_path):
    with live_server(server_dsn, tmp_path, accounts=False, workers=2) as server:
        with server.client() as client:
            for _ in range(60):
                assert client.get("/health").status_code == 200
            counts = []
            for _ in range(8):  # over fresh connections, so both workers take some of them
                with server.client() as scraper:
                    response = scraper.get("/metrics")
                assert response.status_code == 200, response.text
                counts.append(_health_count(response.text))
    # One worker's own counter would show only its share of the 60; every scrape sees them all
    # (and the ready probes the harness made while the server started).
    assert min(counts) >= 60 and len(set(counts)) == 1, counts
