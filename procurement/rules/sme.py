"""Small and medium enterprises in a purchase of services (政府采购促进中小企业发展管理办法,
财库〔2020〕46号, as amended by 财库〔2022〕19号).

- Only enterprises are SMEs (46号 Art. 2: 依法设立的企业, sized by 工信部联企业〔2011〕300号). A
  bidder declares its size with its bid (中小企业声明函, Art. 11); a social organisation, a public
  institution or any other non-enterprise declares nothing.
- 监狱企业 count as small or micro enterprises (财库〔2014〕68号 Art. 2) and so do 残疾人福利性单位
  (财库〔2017〕141号 Art. 3), which need not be enterprises.
- A tender is either reserved for SMEs (专门面向中小企业, Art. 8), when bids of others are refused,
  or — not reserved — deducts a small or micro enterprise's price by the tender's rate, 10–20 %
  for services (Art. 9 as amended by 财库〔2022〕19号 Art. 2), **for the evaluation only**: the
  price score and the lowest-price ranking use the evaluated price; the award and the contract
  are at the bid price. A reserved tender deducts nothing.
- A false declaration is 提供虚假材料谋取中标 (Art. 20; 政府采购法 Art. 77): the vendor goes on the
  procurement blacklist.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from govbuy.rules import RuleViolation, as_decimal, conflict

DECLARATIONS = {
    "medium": "中型企业",
    "small": "小型企业",
    "micro": "微型企业",
    "prison_enterprise": "监狱企业（视同小型、微型企业）",
    "disability_welfare_unit": "残疾人福利性单位（视同小型、微型企业）",
}
SMALL_OR_MICRO = frozenset({"small", "micro", "prison_enterprise", "disability_welfare_unit"})
SME = SMALL_OR_MICRO | {"medium"}
# Declarations only an enterprise can make; a 残疾人福利性单位 may be of any kind.
ENTERPRISE_ONLY = frozenset({"medium", "small", "micro", "prison_enterprise"})

DEDUCTION_MIN = Decimal(10)
DEDUCTION_MAX = Decimal(20)
# The deduction is mandatory in a tender not reserved (46号 Art. 9: 应当); when the bureau sets
# none, the smallest the rule allows applies.
DEFAULT_DEDUCTION = DEDUCTION_MIN


@dataclass(frozen=True)
class SmePolicy:
    reserved: bool
    price_deduction_percent: Decimal  # 0 when reserved


def validate_sme_policy(reserved: bool, price_deduction_percent: Any = None) -> SmePolicy:
    """A tender's SME policy: reserved with no deduction, or a deduction of 10–20 %."""
    percent = as_decimal(price_deduction_percent) if price_deduction_percent is not None else None
    if price_deduction_percent is not None and percent is None:
        raise _policy_error("must be a number of percent")
    if reserved:
        if percent:
            raise RuleViolation(
                "sme_deduction_with_reservation",
                "a tender reserved for SMEs (专门面向中小企业) deducts no price (财库〔2020〕46号 Art. 9)",
                errors=[{"field": "sme.price_deduction_percent", "message": "not allowed when reserved"}],
            )
        return SmePolicy(True, Decimal(0))
    if percent is None:
        percent = DEFAULT_DEDUCTION
    if not DEDUCTION_MIN <= percent <= DEDUCTION_MAX or percent != percent.quantize(Decimal("0.01")):
        raise _policy_error(f"must be between {DEDUCTION_MIN} and {DEDUCTION_MAX} percent for services")
    return SmePolicy(False, percent)


def _policy_error(message: str) -> RuleViolation:
    return RuleViolation(
        "invalid_price_deduction",
        "the small and micro enterprise price deduction is 10–20 % for services (财库〔2022〕19号 Art. 2)",
        errors=[{"field": "sme.price_deduction_percent", "message": message}],
    )


def check_declaration(vendor_type: str, declaration: str | None) -> str | None:
    """A bidder's size declaration (声明函), checked against what it is."""
    if declaration is None:
        return None
    if declaration not in DECLARATIONS:
        raise RuleViolation(
            "invalid_sme_declaration",
            f"{declaration!r} is not a size",
            errors=[{"field": "sme_declaration", "message": "one of " + ", ".join(DECLARATIONS)}],
        )
    if declaration in ENTERPRISE_ONLY and vendor_type != "enterprise":
        raise RuleViolation(
            "sme_declaration_not_allowed",
            "only an enterprise declares a size (财库〔2020〕46号 Art. 2); a social organisation or an "
            "institution declares nothing, unless it is a 残疾人福利性单位",
            errors=[{"field": "sme_declaration", "message": f"not for a {vendor_type}"}],
        )
    return declaration


def check_reservation(policy: SmePolicy, declaration: str | None) -> None:
    """A tender reserved for SMEs takes bids only from those that declare themselves one."""
    if policy.reserved and declaration not in SME:
        raise conflict(
            "tender_reserved_for_smes",
            "the tender is reserved for small and medium enterprises (专门面向中小企业, 财库〔2020〕46号 Art. 8): "
            "declare the bidder's size, or do not bid",
            errors=[{"field": "sme_declaration", "message": "required: medium, small, micro or an equivalent"}],
        )


def deduction_percent(policy: SmePolicy, declaration: str | None) -> Decimal:
    """The deduction a bid's price gets in the evaluation: the tender's rate for a small or
    micro enterprise (or an equivalent) in a tender not reserved, else none."""
    if policy.reserved or declaration not in SMALL_OR_MICRO:
        return Decimal("0.00")
    return policy.price_deduction_percent.quantize(Decimal("0.01"))


def evaluated_price(price: Decimal, percent: Decimal) -> Decimal:
    """The price the evaluation uses (评审价): the bid price less the deduction, to the fen
    (half up). The award and the contract stay at the bid price."""
    if not percent:
        return price
    return (price * (Decimal(100) - percent) / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
