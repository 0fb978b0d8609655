"""The negative list (负面清单, 财政部令第102号 Art. 10) as pure rules: which real item names it
refuses and under which category, which real services it lets through, how a description may
exclude something, the bureau's override, and the list as configurable data."""

from __future__ import annotations

import pytest

from govbuy.rules import RuleViolation
from planning.rules import (
    DEFAULT_NEGATIVE_PATTERNS,
    NegativeCategory,
    NegativePattern,
    check_negative_list,
    match_negative_list,
    negative_patterns_as_data,
    negative_patterns_from_data,
    negative_patterns_from_keywords,
    validate_catalogue_item,
    validate_catalogue_rows,
)

GOODS = NegativeCategory.GOODS
WORKS = NegativeCategory.WORKS
BUNDLE = NegativeCategory.WORKS_AND_SERVICES
FINANCING = NegativeCategory.FINANCING
STAFFING = NegativeCategory.OWN_STAFFING

# Items the list must refuse, with the category it must name first. The first seven are the
# ones the fixed-phrase list let through.
REFUSED: list[tuple[str, NegativeCategory]] = [
    ("办公电脑及打印机采购", GOODS),
    ("社区服务中心办公用品购置", GOODS),
    ("社区道路改造工程", WORKS),
    ("老旧小区外墙维修工程", WORKS),
    ("街道临时聘用人员服务", STAFFING),
    ("派遣制辅助人员服务", STAFFING),
    ("养老服务设施建设及运营", BUNDLE),
    # goods (货物)
    ("执法执勤车辆购置", GOODS),
    ("学校课桌椅采购", GOODS),
    ("防汛抗旱物资采购", GOODS),
    ("医用耗材采购", GOODS),
    ("农家书屋图书购置", GOODS),
    ("视频监控设备采购及安装", GOODS),
    ("购买办公家具", GOODS),
    # works (工程): building, altering or repairing what is built
    ("公共厕所新建工程", WORKS),
    ("社区党群服务中心装修", WORKS),
    ("河道综合整治工程", WORKS),
    ("中小学校舍维修改造", WORKS),
    ("老旧小区改造项目", WORKS),
    ("既有住宅加装电梯", WORKS),
    ("公园绿地新建", WORKS),
    # works bundled with services (将工程和服务打包)
    ("市政道路建设及养护一体化项目", BUNDLE),
    ("污水处理厂工程总承包(EPC)", BUNDLE),
    # financing (融资行为)
    ("污水处理设施BOT项目", FINANCING),
    ("棚户区改造建设-移交(BT)项目", FINANCING),
    ("安置房项目垫资建设", FINANCING),
    ("基础设施项目融资服务", FINANCING),
    ("政府投资项目贷款贴息", FINANCING),
    # the purchaser's own staffing (人员招、聘用, 劳务派遣, 公益性岗位)
    ("政务服务窗口工作人员招聘", STAFFING),
    ("街道编外人员用工服务", STAFFING),
    ("社区公益性岗位购买", STAFFING),
    ("劳务派遣服务", STAFFING),
    ("城管协管员劳务派遣", STAFFING),
    ("辅助执法人员招聘服务", STAFFING),
    ("临时工用工服务", STAFFING),
]

# Real services the list must let through, the look-alikes of the refused ones first.
PASSING: list[str] = [
    "居家养老上门服务",
    "法律援助服务",
    "社区矫正辅助服务",  # 辅助, but no people bought
    "垃圾分类宣传服务",
    "社区养老服务设施运营管理服务",  # running a facility that exists, not building it
    "公共文化场馆运营管理服务",
    "设备运行维护服务",  # maintaining equipment is a service, not works
    "办公设备维修保养服务",
    "公务车辆维修保养服务",
    "信息系统运行维护服务",
    "电梯安全检验检测服务",
    "心理健康服务",
    "就业招聘会组织服务",  # a public employment service, not the purchaser's recruitment
    "企业招聘服务",
    "公开招聘考务服务",  # administering the exams, not hiring
    "建设工程监理服务",  # services about works are services
    "建设工程造价咨询服务",
    "建筑施工安全巡查服务",
    "施工图设计审查服务",
    "小型水利工程运行管护服务",
    "希望工程助学服务",  # a programme named 工程
    "文化惠民工程演出服务",
    "社区文化建设活动组织",  # 建设 of a culture, not of a building
    "智慧养老平台建设及运营服务",  # an IT platform, not works
    "政府网站建设与维护服务",
    "机关办公楼物业管理服务",
    "老旧小区物业管理服务",
    "园林绿化养护服务",
    "食品安全抽检服务",
    "应急物资储备管理服务",
    "中小企业融资咨询辅导服务",  # advice to enterprises, not the purchaser's financing
    "政务服务窗口人员礼仪培训",  # training them, not employing them
    "辅警心理健康培训服务",
    "社区社会工作服务",
    "残疾人康复服务",
    "残疾人居家托养服务",
    "困境儿童关爱服务",
    "青少年课后托管服务",
    "老年人健康体检服务",
    "12345政务服务便民热线运营服务",
    "安全生产第三方检查服务",
    "环境卫生清扫保洁服务",
    "政策研究咨询服务",
    "政府购买服务第三方绩效评价",
    "社区矛盾纠纷调解服务",
    "禁毒宣传教育服务",
    "法律顾问服务",
    "档案数字化整理服务",
]


def violation(excinfo: pytest.ExceptionInfo[RuleViolation]) -> RuleViolation:
    return excinfo.value


def test_the_tables_hold_at_least_thirty_real_names_each_way():
    refused = [name for name, _ in REFUSED]
    assert len(set(refused)) == len(refused) >= 30
    assert len(set(PASSING)) == len(PASSING) >= 30
    assert not set(refused) & set(PASSING)


@pytest.mark.parametrize(("name", "category"), REFUSED, ids=[name for name, _ in REFUSED])
def test_the_negative_list_refuses_it_under_its_category(name, category):
    matches = match_negative_list(name, "")
    assert matches, f"{name} is not refused"
    assert matches[0].category is category
    assert matches[0].field == "name"


@pytest.mark.parametrize("name", PASSING)
def test_a_real_service_passes_the_negative_list(name):
    assert match_negative_list(name, "面向辖区居民提供服务") == ()


def test_each_match_says_which_pattern_and_article_and_what_it_matched():
    (match,) = match_negative_list("社区服务中心办公用品购置")
    assert (match.pattern_id, match.category, match.matched) == ("goods.purchased", GOODS, "办公用品购置")
    assert match.article == "财政部令第102号 第十条第（三）项"
    staffing = match_negative_list("劳务派遣服务")[0]
    assert staffing.article == "财政部令第102号 第十条第（五）项"
    assert match_negative_list("基础设施项目融资服务")[0].article == "财政部令第102号 第十条第（四）项"


def test_every_pattern_a_name_matches_is_reported_in_the_lists_order():
    ids = [m.pattern_id for m in match_negative_list("城管协管员劳务派遣")]
    assert ids == ["own_staffing.dispatch", "own_staffing.auxiliary_staff"]


def test_refusal_names_the_category_pattern_and_article():
    with pytest.raises(RuleViolation) as exc:
        check_negative_list("老旧小区外墙维修工程", "")
    error = violation(exc)
    assert (error.code, error.status) == ("catalogue_item_in_negative_list", 422)
    assert "'works.built'" in error.detail and "工程 (works)" in error.detail
    assert "第十条第（三）项" in error.detail and "外墙维修" in error.detail
    assert [(e["field"], e["category"], e["pattern"], e["matched"]) for e in error.errors] == [
        ("name", "works", "works.built", "外墙维修"),
        ("name", "works", "works.project", "工程"),
    ]


def test_a_description_is_checked_too():
    (match,) = match_negative_list("窗口服务", "以劳务派遣方式补充本单位窗口人员")[:1]
    assert (match.pattern_id, match.field) == ("own_staffing.dispatch", "description")


def test_spaces_and_full_width_letters_do_not_hide_a_match():
    assert match_negative_list("劳务 派遣", "")
    assert match_negative_list("污水处理设施ＢＯＴ项目", "")[0].pattern_id == "financing.build_transfer"
    assert match_negative_list("Robot 陪伴服务", "") == ()  # bot inside a word is no BOT


@pytest.mark.parametrize(
    "description",
    [
        "本项目不含设备采购和劳务派遣",
        "服务人员由承接主体自行招聘，严禁以劳务派遣方式用工",
        "服务所需设备由承接主体自行购置",
        "采购人提供场地和设备",
        "设备采购除外",
    ],
)
def test_a_description_that_excludes_something_is_not_a_match(description):
    assert match_negative_list("社区居家养老服务", description) == ()


def test_an_exclusion_holds_for_its_own_clause_only():
    assert match_negative_list("社区居家养老服务", "报价不含税，含设备采购")[0].pattern_id == "goods.purchased"
    # A name is a title: it is matched as it stands.
    assert match_negative_list("不含劳务派遣的窗口服务", "")


def test_an_override_with_a_reason_lets_a_match_through_and_records_what_it_overrode():
    override = check_negative_list("应急救援队伍派遣服务", "", override_reason="承接主体派出自有救援队伍提供现场救援，不是劳务派遣用工")
    assert override is not None
    assert override.reason.startswith("承接主体派出")
    assert [m.pattern_id for m in override.matches] == ["own_staffing.dispatch"]
    assert override.as_dict()["matches"][0]["category"] == "own_staffing"


def test_an_override_needs_a_reason_a_supervisor_can_judge():
    with pytest.raises(RuleViolation) as exc:
        check_negative_list("应急救援队伍派遣服务", "", override_reason="误判")
    assert violation(exc).code == "negative_list_override_reason_required"
    assert violation(exc).errors[0]["field"] == "negative_list_override_reason"


def test_a_reason_for_an_item_that_matches_nothing_is_not_an_override():
    assert check_negative_list("居家养老上门服务", "", override_reason="以防万一，先写上理由") is None


def test_a_single_item_on_the_list_is_refused_unless_overridden():
    with pytest.raises(RuleViolation) as exc:
        validate_catalogue_item("E01", "应急救援队伍派遣服务", "", existing_codes={"E"})
    assert violation(exc).code == "catalogue_item_in_negative_list"
    assert violation(exc).detail.startswith("'应急救援队伍派遣服务' matches")
    item = validate_catalogue_item(
        "E01", "应急救援队伍派遣服务", "", existing_codes={"E"}, override_reason="派出自有救援队伍，非劳务派遣用工"
    )
    assert item.negative_list_override is not None
    assert item.negative_list_override.matches[0].pattern_id == "own_staffing.dispatch"
    assert validate_catalogue_item("E02", "法律顾问服务", "", existing_codes={"E"}).negative_list_override is None


def test_an_import_row_may_carry_its_override_reason():
    rows = [
        {"code": "E", "name": "政府履职所需辅助性服务", "description": ""},
        {"code": "E01", "name": "应急救援队伍派遣服务", "negative_list_override_reason": "派出自有救援队伍，非劳务派遣用工"},
        {"code": "E02", "name": "劳务派遣服务", "negative_list_override_reason": ""},
    ]
    with pytest.raises(RuleViolation) as exc:
        validate_catalogue_rows(rows)
    assert [(e["row"], e["pattern"]) for e in violation(exc).errors] == [(4, "own_staffing.dispatch")]
    accepted = validate_catalogue_rows(rows[:2])
    assert accepted[0].negative_list_override is None
    assert accepted[1].negative_list_override is not None


def test_the_list_matches_with_the_patterns_it_is_given():
    tea = NegativePattern("other.tea_break", NegativeCategory.OTHER, r"茶歇", "refreshments are goods")
    assert match_negative_list("办公设备采购", "", (tea,)) == ()
    (match,) = match_negative_list("会议茶歇服务", "", (tea,))
    assert (match.pattern_id, match.article) == ("other.tea_break", "财政部令第102号 第十条")


def test_configured_phrases_match_literally():
    patterns = negative_patterns_from_keywords(["茶歇", " ", "a.b"])
    assert [p.id for p in patterns] == ["keyword.1", "keyword.2"]
    assert match_negative_list("会议 茶歇", "", patterns)[0].category is NegativeCategory.OTHER
    assert match_negative_list("axb", "", patterns) == ()  # a phrase, not an expression


def test_the_default_list_round_trips_through_its_data_form():
    assert negative_patterns_from_data(negative_patterns_as_data(DEFAULT_NEGATIVE_PATTERNS)) == DEFAULT_NEGATIVE_PATTERNS


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([], "non-empty list"),
        ([{"id": "x", "category": "goods", "pattern": "(", "why": "w"}], "'pattern' is not a regular expression"),
        ([{"id": "x", "category": "shoes", "pattern": "a", "why": "w"}], "category must be one of"),
        ([{"id": "x", "category": "goods", "pattern": "a"}], "needs a non-empty string 'why'"),
        ([{"id": "x", "category": "goods", "pattern": "a", "why": "w", "unless": "b"}], "unknown fields"),
        ([{"id": "x", "category": "goods", "pattern": "a", "why": "w"}] * 2, "repeats the id 'x'"),
    ],
)
def test_a_bad_negative_list_file_is_refused_with_the_entry_at_fault(entries, message):
    with pytest.raises(ValueError, match=message):
        negative_patterns_from_data(entries)
