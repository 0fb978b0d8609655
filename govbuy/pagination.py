"""Keyset pagination: opaque cursors over (sort key, id), the one codec that reads them back,
and the page envelope of every list."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

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


#: The longest cursor this service issues, an organisation's name of 200 Chinese characters
#: (each \uXXXX in JSON) and an id, is about 1 700 characters.
MAX_CURSOR_LENGTH = 2048
_INT64 = range(-(2**63), 2**63)


def _not_issued(detail: str = "the cursor is not one this service issued") -> RuleViolation:
    return RuleViolation("invalid_cursor", detail)


def _decode(cursor: str) -> list[Any]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _not_issued(f"the cursor is longer than {MAX_CURSOR_LENGTH} characters")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (ValueError, UnicodeDecodeError) as exc:  # binascii.Error and JSONDecodeError are ValueErrors
        raise _not_issued() from exc
    if not isinstance(values, list):
        raise _not_issued()
    return values


def _typed(value: Any, kind: type) -> Any:
    """One value of a cursor as the kind its list sorts by, or ValueError."""
    if kind is int:
        if type(value) is not int or value not in _INT64:
            raise ValueError("not a 64-bit integer")
        return value
    if not isinstance(value, str):
        raise ValueError("not text")
    if kind is str:
        value.encode()  # a lone surrogate cannot reach the database
        if "\x00" in value:
            raise ValueError("NUL in text")
        return value
    if kind is datetime:
        instant = datetime.fromisoformat(value)
        if instant.tzinfo is None:
            raise ValueError("an instant without its offset")
        instant.astimezone(UTC)  # OverflowError at the edges of the calendar
        return instant
    if kind is date:
        return date.fromisoformat(value)
    if kind is UUID:
        return UUID(value)
    raise TypeError(f"a cursor holds no {kind.__name__}")


def typed_cursor(cursor: str | None, *kinds: type) -> list[Any]:
    """The values of a list's cursor, each of the kind the list sorts by (datetime, date, UUID,
    int, str), in order; [None, …] without a cursor. The one way a cursor is read: anything
    this service did not issue — too long, not base64 or JSON, of the wrong length, a value of
    the wrong kind — is 422 `invalid_cursor`, before the list touches the database."""
    if not cursor:
        return [None] * len(kinds)
    values = _decode(cursor)
    if len(values) != len(kinds):
        raise _not_issued()
    try:
        return [_typed(value, kind) for value, kind in zip(values, kinds)]
    except (ValueError, OverflowError) as exc:  # UnicodeEncodeError is a ValueError
        raise _not_issued() from exc


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
