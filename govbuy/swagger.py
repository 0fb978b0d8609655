"""The interactive OpenAPI page (`/schema`) with Swagger UI's script, styles and icon served by
govbuy itself, from the files the `swagger-ui-bundle-v2` package ships: a government network
reaches no CDN, and the page must not depend on one."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File
from swagger_ui_bundle import swagger_ui_path

from govbuy.errors import NotFound

# The bundle's folder is named after its Swagger UI version (swagger-ui-5.31.0): in the path, an
# upgrade is a new URL, so browsers may keep an asset for as long as they like.
ASSETS_PATH = f"/schema/assets/{swagger_ui_path.name}"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
# What the page needs beyond 'self': its inline start-up script and styles, and the icons that
# Swagger UI's styles carry as data: URIs.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)


def swagger_page(path: str = "/") -> SwaggerRenderPlugin:
    """Litestar's Swagger page, pointed at the assets below instead of the CDN."""
    return SwaggerRenderPlugin(
        path=path,
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )


@get(
    f"{ASSETS_PATH}/{{name:str}}",
    opt={"exclude_from_auth": True},
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True),
)
async def swagger_asset(name: FromPath[str]) -> File:
    """One of the page's assets; nothing else of the bundle's folder is served."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound("asset", name)
    return File(swagger_ui_path / name, media_type=media_type, content_disposition_type="inline")
