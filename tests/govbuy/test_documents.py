"""The document store: uploads judged by content, size-limited, stored once by SHA-256 under a
path derived from the hash only, and readable only by those who may see what they are
attached to."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from govbuy import database as db
from govbuy import documents
from govbuy.settings import get_settings
from tests import factories

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program cannot be run in DOS mode"


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


async def upload(client, who, content: bytes, name: str = "report.pdf", media_type: str = "application/pdf"):
    return await client.post("/api/v1/documents", files={"file": (name, content, media_type)}, headers=who.headers)


async def test_an_upload_is_stored_by_its_hash_and_returned_with_it(client):
    vendor = await factories.fast_user("vendor")
    r = await upload(client, vendor, PDF)
    assert r.status_code == 201, r.text
    body = r.json()
    sha = hashlib.sha256(PDF).hexdigest()
    assert body["sha256"] == sha
    assert (body["size"], body["media_type"], body["original_name"]) == (len(PDF), "application/pdf", "report.pdf")
    assert body["organisation_id"] == str(vendor.organisation_id)
    path = get_settings().data_dir / "documents" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == PDF
    got = await client.get(f"/api/v1/documents/{sha}", headers=vendor.headers)
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["content-type"].startswith("application/pdf")
    assert got.headers["x-content-sha256"] == sha
    assert got.headers["content-disposition"].startswith("attachment;")


async def test_office_files_and_images_are_accepted_by_their_content(client):
    vendor = await factories.fast_user("vendor")
    r = await upload(client, vendor, docx(), "服务记录.docx", "application/octet-stream")
    assert r.status_code == 201, r.text
    assert r.json()["media_type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert r.json()["original_name"] == "服务记录.docx"
    # a PNG sent under a PDF name is stored as what it is
    r = await upload(client, vendor, PNG, "photo.pdf")
    assert r.status_code == 201
    assert r.json()["media_type"] == "image/png"


async def test_the_same_file_twice_is_stored_once(client):
    vendor = await factories.fast_user("vendor")
    other = await factories.fast_user("vendor")
    first = await upload(client, vendor, PDF, "a.pdf")
    again = await upload(client, vendor, PDF, "b.pdf")
    theirs = await upload(client, other, PDF, "c.pdf")
    assert (first.status_code, again.status_code, theirs.status_code) == (201, 200, 201)
    assert again.json()["original_name"] == "a.pdf"
    assert first.json()["sha256"] == again.json()["sha256"] == theirs.json()["sha256"]
    sha = first.json()["sha256"]
    folder = get_settings().data_dir / "documents" / sha[:2] / sha[2:4]
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == [sha]
    assert await db.fetchval("SELECT count(*) FROM documents WHERE sha256 = $1", sha) == 2


async def test_a_renamed_executable_is_refused_and_nothing_is_written(client):
    vendor = await factories.fast_user("vendor")
    r = await upload(client, vendor, EXE, "invoice.pdf", "application/pdf")
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_file_type"
    assert "application/x-msdownload" in r.json()["detail"]
    sha = hashlib.sha256(EXE).hexdigest()
    assert not (get_settings().data_dir / "documents" / sha[:2] / sha[2:4] / sha).exists()
    assert await db.fetchval("SELECT count(*) FROM documents") == 0


async def test_text_pretending_to_be_a_pdf_is_refused(client):
    vendor = await factories.fast_user("vendor")
    r = await upload(client, vendor, b"<script>alert(1)</script>", "x.pdf")
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_file_type"


async def test_an_upload_over_the_size_limit_is_413_and_nothing_is_written(client):
    vendor = await factories.fast_user("vendor")
    limit = get_settings().max_upload_bytes
    content = PDF + b"\x00" * (limit + 1 - len(PDF))
    r = await upload(client, vendor, content)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    sha = hashlib.sha256(content).hexdigest()
    assert not (get_settings().data_dir / "documents" / sha[:2] / sha[2:4] / sha).exists()
    assert await db.fetchval("SELECT count(*) FROM documents") == 0


async def test_a_body_far_over_the_limit_is_cut_off_with_413(client):
    vendor = await factories.fast_user("vendor")
    content = PDF + b"\x00" * (get_settings().max_upload_bytes + documents.MULTIPART_OVERHEAD_BYTES + 1)
    r = await upload(client, vendor, content)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


async def test_an_empty_file_and_a_missing_part_are_refused(client):
    vendor = await factories.fast_user("vendor")
    assert (await upload(client, vendor, b"")).status_code == 422
    r = await client.post("/api/v1/documents", files={"other": ("a.pdf", PDF, "application/pdf")}, headers=vendor.headers)
    assert r.status_code in (400, 422)


async def test_a_supervisor_cannot_upload(client):
    supervisor = await factories.fast_user("supervisor")
    assert (await upload(client, supervisor, PDF)).status_code == 403


async def test_a_document_is_hidden_from_other_organisations(client):
    vendor = await factories.fast_user("vendor")
    other = await factories.fast_user("vendor")
    sha = (await upload(client, vendor, PDF)).json()["sha256"]
    assert (await client.get(f"/api/v1/documents/{sha}", headers=other.headers)).status_code == 404
    assert (await client.get(f"/api/v1/documents/{sha}/meta", headers=other.headers)).status_code == 404
    supervisor = await factories.fast_user("supervisor")
    assert (await client.get(f"/api/v1/documents/{sha}", headers=supervisor.headers)).status_code == 200


@pytest.mark.parametrize("bad", ["..%2F..%2Fsecret_key", "ABCDEF" + "0" * 58, "0" * 63, "0" * 64 + "/x"])
async def test_a_malformed_document_id_is_404_and_never_reaches_the_file_system(client, bad):
    vendor = await factories.fast_user("vendor")
    r = await client.get(f"/api/v1/documents/{bad}", headers=vendor.headers)
    assert r.status_code == 404


def test_the_path_of_a_blob_is_derived_from_its_hash_only(tmp_path):
    store = documents.LocalDocumentStore(tmp_path)
    sha = "ab" + "c" * 62
    assert store.path_for(sha) == tmp_path / "ab" / "cc" / sha
    for bad in ("../" + "a" * 61, "A" * 64, "a" * 65, "", "a" * 63 + "/"):
        with pytest.raises(ValueError):
            store.path_for(bad)


async def test_a_blob_altered_on_disk_is_not_served(tmp_path):
    store = documents.LocalDocumentStore(tmp_path)
    sha = await store.put(PDF)
    assert await store.exists(sha)
    assert await store.get(sha) == PDF
    store.path_for(sha).write_bytes(PDF + b"tampered")
    with pytest.raises(FileNotFoundError):
        await store.get(sha)


async def test_documents_attached_to_a_deliverable_are_readable_by_the_contract_bureau(client):
    award, contract = await factories.contract_from_award(client)
    sha = (await upload(client, award.vendor, PDF)).json()["sha256"]
    assert (await client.get(f"/api/v1/documents/{sha}", headers=award.bureau.headers)).status_code == 404
    await factories.deliver_milestone(client, award, contract["id"], contract["milestones"][0]["id"], document_ids=[sha])
    r = await client.get(f"/api/v1/documents/{sha}", headers=award.bureau.headers)
    assert r.status_code == 200 and r.content == PDF
    stranger = await factories.fast_user("bureau")
    assert (await client.get(f"/api/v1/documents/{sha}", headers=stranger.headers)).status_code == 404
