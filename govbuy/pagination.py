"""Keyset pagination: opaque cursors over (sort key, id) and the page envelope of every list."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from govbuy.database import json_default
from govbuy.rules import RuleViolation

T = TypeVar("T")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), default=json_default, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RuleViolation("invalid_cursor", "the cursor is not one this service issued") from exc
    if not isinstance(values, list) or not values:
        raise RuleViolation("invalid_cursor", "the cursor is not one this service issued")
    return values


def typed_cursor(cursor: str | None, *kinds: type) -> list[Any]:
    """The values of a cursor, typed (datetime, UUID, int, str); [None, …] without a cursor."""
    values = decode_cursor(cursor)
    if values is None:
        return [None] * len(kinds)
    if len(values) != len(kinds):
        raise RuleViolation("invalid_cursor", "the cursor is not one this service issued")
    typed: list[Any] = []
    for value, kind in zip(values, kinds):
        try:
            typed.append(datetime.fromisoformat(value) if kind is datetime else kind(value))
        except (TypeError, ValueError) as exc:
            raise RuleViolation("invalid_cursor", "the cursor is not one this service issued") from exc
    return typed


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise RuleViolation("invalid_limit", f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def page(rows: Sequence[Any], limit: int, key: Callable[[Any], Sequence[Any]], item: Callable[[Any], T]) -> Page[T]:
    """Build a page from up to limit + 1 rows fetched in cursor order."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[item(r) for r in rows],
        next_cursor=encode_cursor(key(rows[-1])) if more and rows else None,
    )
