"""The document store (文件): uploaded evidence — deliverable reports, evaluation evidence — kept
by the SHA-256 of its content.

- The bytes live in a `DocumentStore`: a local folder by default (`settings.data_dir/documents`),
  any object store in production (an S3 implementation needs only `put`, `get`, `exists`).
  The same content is stored once, however many times or by whom it is uploaded.
- The path of a blob is derived from its hash alone (`ab/cd/abcd…`), never from a name the
  client sent, and a hash is checked against `^[0-9a-f]{64}$` before it touches the file system.
- Uploads are accepted by what their bytes are (magic numbers, via `filetype`), not by their
  name or declared type: PDF, common images and Office documents; anything else is 415.
- The `documents` table records who uploaded what (sha256, size, media type, original name,
  uploader, organisation): one row per organisation that uploaded the content.
- Domains attach documents to their records (`attach`, in the record's transaction) and say
  who may see an entity of theirs (`register_visibility`); a document can be read by the
  organisation that uploaded it, by admins and supervisors, and by whoever may see an entity it
  is attached to. Anyone else gets 404. This module imports no domain.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Protocol
from urllib.parse import quote
from uuid import UUID, uuid4

import filetype
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath

from govbuy import audit, clock, offload
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.auth import ROLES, any_signed_in, requires
from govbuy.errors import NotFound
from govbuy.rules import RuleViolation
from govbuy.schemas import Output
from govbuy.settings import get_settings

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MAX_NAME_LENGTH = 255

#: What may be uploaded, by the media type `filetype` reads from the content.
ALLOWED_MEDIA_TYPES: dict[str, str] = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/tiff": "tif",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}

# The multipart envelope around the file (boundaries, part headers) is allowed on top of the
# file's own limit, so that a file of exactly the limit is accepted.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Every role uploads but the supervisor, who reads everything and writes nothing (DESIGN §1).
UPLOADER_ROLES = tuple(r for r in ROLES if r != "supervisor")


def is_sha256(value: str) -> bool:
    return bool(SHA256_PATTERN.fullmatch(value))


def check_sha256(value: str) -> str:
    """A document id as given by a client: 64 lowercase hex digits, else 404."""
    if not isinstance(value, str) or not is_sha256(value):
        raise NotFound("document", value if isinstance(value, str) and len(value) <= 64 else None)
    return value


# --- the store -------------------------------------------------------------------------------


class DocumentStore(Protocol):
    """Content-addressed blob storage: the key of a blob is the SHA-256 of its bytes."""

    async def put(self, content: bytes) -> str:
        """Store `content` (once) and return its SHA-256."""
        ...

    async def get(self, sha256: str) -> bytes:
        """The bytes stored under `sha256`; `FileNotFoundError` if there are none."""
        ...

    async def exists(self, sha256: str) -> bool: ...


class LocalDocumentStore:
    """Blobs in a local folder, at `root/ab/cd/<sha256>`: the path comes from the hash only."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put(self, content: bytes) -> str:
        # Hashing megabytes is work for the thread too (hashlib lets go of the GIL), not the loop.
        return await asyncio.to_thread(self._write, content)

    def _write(self, content: bytes) -> str:
        sha256 = hashlib.sha256(content).hexdigest()
        target = self.path_for(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file beside the target, then rename: readers never see half a blob,
        # and two concurrent uploads of the same content both end with the one complete file.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(temp, 0o640)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return sha256

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._read, sha256)

    def _read(self, sha256: str) -> bytes:
        content = self.path_for(sha256).read_bytes()
        if hashlib.sha256(content).hexdigest() != sha256:
            # A blob that no longer matches its name was altered on disk: never serve it.
            raise FileNotFoundError(f"document {sha256} is corrupt")
        return content

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.path_for(sha256).is_file)


_store: DocumentStore | None = None


def get_store() -> DocumentStore:
    global _store
    if _store is None:
        _store = LocalDocumentStore(get_settings().data_dir / "documents")
    return _store


def set_store(store: DocumentStore | None) -> None:
    """Use another store (an object store in production); None goes back to the default."""
    global _store
    _store = store


# --- content checks ----------------------------------------------------------------------------


# What `filetype` reads of a file to judge its type (filetype.utils.get_bytes): the child that
# judges an upload is sent no more than this.
SNIFF_BYTES = 8192


def detect_media_type(content: bytes) -> str:
    """The media type of an upload, read from its bytes; refuses what is not allowed (415).
    Runs in a child process (`sniff_media_type`): it parses what a client sent."""
    kind = filetype.guess(content)
    if kind is None or kind.mime not in ALLOWED_MEDIA_TYPES:
        found = f"its content is {kind.mime}" if kind is not None else "its content is not a recognised type"
        raise RuleViolation(
            "unsupported_file_type",
            f"Only PDF, images (JPEG, PNG, GIF, WebP, TIFF) and Office documents may be uploaded; {found}.",
            status=415,
            errors=[{"field": "file", "message": "file type is judged by content, not by name"}],
        )
    return kind.mime


async def sniff_media_type(content: bytes) -> str:
    """`detect_media_type` off the event loop, under the parse caps (govbuy.offload)."""
    return await offload.run(detect_media_type, content[:SNIFF_BYTES], subject="document")


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise RuleViolation(
            "payload_too_large",
            f"The file is {size} bytes; at most {limit} bytes may be uploaded.",
            status=413,
        )
    if size == 0:
        raise RuleViolation(
            "empty_file", "The file is empty.", errors=[{"field": "file", "message": "no content"}]
        )


def clean_name(name: str | None, media_type: str) -> str:
    """The client's file name for display only: no directories, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = base.strip().strip(".")[:MAX_NAME_LENGTH]
    return base or f"document.{ALLOWED_MEDIA_TYPES[media_type]}"


# --- records -----------------------------------------------------------------------------------


class DocumentRead(Output):
    sha256: str
    size: int
    media_type: str
    original_name: str
    uploaded_by: UUID
    organisation_id: UUID
    uploaded_at: datetime


_COLUMNS = "sha256, size, media_type, original_name, uploaded_by, organisation_id, uploaded_at"


async def store_upload(actor: Actor, content: bytes, original_name: str | None) -> tuple[DocumentRead, bool]:
    """Store an upload for the actor's organisation; `True` when this organisation had not
    uploaded the content before (the blob itself is stored once whoever uploads it)."""
    check_size(len(content), get_settings().max_upload_bytes)
    media_type = await sniff_media_type(content)
    sha256 = await get_store().put(content)
    async with db.transaction():
        row = await db.fetchrow(
            f"""INSERT INTO documents (id, sha256, size, media_type, original_name, uploaded_by,
                                       organisation_id, uploaded_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (sha256, organisation_id) DO NOTHING
                RETURNING {_COLUMNS}""",
            uuid4(),
            sha256,
            len(content),
            media_type,
            clean_name(original_name, media_type),
            actor.user_id,
            actor.organisation_id,
            await clock.now(),
        )
        if row is None:
            existing = await db.fetchrow(
                f"SELECT {_COLUMNS} FROM documents WHERE sha256 = $1 AND organisation_id = $2",
                sha256,
                actor.organisation_id,
            )
            return DocumentRead.model_validate(dict(existing)), False
        result = DocumentRead.model_validate(dict(row))
        await audit.record(actor, "document.uploaded", "document", sha256, after=result.model_dump())
    return result, True


# Visibility of the entities documents are attached to: entity type → "may this actor see any of
# these entities?". The app factory registers the domains' checks; the kernel never imports them.
VisibilityCheck = Callable[[Actor, Sequence[UUID]], Awaitable[bool]]
_visibility: dict[str, VisibilityCheck] = {}


def register_visibility(entity_type: str, check: VisibilityCheck) -> None:
    _visibility[entity_type] = check


async def attach(actor: Actor, sha256s: Iterable[str], entity_type: str, entity_id: UUID) -> list[str]:
    """Attach documents the actor's organisation uploaded to an entity; run inside the
    entity's transaction. Unknown or foreign documents are refused (422), listing each."""
    wanted = list(dict.fromkeys(sha256s))
    if not wanted:
        return []
    malformed = [s for s in wanted if not is_sha256(s)]
    owned = {
        r["sha256"]
        for r in await db.fetch(
            "SELECT sha256 FROM documents WHERE organisation_id = $1 AND sha256 = ANY($2::text[])",
            actor.organisation_id,
            [s for s in wanted if s not in malformed],
        )
    }
    missing = [s for s in wanted if s not in owned]
    now = await clock.now()
    if missing:
        raise RuleViolation(
            "document_not_found",
            "Attach documents your organisation has uploaded (POST /api/v1/documents) by their sha256.",
            errors=[{"field": "document_ids", "message": f"{s[:64]} is not one of your documents"} for s in missing],
        )
    await db.executemany(
        """INSERT INTO document_links (sha256, entity_type, entity_id, organisation_id, linked_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        [(s, entity_type, entity_id, actor.organisation_id, now) for s in wanted],
    )
    return wanted


async def detach_all_but(entity_type: str, entity_id: UUID, keep: Sequence[str]) -> None:
    """Drop an entity's links to documents not in `keep` (when its list of documents is replaced)."""
    await db.execute(
        "DELETE FROM document_links WHERE entity_type = $1 AND entity_id = $2 AND NOT (sha256 = ANY($3::text[]))",
        entity_type,
        entity_id,
        list(keep),
    )


async def _may_read(actor: Actor, sha256: str) -> DocumentRead | None:
    """The record to show the actor for a document, or None if the actor may not see it."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM documents WHERE sha256 = $1 ORDER BY uploaded_at, id", sha256
    )
    if not rows:
        return None
    own = next((r for r in rows if r["organisation_id"] == actor.organisation_id), None)
    if own is not None:
        return DocumentRead.model_validate(dict(own))
    if actor.role in ("admin", "supervisor"):
        return DocumentRead.model_validate(dict(rows[0]))
    links = await db.fetch(
        "SELECT entity_type, entity_id, organisation_id FROM document_links WHERE sha256 = $1", sha256
    )
    by_type: dict[str, list[UUID]] = {}
    for link in links:
        by_type.setdefault(link["entity_type"], []).append(link["entity_id"])
    for entity_type, ids in by_type.items():
        check = _visibility.get(entity_type)
        if check is not None and await check(actor, ids):
            attached_by = {link["organisation_id"] for link in links if link["entity_type"] == entity_type}
            shown = next((r for r in rows if r["organisation_id"] in attached_by), rows[0])
            return DocumentRead.model_validate(dict(shown))
    return None


async def describe(actor: Actor, sha256: str) -> DocumentRead:
    record = await _may_read(actor, check_sha256(sha256))
    if record is None:
        raise NotFound("document", sha256)
    return record


async def read_document(actor: Actor, sha256: str) -> tuple[DocumentRead, bytes]:
    record = await describe(actor, sha256)
    try:
        content = await get_store().get(sha256)
    except FileNotFoundError as exc:
        raise RuleViolation(
            "document_unavailable", "The document's content is not available.", status=503
        ) from exc
    return record, content


# --- endpoints -----------------------------------------------------------------------------------


@dataclass
class DocumentUpload:
    """The multipart form of an upload: one part named `file`."""

    file: UploadFile


def _upload_body_limit() -> int:
    return get_settings().max_upload_bytes + MULTIPART_OVERHEAD_BYTES


class DocumentController(Controller):
    path = "/api/v1/documents"
    tags = ["documents"]

    @post(
        "/",
        guards=[requires(*UPLOADER_ROLES)],
        request_max_body_size=_upload_body_limit(),
        responses={
            200: ResponseSpec(
                data_container=DocumentRead,
                description="your organisation had already uploaded this content: its existing record",
            )
        },
    )
    async def upload(
        self,
        request: Request,
        data: Annotated[DocumentUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[DocumentRead]:
        """Upload a document (multipart, part `file`): PDF, image or Office file, judged by its
        content; returns its sha256, the id to attach it by. 201 when new to your organisation,
        200 when your organisation had already uploaded the same content."""
        content = await data.file.read()
        record, created = await store_upload(request.user, content, data.file.filename)
        return Response(record, status_code=201 if created else 200, headers={"ETag": f'"{record.sha256}"'})

    @get("/{sha256:str}/meta", guards=[any_signed_in])
    async def meta(self, request: Request, sha256: FromPath[str]) -> DocumentRead:
        """A document's record (size, type, original name, uploader), for those who may see it."""
        return await describe(request.user, sha256)

    @get("/{sha256:str}", guards=[any_signed_in])
    async def download(self, request: Request, sha256: FromPath[str]) -> Response[bytes]:
        """A document's content, for its uploader's organisation, admins, supervisors and whoever
        may see a record it is attached to; 404 for everyone else."""
        record, content = await read_document(request.user, sha256)
        return Response(
            content,
            media_type=record.media_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(record.original_name)}",
                "ETag": f'"{record.sha256}"',
                "X-Content-SHA256": record.sha256,
            },
        )
