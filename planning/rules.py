"""Planning rules: the guidance catalogue (指导性目录) and the budget arithmetic (先有预算、后购买服务).

Pure functions, enums and frozen dataclasses: no I/O, no database, no project imports but
`govbuy.rules`. The service layer loads state, calls these and persists what they return.

Sources: 《政府购买服务管理办法》(财政部令第102号): Art. 10 the negative list (负面清单) of what may
not be bought as a service, Art. 14 the budget first (先有预算、后购买服务).

Error codes (422 bad input unless marked 409 state conflict). Those named in DESIGN.md are
part of the API contract and spelled exactly as there.

Catalogue
  invalid_catalogue_code, unknown_level1_category, catalogue_item_name_required,
  duplicate_catalogue_code, catalogue_parent_missing, catalogue_item_in_negative_list (one
  error per pattern matched, each naming its category, pattern and article),
  negative_list_override_reason_required, catalogue_import_invalid (one error per bad row), catalogue_import_empty,
  catalogue_item_not_level3, catalogue_item_out_of_scope,
  catalogue_not_draft (409), catalogue_not_published (409), invalid_status_transition (409)
Budget
  invalid_amount, budget_insufficient (409), budget_release_exceeds_reserved (409),
  contract_exceeds_reservation (409), budget_release_exceeds_unspent (409),
  budget_overspent (409), budget_amount_below_allocated (409)
Procurement intentions (采购意向, 财库〔2020〕10号)
  intention_month_past, intention_month_outside_budget_year, intention_exceeds_available,
  intention_not_draft (409), intention_already_withdrawn (409)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
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
    negative_list_override: NegativeListOverride | None = None


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


# --- the negative list (负面清单, 财政部令第102号 Art. 10) ----------------------------------
#
# Art. 10 says what may never be bought as a service: (3) the goods and works of the
# government-procurement laws, and projects that bundle works with services; (4) financing;
# (5) the purchaser's own staffing: hiring (招、聘用), labour dispatch (劳务派遣) and public
# welfare posts (公益性岗位). The list is data (`DEFAULT_NEGATIVE_PATTERNS`): each pattern is a
# regular expression over the normalised text, with the category and article it enforces and
# optional exceptions, so that a deployment can replace it (`negative_patterns_from_data`)
# without touching the matcher.
#
# Where a word is ambiguous, the pattern needs its context, and the choice is recorded here:
# - 维修/修缮/改造 are works only when their object is built: a building, road, pipe or
#   facility (政府采购法 Art. 2: 建设工程 includes 新建、改建、扩建、装修、拆除、修缮 of
#   buildings and structures). Maintaining equipment, vehicles or IT systems (设备运行维护,
#   车辆维修保养, 信息系统运维) is a service (政府采购品目分类目录, 维修和保养服务 and
#   运行维护服务), and is not matched.
# - Services about works (工程监理, 造价咨询, 设计, 勘察, 检测, 审计) are services, not works.
# - 招聘 is the purchaser's own staffing, except when the item is a public employment service
#   (就业招聘会, 招聘活动 for job seekers) or the exam administration (考务) of a recruitment.
# - Hiring done by the provider for its own service (承接主体自行招聘) is not the purchaser's.
# - 购买 is also the word of 政府购买服务 itself: goods need a goods word next to the verb, and
#   nothing that says 服务 in between.
# - A description may exclude something in so many words (不含设备采购, 严禁劳务派遣, …除外):
#   such a clause is not a match. Names are titles and are matched as they stand.


class NegativeCategory(StrEnum):
    """What Art. 10 refuses, one value per item of the article (and `other` for a deployment's
    own additions under Art. 10's other items)."""

    GOODS = "goods"  # 货物
    WORKS = "works"  # 工程
    WORKS_AND_SERVICES = "works_and_services"  # 将工程和服务打包的项目
    FINANCING = "financing"  # 融资行为
    OWN_STAFFING = "own_staffing"  # 购买主体的人员招、聘用, 劳务派遣, 公益性岗位
    OTHER = "other"  # any other item a deployment lists under Art. 10


NEGATIVE_CATEGORY_LABELS: Mapping[NegativeCategory, str] = {
    NegativeCategory.GOODS: "货物 (goods)",
    NegativeCategory.WORKS: "工程 (works)",
    NegativeCategory.WORKS_AND_SERVICES: "工程和服务打包 (works bundled with services)",
    NegativeCategory.FINANCING: "融资 (financing)",
    NegativeCategory.OWN_STAFFING: "购买主体的人员招聘、聘用、劳务派遣、公益性岗位 (the purchaser's own staffing)",
    NegativeCategory.OTHER: "其他不得购买的事项 (other items of the negative list)",
}

NEGATIVE_CATEGORY_ARTICLES: Mapping[NegativeCategory, str] = {
    NegativeCategory.GOODS: "财政部令第102号 第十条第（三）项",
    NegativeCategory.WORKS: "财政部令第102号 第十条第（三）项",
    NegativeCategory.WORKS_AND_SERVICES: "财政部令第102号 第十条第（三）项",
    NegativeCategory.FINANCING: "财政部令第102号 第十条第（四）项",
    NegativeCategory.OWN_STAFFING: "财政部令第102号 第十条第（五）项",
    NegativeCategory.OTHER: "财政部令第102号 第十条",
}


@dataclass(frozen=True)
class NegativePattern:
    """One entry of the negative list. `pattern` is searched in the normalised text (NFKC,
    lower case, no whitespace); a hit is discarded when the text just before it ends with
    `unless_before` or the text just after it starts with `unless_after` (both regular
    expressions, empty for none). `why` says what the pattern catches, for the problem detail."""

    id: str
    category: NegativeCategory
    pattern: str
    why: str
    article: str = ""
    unless_before: str = ""
    unless_after: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "category", NegativeCategory(self.category))
        if not self.article:
            object.__setattr__(self, "article", NEGATIVE_CATEGORY_ARTICLES[self.category])


@dataclass(frozen=True)
class NegativeMatch:
    """Why an item is on the negative list: the pattern, its category and article, and the
    text it matched in which field."""

    pattern_id: str
    category: NegativeCategory
    article: str
    field: str
    matched: str
    why: str

    def as_dict(self) -> dict[str, str]:
        return {
            "pattern": self.pattern_id,
            "category": str(self.category),
            "article": self.article,
            "field": self.field,
            "matched": self.matched,
        }


# A clause ends at punctuation (after NFKC: full-width ，；：（） are ASCII); 、 joins a list
# within one clause (电脑、打印机采购).
_CLAUSE_END = ",;:。!?()[]【】《》\"'“”"
# Between a purchase verb and its goods: a few characters of one clause, never 服务.
_GAP = r"(?:(?!服务|由)[^,;:。!?()\[\]【】]){0,6}?"
_GOODS = (
    r"(?:电脑|计算机|笔记本|台式机|平板|打印机|复印机|一体机|扫描仪|投影仪|服务器|交换机|"
    r"显示屏|摄像头|摄像机|设备|器材|器械|仪器|装备|办公用品|文具|用品|耗材|物资|车辆|汽车|"
    r"家具|桌椅|被服|服装|制服|图书(?!馆)|书籍|教材|药品|疫苗|试剂|食品|食材|粮油|燃料|油料|空调|"
    r"电梯|灯具|器具)"
)
# 采购人, 购买主体 … are the purchaser (政府采购法, 102号令), not a purchase of goods.
_PURCHASE = r"(?:采购(?!人|单位|方式|文件|需求|意向|程序|代理|计划|合同)|购置|购买(?!主体|方式)|购进|购入|添置|采买|订购|置办)"
# What a goods word is followed by when the item is a service about the goods.
_SERVICE_ON_GOODS = (
    r"(?:及|和|的)?(?:安全|检测|检验|抽检|抽样|运维|运行|维护|维修|维保|保养|租赁|回收|处置|管理|"
    r"监管|监测|巡检|清洗|消毒|操作|调度|保险|储备|仓储|配送服务)"
)
# Services about works: 工程监理, 造价咨询, 设计, 勘察, 检测, 审计 (services, not works).
_SERVICE_ON_WORKS = (
    r"(?:工程|项目)?(?:的)?(?:安全|质量|扬尘|现场)?(?:监理|造价|咨询|审计|设计|勘察|测绘|检测|检查|"
    r"巡查|监督|监管|监测|评估|招标代理|结算审核|预算审核|培训|图|师)"
)
# Running or looking after what exists is a service (设施运营管理, 小型水利工程运行管护).
_RUNNING = r"(?:的)?(?:运行|运营|管护|巡护|日常养护|日常管理|管理服务|物业)"
# Named programmes that are called 工程 without being works (希望工程, 民生工程 …).
_PROGRAMME = r"(?:惠民|民生|希望|民心|暖心|关爱|春蕾|菜篮子|人才|素质|护苗|幸福|青蓝|领航|铸魂|育人)"
# Built things: their 新建、改建、扩建、装修、拆除、修缮 is 建设工程 (政府采购法 Art. 2).
_BUILT = (
    r"(?:道路|路面|街巷|巷道|桥梁|隧道|房屋|住房|住宅|楼宇|楼房|大楼|办公楼|校舍|厂房|外墙|外立面|"
    r"屋面|墙体|小区|管网|管道|雨污|排水|供水|水利|河道|堤防|水库|沟渠|广场|场馆|运动场|球场|"
    r"公厕|厕所|围墙|停车场|绿地|公园|游园|基础设施|设施|站房)"
)
_BUILD = r"(?:改造|维修|修缮|修复|翻新|新建|扩建|改建|翻建|建设|修建|硬化|亮化|整治|铺设)"
# Things built that are not works (an IT platform, a brand, a team, a culture).
_NOT_BUILT = r"(?:平台|系统|网站|软件|数据库|信息化|数字化|app|小程序|网络|品牌|队伍|文化|能力|体系|机制|阵地)"
# The provider hiring its own people for the service it delivers is not the purchaser's staffing.
_PROVIDER = r"(?:承接主体|承接方|承接单位|服务机构|服务商|供应商|中标人|成交人|社会组织|乙方)(?:自行|负责|统一|依法)?"
_DASH = r"[-—–~]?"

DEFAULT_NEGATIVE_PATTERNS: tuple[NegativePattern, ...] = (
    # (4) financing (融资行为); first, so that a BT project is named financing before works.
    NegativePattern(
        "financing.loan",
        NegativeCategory.FINANCING,
        r"融资|贷款|借款|借贷|垫资|带资|举债",
        "raising money (融资、贷款、垫资) is no service",
        # Advising enterprises on finance is a service to them, not the purchaser's financing.
        unless_after=r"(?:政策)?(?:宣传|咨询|辅导|培训|对接|撮合|知识)",
    ),
    NegativePattern(
        "financing.build_transfer",
        NegativeCategory.FINANCING,
        rf"建设{_DASH}(?:经营{_DASH}|拥有{_DASH}经营{_DASH})?移交|建设{_DASH}拥有{_DASH}经营|建设{_DASH}回购|"
        r"以租代建|先建后付|(?<![a-z])(?:bt|bot|boo|boot|bto|tot|rot)(?![a-z])",
        "build-transfer schemes (BT, BOT …) finance works by deferred payment",
    ),
    # (3) works bundled with services (将工程和服务打包的项目).
    NegativePattern(
        "works_and_services.bundle",
        NegativeCategory.WORKS_AND_SERVICES,
        r"(?:投资|建设|建造|施工|新建|改造|修缮|装修)(?:[及和与、+&]|以及|并|加|暨)?(?:建设|施工)?"
        r"(?:[及和与、+&]|以及|并|加|暨)?(?:运营|运行|运维|维护|养护|管护)",
        "building and then operating (建设及运营, 建设运营一体化) bundles works with services",
        unless_before=_NOT_BUILT,
    ),
    NegativePattern(
        "works_and_services.turnkey",
        NegativeCategory.WORKS_AND_SERVICES,
        rf"设计{_DASH}(?:采购{_DASH})?施工|总承包|(?<![a-z])epc(?![a-z])|交钥匙|投建营",
        "design-and-build and turnkey contracts (工程总承包, EPC) bundle works with services",
        unless_before=_NOT_BUILT,
    ),
    # (5) the purchaser's own staffing (购买主体的人员招、聘用, 劳务派遣, 公益性岗位).
    NegativePattern(
        "own_staffing.dispatch",
        NegativeCategory.OWN_STAFFING,
        r"派遣",
        "labour dispatch (劳务派遣, 派遣制) is the purchaser's own staffing",
    ),
    NegativePattern(
        "own_staffing.hiring",
        NegativeCategory.OWN_STAFFING,
        r"聘用|聘任|招用|临聘|雇用|雇佣",
        "hiring people (聘用) is the purchaser's own staffing",
        unless_before=_PROVIDER,
    ),
    NegativePattern(
        "own_staffing.recruitment",
        NegativeCategory.OWN_STAFFING,
        r"招聘|招录|招考",
        "recruiting people (人员招聘) is the purchaser's own staffing",
        # 就业招聘会 and 企业招聘服务 serve job seekers and employers (就业服务); the provider
        # recruits its own team; 考务 of a recruitment is a service of exam administration.
        unless_before=rf"{_PROVIDER}|就业|企业|用人单位|求职|毕业生|公共",
        unless_after=r"会|活动|专场|洽谈|信息发布|周|月|季|考务|考试",
    ),
    NegativePattern(
        "own_staffing.public_welfare_post",
        NegativeCategory.OWN_STAFFING,
        r"公益性岗位|公益岗",
        "public welfare posts (公益性岗位) are the purchaser's own staffing",
    ),
    NegativePattern(
        "own_staffing.temporary",
        NegativeCategory.OWN_STAFFING,
        r"编外|编制外|临时人员|临时工|临时用工|临时聘|合同制(?:工作)?人员|人员外包|岗位外包|人力外包",
        "staff outside the establishment (编外、临时人员) are the purchaser's own staffing",
    ),
    NegativePattern(
        "own_staffing.auxiliary_staff",
        NegativeCategory.OWN_STAFFING,
        r"(?:辅助|协管|协勤|窗口)人员|协管员|协勤员|辅警",
        "auxiliary staff (辅助人员、协管员) for the purchaser's own work are its staffing",
        # Training or assessing them is a service; 社区矫正辅助服务 names no people.
        unless_after=r"[^,;:。]{0,4}?(?:培训|考核|测评|评估|心理)",
    ),
    # (3) goods (货物).
    NegativePattern(
        "goods.purchase",
        NegativeCategory.GOODS,
        rf"{_PURCHASE}{_GAP}{_GOODS}",
        "buying goods (采购、购置 + 设备、电脑、办公用品 …) is a purchase of goods",
        unless_before=_PROVIDER,
        unless_after=_SERVICE_ON_GOODS,
    ),
    NegativePattern(
        "goods.purchased",
        NegativeCategory.GOODS,
        rf"{_GOODS}{_GAP}(?:采购|购置|购买|购进|购入|添置|采买|订购|置办)",
        "goods followed by a purchase (办公用品购置, 打印机采购) is a purchase of goods",
        unless_after=r"代理|咨询|评审|监督",
    ),
    # (3) works (工程).
    NegativePattern(
        "works.built",
        NegativeCategory.WORKS,
        rf"{_BUILT}{_BUILD}|{_BUILD}{_BUILT}",
        "building, altering or repairing a building, road, pipe or facility is works",
        unless_after=rf"{_SERVICE_ON_WORKS}|{_RUNNING}",
    ),
    NegativePattern(
        "works.construction",
        NegativeCategory.WORKS,
        r"施工|土建|装修|修缮|拆除|加固|基建|加装电梯",
        "construction work (施工、装修、修缮、拆除) is works",
        unless_after=_SERVICE_ON_WORKS,
    ),
    NegativePattern(
        "works.project",
        NegativeCategory.WORKS,
        r"工程",
        "a works project (工程) is works",
        unless_before=_PROGRAMME,
        unless_after=rf"{_SERVICE_ON_WORKS}|{_RUNNING}",
    ),
)

# Words in a description that exclude what follows them in the same clause (不含设备采购,
# 严禁劳务派遣), or, for 除外, what precedes them. 不含税 is a price, not an exclusion.
_NEGATION_BEFORE = re.compile(r"不含(?!税)|不包含|不包括|不涉及|不属于|不得|严禁|禁止|不以|不采用|无需|不需")
_NEGATION_AFTER = re.compile(r"除外")


@lru_cache(maxsize=512)
def _compiled(expression: str) -> re.Pattern[str]:
    # A cache, not state: the same expression always compiles to the same pattern.
    return re.compile(expression)


def _normalise(text: str) -> str:
    # Full-width letters and stray spaces must not let an item slip past the list.
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _clause(text: str, start: int, end: int) -> tuple[str, str]:
    """The text of the clause before `start` and after `end`."""
    left = max(text.rfind(c, 0, start) for c in _CLAUSE_END) + 1
    rights = [i for i in (text.find(c, end) for c in _CLAUSE_END) if i >= 0]
    return text[left:start], text[end : min(rights, default=len(text))]


def _excepted(item: NegativePattern, text: str, start: int, end: int) -> bool:
    if item.unless_before and _compiled(f"(?:{item.unless_before})$").search(text, 0, start):
        return True
    return bool(item.unless_after and _compiled(item.unless_after).match(text, end))


def _negated(text: str, start: int, end: int) -> bool:
    before, after = _clause(text, start, end)
    return bool(_NEGATION_BEFORE.search(before) or _NEGATION_AFTER.search(after))


def match_negative_list(
    name: str,
    description: str = "",
    patterns: Iterable[NegativePattern] = DEFAULT_NEGATIVE_PATTERNS,
) -> tuple[NegativeMatch, ...]:
    """Every pattern of the negative list (负面清单, 财政部令第102号 Art. 10) the item matches,
    in the list's order, each once (in the name if it matches there, else in the description);
    empty when the item may be bought as a service."""
    texts = (("name", _normalise(name or "")), ("description", _normalise(description or "")))
    found: list[NegativeMatch] = []
    for item in patterns:
        hit = _first_hit(item, texts)
        if hit is not None:
            field_name, matched = hit
            found.append(NegativeMatch(item.id, item.category, item.article, field_name, matched, item.why))
    return tuple(found)


def _first_hit(item: NegativePattern, texts: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    for field_name, text in texts:
        for hit in _compiled(item.pattern).finditer(text):
            if not hit.group() or _excepted(item, text, hit.start(), hit.end()):
                continue
            if field_name == "description" and _negated(text, hit.start(), hit.end()):
                continue
            return field_name, hit.group()
    return None


def negative_message(match: NegativeMatch) -> str:
    """What the problem detail says of one match: the category, the pattern and the article."""
    return (
        f"matches the negative-list pattern '{match.pattern_id}' with '{match.matched}' in the "
        f"{match.field}: {match.why}; {NEGATIVE_CATEGORY_LABELS[match.category]} may not be "
        f"bought as a service ({match.article})"
    )


def _negative_error(match: NegativeMatch) -> dict[str, Any]:
    return {**_error(match.field, negative_message(match)), **match.as_dict()}


# An override is an exception to the law's list: it needs a reason a supervisor can judge.
MIN_OVERRIDE_REASON = 8


@dataclass(frozen=True)
class NegativeListOverride:
    """A bureau's recorded decision that a negative-list match is a false positive: its reason
    and the matches it overrides (stored with the item and audited)."""

    reason: str
    matches: tuple[NegativeMatch, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "matches": [m.as_dict() for m in self.matches]}


def _negative_problems(
    name: str, description: str, patterns: Iterable[NegativePattern], reason: str
) -> tuple[list[tuple[str, dict[str, Any]]], NegativeListOverride | None]:
    """(error code, error) for an item on the list, or the override its reason makes of it. A
    reason for an item that matches nothing is no override: there is nothing to record."""
    matches = match_negative_list(name, description, patterns)
    if not matches:
        return [], None
    if not reason:
        return [("catalogue_item_in_negative_list", _negative_error(m)) for m in matches], None
    if len(_normalise(reason)) < MIN_OVERRIDE_REASON:
        message = (
            f"overriding the negative list needs a reason of at least {MIN_OVERRIDE_REASON} "
            "characters that a supervisor can judge"
        )
        return [("negative_list_override_reason_required", _error("negative_list_override_reason", message))], None
    return [], NegativeListOverride(reason, matches)


def _raise_first(name: str, problems: Sequence[tuple[str, dict[str, Any]]]) -> None:
    first_code, first = problems[0]
    detail = first["message"]
    if first_code == "catalogue_item_in_negative_list":
        detail = f"'{name}' {detail}"
    raise RuleViolation(first_code, detail, errors=[e for _, e in problems])


def check_negative_list(
    name: str,
    description: str = "",
    patterns: Iterable[NegativePattern] = DEFAULT_NEGATIVE_PATTERNS,
    *,
    override_reason: str | None = None,
) -> NegativeListOverride | None:
    """Refuse an item on the negative list (`catalogue_item_in_negative_list`, one error per
    pattern matched) unless the bureau overrides it with a reason; return the override."""
    problems, override = _negative_problems(name, description, patterns, _cell(override_reason))
    if problems:
        _raise_first(name, problems)
    return override


def negative_patterns_from_keywords(keywords: Iterable[str]) -> tuple[NegativePattern, ...]:
    """Fixed phrases (GOVBUY_NEGATIVE_KEYWORDS) as patterns: each matches itself literally."""
    phrases = [keyword.strip() for keyword in keywords if _normalise(keyword)]
    return tuple(
        NegativePattern(
            f"keyword.{index}",
            NegativeCategory.OTHER,
            re.escape(_normalise(phrase)),
            f"the configured phrase '{phrase}'",
        )
        for index, phrase in enumerate(phrases, start=1)
    )


def negative_patterns_from_data(entries: Any) -> tuple[NegativePattern, ...]:
    """A negative list read from a data file (a JSON list of objects with `id`, `category`,
    `pattern`, `why` and optionally `article`, `unless_before`, `unless_after`), checked so
    that a bad entry is named rather than failing on the first item it meets."""
    if not isinstance(entries, list) or not entries:
        raise ValueError("the negative list must be a non-empty list of patterns")
    seen: set[str] = set()
    patterns = []
    for index, entry in enumerate(entries):
        where = f"negative-list entry {index + 1}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} is not an object")
        unknown = set(entry) - {"id", "category", "pattern", "why", "article", "unless_before", "unless_after"}
        if unknown:
            raise ValueError(f"{where} has unknown fields {sorted(unknown)}")
        for key in ("id", "category", "pattern", "why"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise ValueError(f"{where} needs a non-empty string '{key}'")
        if entry["id"] in seen:
            raise ValueError(f"{where} repeats the id '{entry['id']}'")
        seen.add(entry["id"])
        try:
            category = NegativeCategory(entry["category"])
        except ValueError:
            raise ValueError(
                f"{where}: category must be one of {', '.join(c.value for c in NegativeCategory)}"
            ) from None
        for key in ("pattern", "unless_before", "unless_after"):
            try:
                re.compile(entry.get(key) or "")
            except re.error as exc:
                raise ValueError(f"{where}: '{key}' is not a regular expression ({exc})") from None
        patterns.append(
            NegativePattern(
                entry["id"],
                category,
                entry["pattern"],
                entry["why"],
                entry.get("article") or "",
                entry.get("unless_before") or "",
                entry.get("unless_after") or "",
            )
        )
    return tuple(patterns)


def negative_patterns_as_data(patterns: Iterable[NegativePattern]) -> list[dict[str, str]]:
    """The list as the data file holds it (the inverse of `negative_patterns_from_data`)."""
    return [
        {
            "id": p.id,
            "category": str(p.category),
            "pattern": p.pattern,
            "why": p.why,
            "article": p.article,
            **({"unless_before": p.unless_before} if p.unless_before else {}),
            **({"unless_after": p.unless_after} if p.unless_after else {}),
        }
        for p in patterns
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _item_problems(
    code: str,
    name: str,
    description: str,
    known_codes: frozenset[str] | set[str],
    patterns: Iterable[NegativePattern],
    override_reason: str = "",
) -> tuple[list[tuple[str, dict[str, Any]]], NegativeListOverride | None]:
    """(error code, error) for everything wrong with one item, duplicates aside, and the
    negative-list override to record if the bureau gave a reason for one."""
    problems: list[tuple[str, dict[str, Any]]] = []
    if not code:
        problems.append(("invalid_catalogue_code", _error("code", "code is required")))
    elif not _CATALOGUE_CODE.fullmatch(code):
        message = (
            f"'{code}' is not a catalogue code (A, A01, A0101: an uppercase letter, then "
            "pairs of digits 01–99)"
        )
        problems.append(("invalid_catalogue_code", _error("code", message)))
    elif code[0] not in LEVEL1_CATEGORIES:
        message = f"'{code[0]}' is not one of the five level-1 categories A–E"
        problems.append(("unknown_level1_category", _error("code", message)))
    elif len(code) > 1 and code[:-2] not in known_codes:
        message = f"parent item '{code[:-2]}' does not exist"
        problems.append(("catalogue_parent_missing", _error("code", message)))
    if not name:
        problems.append(("catalogue_item_name_required", _error("name", "name is required")))
    negative, override = _negative_problems(name, description, patterns, override_reason)
    return problems + negative, override


def validate_catalogue_item(
    code: Any,
    name: Any,
    description: Any = "",
    *,
    existing_codes: Iterable[str] = (),
    patterns: Iterable[NegativePattern] = DEFAULT_NEGATIVE_PATTERNS,
    override_reason: Any = None,
) -> CatalogueRow:
    """Check one item added to a draft catalogue that already holds `existing_codes`; an item
    on the negative list passes only with the bureau's `override_reason`."""
    code_s, name_s, description_s = _cell(code), _cell(name), _cell(description)
    existing = frozenset(existing_codes)
    if code_s in existing:
        raise _invalid(
            "duplicate_catalogue_code", "code", f"'{code_s}' is already in the catalogue"
        )
    problems, override = _item_problems(
        code_s, name_s, description_s, existing, patterns, _cell(override_reason)
    )
    if problems:
        _raise_first(name_s, problems)
    level = validate_catalogue_code(code_s)
    return CatalogueRow(
        None, code_s, name_s, description_s, level, None if level == 1 else code_s[:-2], override
    )


def validate_catalogue_rows(
    rows: Sequence[Mapping[str, Any]],
    existing_codes: Iterable[str] = (),
    patterns: Iterable[NegativePattern] = DEFAULT_NEGATIVE_PATTERNS,
) -> list[CatalogueRow]:
    """Validate a whole import file (code, name, description per row, and optionally the
    bureau's `negative_list_override_reason`): all rows or none.

    Row numbers are those a spreadsheet shows: the header is row 1, the first data row row 2.
    Completely blank rows (trailing rows of a spreadsheet) are skipped but keep their number.
    A parent may be in the file (before or after its children) or in `existing_codes`; a code
    that is already in the catalogue counts as a duplicate. Every problem of every row is
    reported in one `catalogue_import_invalid`.
    """
    patterns = tuple(patterns)
    parsed: list[tuple[int, str, str, str, str]] = []
    for index, raw in enumerate(rows):
        code, name, description, reason = (
            _cell(raw.get("code")),
            _cell(raw.get("name")),
            _cell(raw.get("description")),
            _cell(raw.get("negative_list_override_reason")),
        )
        if code or name or description:
            parsed.append((index + 2, code, name, description, reason))
    if not parsed:
        raise RuleViolation("catalogue_import_empty", "the file holds no catalogue items")

    existing = frozenset(existing_codes)
    known = existing | {code for _, code, _, _, _ in parsed if _CATALOGUE_CODE.fullmatch(code)}
    first_row_of: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    accepted: list[CatalogueRow] = []
    for row, code, name, description, reason in parsed:
        problems, override = _item_problems(code, name, description, known, patterns, reason)
        row_errors = [{"row": row, **e} for _, e in problems]
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
            CatalogueRow(
                row, code, name, description, level, None if level == 1 else code[:-2], override
            )
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


# --- procurement intentions (采购意向公开, 财库〔2020〕10号) ------------------------------------


class IntentionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


_INTENTION_TRANSITIONS: Mapping[IntentionStatus, frozenset[IntentionStatus]] = {
    IntentionStatus.DRAFT: frozenset({IntentionStatus.PUBLISHED, IntentionStatus.WITHDRAWN}),
    IntentionStatus.PUBLISHED: frozenset({IntentionStatus.WITHDRAWN}),
    IntentionStatus.WITHDRAWN: frozenset(),
}


def check_intention_transition(current: str, target: str) -> None:
    """draft → published → withdrawn, or draft → withdrawn. A published intention is public as
    it was published: it never changes, and once withdrawn it stays public, marked withdrawn."""
    current_s, target_s = IntentionStatus(current), IntentionStatus(target)
    if target_s in _INTENTION_TRANSITIONS[current_s]:
        return
    if current_s is IntentionStatus.WITHDRAWN:
        raise conflict("intention_already_withdrawn", "the procurement intention is withdrawn")
    raise conflict("intention_not_draft", f"the procurement intention is {current_s}: only a draft can be {target_s}")


def ensure_intention_editable(status: str) -> None:
    """An intention changes only while a draft: what was published stays as published."""
    if IntentionStatus(status) is not IntentionStatus.DRAFT:
        raise conflict("intention_not_draft", f"the procurement intention is {IntentionStatus(status)}: only a draft changes")


def parse_month(text: str) -> date:
    """'2027-03' → 2027-03-01 (the schema holds the text to YYYY-MM with a month 01–12)."""
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def check_expected_month(month: date, *, today: date, budget_year: int) -> None:
    """The month the bureau expects to buy in (预计采购时间) is not past, by the service's date in
    Asia/Shanghai (the current month is not past), and falls in its budget line's year: an
    intention announces the spending of that year's budget."""
    if (month.year, month.month) < (today.year, today.month):
        raise _invalid(
            "intention_month_past", "expected_month", f"{month:%Y-%m} is past: the service's month is {today:%Y-%m}"
        )
    if month.year != budget_year:
        raise _invalid(
            "intention_month_outside_budget_year",
            "expected_month",
            f"{month:%Y-%m} is outside the budget line's year {budget_year}",
        )


def check_intention_amount(amount: Decimal, available: Decimal) -> None:
    """The intention's budget is within what its budget line has available now. A check, not a
    reservation: the money is reserved by the tender when it is published (`reserve`), and the
    line may have moved by then."""
    amount = _money(amount, "budget_amount")
    if amount > available:
        raise _invalid(
            "intention_exceeds_available",
            "budget_amount",
            f"{amount} is more than the {available} the budget line has available",
        )
