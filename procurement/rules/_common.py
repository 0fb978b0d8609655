"""What every stage's rules share: small error helpers and the procurement methods."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from govbuy.rules import (
    SHANGHAI,
    RuleViolation,
    as_decimal,
)

HUNDRED = Decimal(100)


# --- small helpers -------------------------------------------------------------------------


def _error(field_name: str, message: str) -> dict[str, Any]:
    return {"field": field_name, "message": message}


def _invalid(code: str, field_name: str, message: str) -> RuleViolation:
    return RuleViolation(code, message, errors=[_error(field_name, message)])


# The budget section below still says `_as_decimal`; it is moving to planning/, and takes the
# kernel's name there.
_as_decimal = as_decimal


def _require_aware(moment: Any, field_name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise _invalid(
            "timezone_required", field_name, f"{field_name} must be a date-time with a UTC offset"
        )
    return moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat()


# --- tenders -------------------------------------------------------------------------------


class Method(StrEnum):
    PUBLIC_TENDER = "public_tender"
    INVITED_TENDER = "invited_tender"
    COMPETITIVE_NEGOTIATION = "competitive_negotiation"
    COMPETITIVE_CONSULTATION = "competitive_consultation"
    INQUIRY = "inquiry"
    SINGLE_SOURCE = "single_source"

    @property
    def label(self) -> str:
        return _METHOD_LABELS[self]


_METHOD_LABELS: Mapping[Method, str] = {
    Method.PUBLIC_TENDER: "公开招标",
    Method.INVITED_TENDER: "邀请招标",
    Method.COMPETITIVE_NEGOTIATION: "竞争性谈判",
    Method.COMPETITIVE_CONSULTATION: "竞争性磋商",
    Method.INQUIRY: "询价",
    Method.SINGLE_SOURCE: "单一来源",
}


def _method(value: Any) -> Method:
    try:
        return Method(value)
    except ValueError:
        raise _invalid(
            "invalid_method", "method", f"{value!r} is not a procurement method"
        ) from None

