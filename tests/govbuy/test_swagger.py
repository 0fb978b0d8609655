"""The interactive OpenAPI page loads nothing from outside the service: its script, styles and
icon are govbuy's own (a government network reaches no CDN)."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from govbuy import swagger

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def _asset_urls(page: str) -> list[str]:
    return re.findall(r"<script[^>]*\ssrc=[\"']([^\"']+)", page) + re.findall(r"<link[^>]*\shref=[\"']([^\"']+)", page)


async def test_every_script_and_style_of_the_docs_page_is_served_by_the_service(client):
    origin = str(client.base_url).rstrip("/")
    page = await client.get(f"{origin}/schema")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls = _asset_urls(page.text)
    assert len(urls) == 4, urls  # the bundle, the standalone preset, the styles, the icon
    for url in urls:
        absolute = urljoin(f"{origin}/schema", url)
        assert urlsplit(absolute).netloc == urlsplit(origin).netloc, url
        asset = await client.get(absolute)
        assert asset.status_code == 200, url
        expected = CONTENT_TYPES[url[url.rindex("."):]]
        assert asset.headers["content-type"].split(";")[0] == expected, url
        assert len(asset.content) > 100


async def test_the_docs_page_allows_no_other_origin(client):
    page = await client.get("/schema")
    assert page.headers["content-security-policy"] == swagger.DOCS_CSP
    assert "http" not in swagger.DOCS_CSP
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page.text)


@pytest.mark.parametrize("name", ["index.html", "swagger-initializer.js", "swagger-ui-bundle.js.map", "..%2Fsettings.py"])
async def test_only_the_pages_assets_are_served(client, name):
    assert (await client.get(f"{swagger.ASSETS_PATH}/{name}")).status_code == 404


async def test_the_assets_are_public_and_cacheable(client):
    asset = await client.get(f"{swagger.ASSETS_PATH}/swagger-ui.css")
    assert asset.status_code == 200
    assert "public" in asset.headers["cache-control"] and "max-age" in asset.headers["cache-control"]
