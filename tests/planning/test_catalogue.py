"""The guidance catalogue (指导性目录): versions, items, the negative list, publishing, import."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook

from govbuy.settings import get_settings
from planning import service as planning_service
from tests import factories
from tests.procurement import support as s

API = "/api/v1/catalogues"

GOOD_CSV = (
    "code,name,description\n"
    "A,基本公共服务,\n"
    "A01,养老服务,居家和社区养老\n"
    "A0101,居家养老上门服务,助餐助洁助医\n"
    "B,社会管理性服务,\n"
    "B01,社区治理服务,\n"
    "B0101,社区矛盾纠纷调解,\n"
)


async def new_catalogue(client, bureau, year: int = 2026) -> dict:
    region = (await client.get("/api/v1/auth/me", headers=bureau.headers)).json()["organisation"]["region_code"]
    r = await client.post(API, json={"region_code": region, "year": year, "title": f"{year} 目录"}, headers=bureau.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def upload(client, bureau, catalogue_id, name: str, content: bytes):
    return await client.post(
        f"{API}/{catalogue_id}/import", files={"file": (name, content, "application/octet-stream")}, headers=bureau.headers
    )


def xlsx(rows: list[tuple]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def item_count(catalogue_id) -> int:
    from govbuy import database as db

    return await db.fetchval("SELECT count(*) FROM catalogue_items WHERE catalogue_id = $1", catalogue_id)


async def test_new_catalogue_is_a_numbered_draft_of_the_bureaus_region(client):
    bureau = await factories.signed_in("bureau")
    first = await new_catalogue(client, bureau)
    second = await new_catalogue(client, bureau)
    assert (first["status"], first["version_no"], second["version_no"]) == ("draft", 1, 2)
    assert first["region_code"] == "440300"


async def test_bureau_cannot_keep_another_regions_catalogue(client):
    bureau = await factories.signed_in("bureau")
    r = await client.post(API, json={"region_code": "110000", "year": 2026, "title": "x"}, headers=bureau.headers)
    assert (r.status_code, r.json()["code"]) == (422, "catalogue_region_not_yours")


async def test_items_need_their_parent_and_a_valid_code(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    r = await client.post(f"{API}/{cat['id']}/items", json={"code": "A01", "name": "养老服务"}, headers=bureau.headers)
    assert (r.status_code, r.json()["code"]) == (422, "catalogue_parent_missing")
    r = await client.post(f"{API}/{cat['id']}/items", json={"code": "F", "name": "其他"}, headers=bureau.headers)
    assert r.json()["code"] == "unknown_level1_category"
    r = await client.post(f"{API}/{cat['id']}/items", json={"code": "A", "name": "基本公共服务"}, headers=bureau.headers)
    assert r.status_code == 201 and r.json()["level"] == 1
    r = await client.post(f"{API}/{cat['id']}/items", json={"code": "A", "name": "again"}, headers=bureau.headers)
    assert r.json()["code"] == "duplicate_catalogue_code"


async def test_negative_list_item_is_refused(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    await client.post(f"{API}/{cat['id']}/items", json={"code": "E", "name": "辅助性服务"}, headers=bureau.headers)
    r = await client.post(
        f"{API}/{cat['id']}/items", json={"code": "E01", "name": "窗口人员劳务派遣"}, headers=bureau.headers
    )
    assert (r.status_code, r.json()["code"]) == (422, "catalogue_item_in_negative_list")
    assert await item_count(cat["id"]) == 1


async def test_a_refused_item_passes_by_an_override_that_supervisors_see(client):
    bureau = await factories.signed_in("bureau")
    supervisor = await factories.signed_in("supervisor")
    cat = await new_catalogue(client, bureau)
    await client.post(f"{API}/{cat['id']}/items", json={"code": "E", "name": "辅助性服务"}, headers=bureau.headers)
    item = {"code": "E01", "name": "应急救援队伍派遣服务"}

    refused = await client.post(f"{API}/{cat['id']}/items", json=item, headers=bureau.headers)
    problem = refused.json()
    assert (refused.status_code, problem["code"]) == (422, "catalogue_item_in_negative_list")
    assert "'own_staffing.dispatch'" in problem["detail"] and "the purchaser's own staffing" in problem["detail"]
    assert "财政部令第102号 第十条第（五）项" in problem["detail"]
    assert (problem["errors"][0]["category"], problem["errors"][0]["pattern"]) == ("own_staffing", "own_staffing.dispatch")

    vague = await client.post(
        f"{API}/{cat['id']}/items", json={**item, "negative_list_override_reason": "误判"}, headers=bureau.headers
    )
    assert (vague.status_code, vague.json()["code"]) == (422, "negative_list_override_reason_required")

    reason = "承接主体派出自有救援队伍提供现场救援，不是劳务派遣用工"
    r = await client.post(
        f"{API}/{cat['id']}/items", json={**item, "negative_list_override_reason": reason}, headers=bureau.headers
    )
    assert r.status_code == 201, r.text
    override = r.json()["negative_list_override"]
    assert override["reason"] == reason
    assert [(m["pattern"], m["category"], m["matched"]) for m in override["matches"]] == [
        ("own_staffing.dispatch", "own_staffing", "派遣")
    ]

    # Supervisors find the exception on the catalogue, among its items and in the audit log.
    seen = (await client.get(f"{API}/{cat['id']}", headers=supervisor.headers)).json()
    assert seen["negative_list_overrides"] == 1
    overridden = await client.get(
        f"{API}/{cat['id']}/items", params={"negative_list_overridden": "true"}, headers=supervisor.headers
    )
    assert [i["code"] for i in overridden.json()["items"]] == ["E01"]
    events = await client.get(
        "/api/v1/audit-events",
        params={"entity_type": "catalogue_item", "entity_id": r.json()["id"]},
        headers=supervisor.headers,
    )
    audited = {e["action"]: e for e in events.json()["items"]}
    assert audited["catalogue_item.negative_list_overridden"]["after"]["reason"] == reason
    assert audited["catalogue_item.negative_list_overridden"]["actor_username"] == bureau.user.username


async def test_an_import_row_passes_the_negative_list_by_its_override_reason(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    content = (
        "code,name,description,negative_list_override_reason\n"
        "E,政府履职所需辅助性服务,,\n"
        "E01,应急救援服务,,\n"
        "E0101,应急救援队伍派遣服务,,派出自有救援队伍，非劳务派遣用工\n"
    )
    r = await upload(client, bureau, cat["id"], "c.csv", content.encode())
    assert r.status_code == 200, r.text
    assert (r.json()["imported"], r.json()["negative_list_overrides"]) == (3, 1)
    overridden = await client.get(f"{API}/{cat['id']}/items", params={"negative_list_overridden": "true"}, headers=bureau.headers)
    assert [i["negative_list_override"]["matches"][0]["pattern"] for i in overridden.json()["items"]] == ["own_staffing.dispatch"]


async def test_negative_keywords_come_from_the_settings(client, monkeypatch):
    configured = get_settings().model_copy(update={"negative_keywords": ("茶歇",)})
    monkeypatch.setattr(planning_service, "get_settings", lambda: configured)
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    await client.post(f"{API}/{cat['id']}/items", json={"code": "E", "name": "辅助性服务"}, headers=bureau.headers)
    refused = await client.post(f"{API}/{cat['id']}/items", json={"code": "E01", "name": "会议茶歇"}, headers=bureau.headers)
    assert refused.json()["code"] == "catalogue_item_in_negative_list"
    # The default list no longer applies once the bureau configured its own.
    allowed = await client.post(f"{API}/{cat['id']}/items", json={"code": "E02", "name": "劳务派遣"}, headers=bureau.headers)
    assert allowed.status_code == 201


async def test_the_negative_list_may_come_from_a_data_file(client, monkeypatch, tmp_path):
    path = tmp_path / "negative-list.json"
    path.write_text(
        json.dumps([{"id": "goods.tea_break", "category": "goods", "pattern": "茶歇", "why": "refreshments are goods"}]),
        encoding="utf-8",
    )
    configured = get_settings().model_copy(update={"negative_list_file": path})
    monkeypatch.setattr(planning_service, "get_settings", lambda: configured)
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    await client.post(f"{API}/{cat['id']}/items", json={"code": "E", "name": "辅助性服务"}, headers=bureau.headers)
    refused = await client.post(f"{API}/{cat['id']}/items", json={"code": "E01", "name": "会议茶歇"}, headers=bureau.headers)
    assert refused.json()["errors"][0]["pattern"] == "goods.tea_break"
    assert "第十条第（三）项" in refused.json()["detail"]


async def test_publishing_supersedes_the_previous_version_and_freezes_it(client):
    bureau = await factories.signed_in("bureau")
    first, _ = await factories.published_catalogue(bureau, year=2026)
    second = await new_catalogue(client, bureau)
    assert (await upload(client, bureau, second["id"], "c.csv", GOOD_CSV.encode())).status_code == 200
    etag = (await client.get(f"{API}/{second['id']}", headers=bureau.headers)).headers["etag"]
    stale = await client.post(f"{API}/{second['id']}/publish", headers={**bureau.headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    r = await client.post(f"{API}/{second['id']}/publish", headers={**bureau.headers, "If-Match": etag})
    assert r.status_code == 200 and r.json()["status"] == "published"
    old = (await client.get(f"{API}/{first}", headers=bureau.headers)).json()
    assert (old["status"], old["superseded_by"]) == ("superseded", second["id"])
    for target in (first, second["id"]):
        r = await client.post(f"{API}/{target}/items", json={"code": "C", "name": "行业管理"}, headers=bureau.headers)
        assert (r.status_code, r.json()["code"]) == (409, "catalogue_not_draft")
    r = await client.post(f"{API}/{second['id']}/publish", headers=bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "catalogue_not_draft")


async def test_the_database_refuses_to_change_a_published_catalogue_whatever_the_path(client):
    import asyncpg

    from govbuy import database as db

    bureau = await factories.signed_in("bureau")
    catalogue_id, item_id = await factories.published_catalogue(bureau)
    with pytest.raises(asyncpg.CheckViolationError):
        async with db.transaction():
            await db.execute("UPDATE catalogue_items SET name = 'changed' WHERE id = $1", item_id)
    with pytest.raises(asyncpg.CheckViolationError):
        async with db.transaction():
            await db.execute("UPDATE catalogues SET title = 'changed' WHERE id = $1", catalogue_id)


async def test_an_empty_catalogue_is_not_published(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    r = await client.post(f"{API}/{cat['id']}/publish", headers=bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "catalogue_empty")


async def test_drafts_are_seen_only_in_their_region_and_published_versions_by_everyone(client):
    bureau = await factories.signed_in("bureau")
    elsewhere = await factories.signed_in("bureau", await factories.organisation("bureau", region_code="110000"))
    vendor = await factories.signed_in("vendor")
    draft = await new_catalogue(client, bureau)
    published, _ = await factories.published_catalogue(bureau)
    for who in (elsewhere, vendor):
        assert (await client.get(f"{API}/{draft['id']}", headers=who.headers)).status_code == 404
        assert (await client.get(f"{API}/{published}", headers=who.headers)).status_code == 200
        listed = (await client.get(API, headers=who.headers)).json()["items"]
        assert [c["id"] for c in listed] == [str(published)]
    listed = (await client.get(API, params={"status": "draft"}, headers=bureau.headers)).json()["items"]
    assert [c["id"] for c in listed] == [draft["id"]]


async def test_items_are_listed_in_code_order_page_by_page(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    await upload(client, bureau, cat["id"], "c.csv", GOOD_CSV.encode())
    codes, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(f"{API}/{cat['id']}/items", params=params, headers=bureau.headers)).json()
        codes += [i["code"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert codes == ["A", "A01", "A0101", "B", "B01", "B0101"]
    level3 = (await client.get(f"{API}/{cat['id']}/items", params={"level": 3}, headers=bureau.headers)).json()
    assert [i["code"] for i in level3["items"]] == ["A0101", "B0101"]


async def test_removing_an_item_with_children_is_refused(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    await upload(client, bureau, cat["id"], "c.csv", GOOD_CSV.encode())
    items = (await client.get(f"{API}/{cat['id']}/items", headers=bureau.headers)).json()["items"]
    by_code = {i["code"]: i["id"] for i in items}
    r = await client.delete(f"{API}/{cat['id']}/items/{by_code['B01']}", headers=bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "catalogue_item_has_children")
    assert (await client.delete(f"{API}/{cat['id']}/items/{by_code['B0101']}", headers=bureau.headers)).status_code == 204


# --- import ------------------------------------------------------------------------------------


async def test_csv_import_loads_the_whole_catalogue(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    r = await upload(client, bureau, cat["id"], "目录.csv", GOOD_CSV.encode())
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 6 and r.json()["by_level"] == {"1": 2, "2": 2, "3": 2}
    assert await item_count(cat["id"]) == 6


async def test_xlsx_import_with_chinese_headers(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    content = xlsx([("编码", "名称", "说明"), ("D", "技术性服务", None), ("D01", "信息化运维", None), ("D0101", "政务系统运维服务", "7×24")])
    r = await upload(client, bureau, cat["id"], "catalogue.xlsx", content)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 3


async def test_gb18030_csv_from_excel_is_read(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    r = await upload(client, bureau, cat["id"], "c.csv", GOOD_CSV.encode("gb18030"))
    assert r.status_code == 200 and r.json()["imported"] == 6


async def test_a_bad_row_is_reported_by_number_and_nothing_is_imported(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    audit_before = await s.audit_count()
    content = (
        "code,name,description\n"
        "A,基本公共服务,\n"
        "A1,养老服务,\n"  # row 3: not a code
        "A01,养老服务,\n"
        "A0101,养老设备采购,\n"  # row 5: goods are on the negative list
        ",,\n"
        "A0102,,\n"  # row 7: no name
    )
    r = await upload(client, bureau, cat["id"], "c.csv", content.encode())
    assert (r.status_code, r.json()["code"]) == (422, "catalogue_import_invalid")
    assert sorted({e["row"] for e in r.json()["errors"]}) == [3, 5, 7]
    assert "nothing was imported" in r.json()["detail"]
    assert await item_count(cat["id"]) == 0
    assert await s.audit_count() == audit_before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("catalogue.xlsx", b"this is not a workbook"),
        ("catalogue.xlsx", b"PK\x03\x04" + b"\x00broken zip" * 20),
        ("catalogue.csv", b"\x00\x01\x02binary\x00"),
        ("catalogue.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel"),
        ("catalogue.csv", "编号,标题\nA,基本公共服务\n".encode()),  # no code/name header
        ("catalogue.csv", b""),
    ],
)
async def test_a_malformed_file_is_422_and_imports_nothing(client, name, content):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    audit_before = await s.audit_count()
    r = await upload(client, bureau, cat["id"], name, content)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_import_file"), r.text
    assert await item_count(cat["id"]) == 0
    assert await s.audit_count() == audit_before


async def test_a_file_above_the_upload_limit_is_413_and_imports_nothing(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    audit_before = await s.audit_count()
    limit = get_settings().max_upload_bytes
    content = GOOD_CSV.encode() + b"#" * (limit + 1 - len(GOOD_CSV.encode()))
    r = await upload(client, bureau, cat["id"], "c.csv", content)
    assert (r.status_code, r.json()["code"]) == (413, "import_file_too_large")
    assert await item_count(cat["id"]) == 0
    assert await s.audit_count() == audit_before


async def test_a_body_far_above_the_limit_is_refused_before_it_is_read(client):
    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    content = b"x" * (get_settings().max_upload_bytes + 200_000)
    r = await upload(client, bureau, cat["id"], "c.csv", content)
    assert r.status_code == 413
    assert await item_count(cat["id"]) == 0


async def test_import_into_a_published_catalogue_is_refused(client):
    bureau = await factories.signed_in("bureau")
    catalogue_id, _ = await factories.published_catalogue(bureau)
    r = await upload(client, bureau, catalogue_id, "c.csv", GOOD_CSV.encode())
    assert (r.status_code, r.json()["code"]) == (409, "catalogue_not_draft")


async def test_cli_import_reports_progress_and_writes_everything(client, tmp_path):
    from planning import cli

    bureau = await factories.signed_in("bureau")
    cat = await new_catalogue(client, bureau)
    path = tmp_path / "catalogue.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    seen: list[tuple[str, int, int | None]] = []
    result = await cli.import_file(path, catalogue_id=cat["id"], progress=lambda *a: seen.append(a))
    assert result.imported == 6
    assert ("writing", 6, 6) in seen
    assert await item_count(cat["id"]) == 6
