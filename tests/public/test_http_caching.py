"""HTTP caching of public reads: ETag and Last-Modified on a notice and a record, 304 on a
matching If-None-Match or a not-older If-Modified-Since, a new ETag once the resource changes,
and a short Cache-Control on public lists."""

from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime
from datetime import timedelta

from govbuy.public import feed
from tests.public import support as s

API = "/api/v1"


def _directives(response) -> set[str]:
    return {d.strip() for d in response.headers["cache-control"].split(",")}


async def test_a_notice_answers_304_while_unchanged(client):
    b = await s.bureau(client)
    p = await s.published(client, b)
    [notice] = s.ok(await client.get(f"{API}/public/notices", params={"tender_id": p.id}))["items"]
    first = await client.get(f"{API}/public/notices/{notice['id']}")
    assert first.status_code == 200 and first.headers["etag"].startswith('"')
    assert _directives(first) == {"public", "max-age=60"}
    assert parsedate_to_datetime(first.headers["last-modified"]).tzinfo is not None
    again = await client.get(f"{API}/public/notices/{notice['id']}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    since = await client.get(f"{API}/public/notices/{notice['id']}", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    stale = await client.get(f"{API}/public/notices/{notice['id']}", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.json() == first.json()


async def test_a_record_gets_a_new_etag_with_its_next_release(client):
    b = await s.bureau(client)
    p = await s.published(client, b)
    url = f"{API}/public/ocds/records/{feed.ocid_of(p.id)}"
    first = await client.get(url)
    assert first.status_code == 200
    assert (await client.get(url, headers={"If-None-Match": first.headers["etag"]})).status_code == 304
    modified = parsedate_to_datetime(first.headers["last-modified"])
    assert (await client.get(url, headers={"If-Modified-Since": format_datetime(modified - timedelta(seconds=1), usegmt=True)})).status_code == 200
    await s.bid(client, p, await s.factories.signed_in("vendor"), "880000.00")
    await s.pass_deadline(client, p)  # the opening: a new release
    changed = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    assert len(changed.json()["records"][0]["releases"]) == 2


async def test_public_lists_may_be_cached_a_minute(client):
    for url in ("/public/tenders", "/public/contracts", "/public/notices", "/public/ocds/releases?since=0"):
        response = await client.get(API + url)
        assert response.status_code == 200 and _directives(response) == {"public", "max-age=60"}, url
