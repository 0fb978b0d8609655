"""Planning rules: the guidance catalogue (指导性目录) and the budget arithmetic (先有预算、后购买服务).

Pure functions, enums and frozen dataclasses: no I/O, no database, no project imports but
`govbuy.rules`. The service layer loads state, calls these and persists what they return.

Sources: 《政府购买服务管理办法》(财政部令第102号): Art. 10 the negative list (负面清单) of what may
not be bought as a service, Art. 14 the budget first (先有预算、后购买服务).

Error codes (422 bad input unless marked 409 state conflict). Those named in DESIGN.md are
part of the API contract and spelled exactly as there.

Catalogue
  invalid_catalogue_code, unknown_level1_category, catalogue_item_name_required,
  duplicate_catalogue_code, catalogue_parent_missing, catalogue_item_in_negative_list,
  catalogue_import_invalid (one error per bad row), catalogue_import_empty,
  catalogue_item_not_level3, catalogue_item_out_of_scope,
  catalogue_not_draft (409), catalogue_not_published (409), invalid_status_transition (409)
Budget
  invalid_amount, budget_insufficient (409), budget_release_exceeds_reserved (409),
  contract_exceeds_reservation (409), budget_release_exceeds_unspent (409),
  budget_overspent (409), budget_amount_below_allocated (409)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from govbuy.rules import RuleViolation, as_decimal, conflict, has_at_most_two_places


def _error(field_name: str, message: str) -> dict[str, Any]:
    return {"field": field_name, "message": message}


def _invalid(code: str, field_name: str, message: str) -> RuleViolation:
    return RuleViolation(code, message, errors=[_error(field_name, message)])


# --- catalogue (指导性目录) ----------------------------------------------------------------

LEVEL1_CATEGORIES: Mapping[str, str] = {
    "A": "基本公共服务",
    "B": "社会管理性服务",
    "C": "行业管理与协调性服务",
    "D": "技术性服务",
    "E": "政府履职所需辅助性服务",
}

# One uppercase letter, then one or two levels of two digits 01–99 ("00" is no item).
_CATALOGUE_CODE = re.compile(r"[A-Z](?:0[1-9]|[1-9][0-9]){0,2}")

# Art. 10 of 财政部令第102号 (负面清单). Deliberately phrases, not single characters: "建设"
# alone would refuse 社区文化建设 and "设备" alone 设备运维服务, which are services. Works-related
# services such as 工程监理 are services under 政府采购法 and are not listed.
DEFAULT_NEGATIVE_KEYWORDS: tuple[str, ...] = (
    # goods (货物)
    "货物采购",
    "设备采购",
    "设备购置",
    "物资采购",
    "车辆购置",
    # works (工程)
    "建设工程",
    "工程建设",
    "工程施工",
    "施工工程",
    "基础设施建设",
    "修缮工程",
    "装修工程",
    # works and services bundled in one project (将工程和服务打包)
    "工程总承包",
    "设计施工一体",
    "建设运营一体",
    "投资建设运营",
    # financing (融资行为)
    "融资",
    "贷款",
    "借款",
    # the purchaser's own staffing (购买主体的人员招、聘用、劳务派遣、公益性岗位)
    "劳务派遣",
    "人员招聘",
    "人员聘用",
    "公益性岗位",
)


class CatalogueStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class CatalogueRow:
    """One validated catalogue item; `row` is its row in the import file (header = row 1)."""

    row: int | None
    code: str
    name: str
    description: str
    level: int
    parent_code: str | None


def validate_catalogue_code(code: Any) -> int:
    """The level (1–3) of a catalogue code `A` / `A01` / `A0101`, or `invalid_catalogue_code`."""
    if not isinstance(code, str) or not _CATALOGUE_CODE.fullmatch(code):
        raise _invalid(
            "invalid_catalogue_code",
            "code",
            f"{code!r} is not a catalogue code: an uppercase letter followed by up to two "
            "pairs of digits 01–99 (A, A01, A0101)",
        )
    return 1 + (len(code) - 1) // 2


def parent_code(code: str) -> str | None:
    """The code one level up (`A0101` → `A01` → `A`), None for a level-1 code."""
    level = validate_catalogue_code(code)
    return None if level == 1 else code[:-2]


def _normalise(text: str) -> str:
    # Full-width letters and stray spaces must not let an item slip past the list.
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _negative_match(name: str, description: str, keywords: Iterable[str]) -> tuple[str, str] | None:
    texts = (("name", _normalise(name or "")), ("description", _normalise(description or "")))
    for keyword in keywords:
        needle = _normalise(keyword)
        if not needle:
            continue
        for field_name, text in texts:
            if needle in text:
                return field_name, keyword
    return None


def _negative_message(keyword: str) -> str:
    return (
        f"matches the negative-list keyword '{keyword}': goods, works, works and services "
        "bundles, financing and the purchaser's own staffing may not be bought as services "
        "(财政部令第102号 Art. 10)"
    )


def check_negative_list(
    name: str, description: str, keywords: Iterable[str] = DEFAULT_NEGATIVE_KEYWORDS
) -> None:
    """Refuse an item whose name or description matches a negative-list keyword (负面清单)."""
    match = _negative_match(name, description, keywords)
    if match is not None:
        field_name, keyword = match
        raise RuleViolation(
            "catalogue_item_in_negative_list",
            f"'{name}' {_negative_message(keyword)}",
            errors=[_error(field_name, _negative_message(keyword))],
        )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _item_problems(
    code: str,
    name: str,
    description: str,
    known_codes: frozenset[str] | set[str],
    keywords: Iterable[str],
) -> list[tuple[str, str, str]]:
    """(error code, field, message) for everything wrong with one item, duplicates aside."""
    problems: list[tuple[str, str, str]] = []
    if not code:
        problems.append(("invalid_catalogue_code", "code", "code is required"))
    elif not _CATALOGUE_CODE.fullmatch(code):
        problems.append(
            (
                "invalid_catalogue_code",
                "code",
                f"'{code}' is not a catalogue code (A, A01, A0101: an uppercase letter, then "
                "pairs of digits 01–99)",
            )
        )
    elif code[0] not in LEVEL1_CATEGORIES:
        problems.append(
            (
                "unknown_level1_category",
                "code",
                f"'{code[0]}' is not one of the five level-1 categories A–E",
            )
        )
    elif len(code) > 1 and code[:-2] not in known_codes:
        problems.append(
            ("catalogue_parent_missing", "code", f"parent item '{code[:-2]}' does not exist")
        )
    if not name:
        problems.append(("catalogue_item_name_required", "name", "name is required"))
    match = _negative_match(name, description, keywords)
    if match is not None:
        problems.append(("catalogue_item_in_negative_list", match[0], _negative_message(match[1])))
    return problems


def validate_catalogue_item(
    code: Any,
    name: Any,
    description: Any = "",
    *,
    existing_codes: Iterable[str] = (),
    keywords: Iterable[str] = DEFAULT_NEGATIVE_KEYWORDS,
) -> CatalogueRow:
    """Check one item added to a draft catalogue that already holds `existing_codes`."""
    code_s, name_s, description_s = _cell(code), _cell(name), _cell(description)
    existing = frozenset(existing_codes)
    if code_s in existing:
        raise _invalid(
            "duplicate_catalogue_code", "code", f"'{code_s}' is already in the catalogue"
        )
    problems = _item_problems(code_s, name_s, description_s, existing, keywords)
    if problems:
        first_code, _, first_message = problems[0]
        raise RuleViolation(
            first_code, first_message, errors=[_error(f, m) for _, f, m in problems]
        )
    level = validate_catalogue_code(code_s)
    return CatalogueRow(
        None, code_s, name_s, description_s, level, None if level == 1 else code_s[:-2]
    )


def validate_catalogue_rows(
    rows: Sequence[Mapping[str, Any]],
    existing_codes: Iterable[str] = (),
    keywords: Iterable[str] = DEFAULT_NEGATIVE_KEYWORDS,
) -> list[CatalogueRow]:
    """Validate a whole import file (code, name, description per row): all rows or none.

    Row numbers are those a spreadsheet shows: the header is row 1, the first data row row 2.
    Completely blank rows (trailing rows of a spreadsheet) are skipped but keep their number.
    A parent may be in the file (before or after its children) or in `existing_codes`; a code
    that is already in the catalogue counts as a duplicate. Every problem of every row is
    reported in one `catalogue_import_invalid`.
    """
    parsed: list[tuple[int, str, str, str]] = []
    for index, raw in enumerate(rows):
        code, name, description = (
            _cell(raw.get("code")),
            _cell(raw.get("name")),
            _cell(raw.get("description")),
        )
        if code or name or description:
            parsed.append((index + 2, code, name, description))
    if not parsed:
        raise RuleViolation("catalogue_import_empty", "the file holds no catalogue items")

    existing = frozenset(existing_codes)
    known = existing | {code for _, code, _, _ in parsed if _CATALOGUE_CODE.fullmatch(code)}
    first_row_of: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    accepted: list[CatalogueRow] = []
    for row, code, name, description in parsed:
        row_errors = [
            {"row": row, "field": f, "message": m}
            for _, f, m in _item_problems(code, name, description, known, keywords)
        ]
        if code in existing:
            row_errors.insert(
                0, {"row": row, "field": "code", "message": f"'{code}' is already in the catalogue"}
            )
        elif code and code in first_row_of:
            row_errors.insert(
                0,
                {
                    "row": row,
                    "field": "code",
                    "message": f"duplicate code '{code}' (first on row {first_row_of[code]})",
                },
            )
        else:
            first_row_of.setdefault(code, row)
        if row_errors:
            errors.extend(row_errors)
            continue
        level = 1 + (len(code) - 1) // 2
        accepted.append(
            CatalogueRow(row, code, name, description, level, None if level == 1 else code[:-2])
        )
    if errors:
        bad_rows = sorted({e["row"] for e in errors})
        raise RuleViolation(
            "catalogue_import_invalid",
            f"{len(bad_rows)} row(s) are invalid ({', '.join(map(str, bad_rows))}); "
            "nothing was imported",
            errors=errors,
        )
    return accepted


_CATALOGUE_TRANSITIONS: Mapping[CatalogueStatus, frozenset[CatalogueStatus]] = {
    CatalogueStatus.DRAFT: frozenset({CatalogueStatus.PUBLISHED}),
    CatalogueStatus.PUBLISHED: frozenset({CatalogueStatus.SUPERSEDED}),
    CatalogueStatus.SUPERSEDED: frozenset(),
}


def check_catalogue_transition(current: str, target: str) -> None:
    """draft → published → superseded; a published version never changes back."""
    current_s, target_s = CatalogueStatus(current), CatalogueStatus(target)
    if target_s in _CATALOGUE_TRANSITIONS[current_s]:
        return
    detail = f"cannot move a catalogue from '{current_s}' to '{target_s}'"
    if target_s is CatalogueStatus.PUBLISHED:
        raise conflict("catalogue_not_draft", f"only a draft catalogue can be published; {detail}")
    if target_s is CatalogueStatus.SUPERSEDED:
        raise conflict(
            "catalogue_not_published", f"only a published catalogue can be superseded; {detail}"
        )
    raise conflict("invalid_status_transition", detail)


def ensure_catalogue_editable(status: str) -> None:
    """Items may be added, changed or imported only while the catalogue is a draft."""
    if CatalogueStatus(status) is not CatalogueStatus.DRAFT:
        raise conflict(
            "catalogue_not_draft",
            f"the catalogue is {CatalogueStatus(status)}: a published version is immutable",
        )


def check_tender_catalogue_item(
    item_code: str,
    *,
    catalogue_status: str,
    catalogue_region_code: str,
    catalogue_year: int,
    region_code: str,
    year: int,
) -> None:
    """A tender buys a level-3 item of a published catalogue of its bureau's region and year."""
    if validate_catalogue_code(item_code) != 3:
        raise _invalid(
            "catalogue_item_not_level3",
            "catalogue_item_id",
            f"'{item_code}' is not a level-3 catalogue item",
        )
    if CatalogueStatus(catalogue_status) is not CatalogueStatus.PUBLISHED:
        raise conflict(
            "catalogue_not_published",
            f"item '{item_code}' belongs to a {catalogue_status} catalogue, not a published one",
        )
    if catalogue_region_code != region_code or catalogue_year != year:
        raise _invalid(
            "catalogue_item_out_of_scope",
            "catalogue_item_id",
            f"item '{item_code}' is from the catalogue of region {catalogue_region_code}, "
            f"{catalogue_year}; the tender needs region {region_code}, {year}",
        )


# --- budget (Art. 14: 先有预算、后购买服务) --------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    """A budget line's money. `reserved`: ceilings of published tenders not yet contracted;
    `committed`: signed contracts (amendments included, less what terminations released);
    `spent`: payments, always within `committed`."""

    amount: Decimal
    reserved: Decimal = Decimal("0.00")
    committed: Decimal = Decimal("0.00")
    spent: Decimal = Decimal("0.00")

    @property
    def available(self) -> Decimal:
        return self.amount - self.reserved - self.committed


def _money(value: Any, field_name: str = "amount", *, allow_zero: bool = False) -> Decimal:
    number = as_decimal(value)  # refuses floats: a binary fraction is not the amount typed
    if number is None or number < 0 or (number == 0 and not allow_zero):
        raise _invalid("invalid_amount", field_name, f"{field_name} must be a positive amount")
    if not has_at_most_two_places(number):
        raise _invalid("invalid_amount", field_name, f"{field_name} has more than two decimals")
    return number


def _ensure_available(line: BudgetLine, amount: Decimal) -> None:
    # Art. 14: nothing is bought beyond the budget, so available never goes below zero.
    if line.available < amount:
        raise conflict(
            "budget_insufficient",
            f"the budget line has {line.available} available, {amount} is needed",
        )


def reserve(line: BudgetLine, amount: Decimal) -> BudgetLine:
    """Publishing a tender reserves its ceiling."""
    amount = _money(amount)
    _ensure_available(line, amount)
    return replace(line, reserved=line.reserved + amount)


def release(line: BudgetLine, amount: Decimal) -> BudgetLine:
    """A failed or cancelled tender releases its reservation."""
    amount = _money(amount)
    if amount > line.reserved:
        raise conflict(
            "budget_release_exceeds_reserved",
            f"cannot release {amount}: only {line.reserved} is reserved",
        )
    return replace(line, reserved=line.reserved - amount)


def commit_reservation(
    line: BudgetLine, reserved_amount: Decimal, contract_amount: Decimal
) -> BudgetLine:
    """Signing a contract turns the tender's reservation into the contract's commitment;
    the part of the ceiling the awarded price did not use becomes available again."""
    reserved_amount = _money(reserved_amount, "reserved_amount")
    contract_amount = _money(contract_amount, "contract_amount")
    if reserved_amount > line.reserved:
        raise conflict(
            "budget_release_exceeds_reserved",
            f"cannot convert {reserved_amount}: only {line.reserved} is reserved",
        )
    if contract_amount > reserved_amount:
        raise conflict(
            "contract_exceeds_reservation",
            f"the contract amount {contract_amount} exceeds the reservation {reserved_amount}",
        )
    return replace(
        line,
        reserved=line.reserved - reserved_amount,
        committed=line.committed + contract_amount,
    )


def commit_extra(line: BudgetLine, amount: Decimal) -> BudgetLine:
    """An amendment commits more money, out of what is available."""
    amount = _money(amount)
    _ensure_available(line, amount)
    return replace(line, committed=line.committed + amount)


def release_commitment(line: BudgetLine, amount: Decimal) -> BudgetLine:
    """A termination releases the unspent part of a commitment, never what was paid."""
    amount = _money(amount)
    unspent = line.committed - line.spent
    if amount > unspent:
        raise conflict(
            "budget_release_exceeds_unspent",
            f"cannot release {amount}: only {unspent} of the commitment is unspent",
        )
    return replace(line, committed=line.committed - amount)


def spend(line: BudgetLine, amount: Decimal) -> BudgetLine:
    """A payment spends committed money."""
    amount = _money(amount)
    if line.spent + amount > line.committed:
        raise conflict(
            "budget_overspent",
            f"paying {amount} would take spending to {line.spent + amount}, "
            f"above the {line.committed} committed",
        )
    return replace(line, spent=line.spent + amount)


def change_amount(line: BudgetLine, amount: Decimal) -> BudgetLine:
    """A budget adjustment may not take the line below what is reserved and committed."""
    amount = _money(amount, allow_zero=True)
    allocated = line.reserved + line.committed
    if amount < allocated:
        raise conflict(
            "budget_amount_below_allocated",
            f"{amount} is below the {allocated} already reserved and committed",
        )
    return replace(line, amount=amount)
