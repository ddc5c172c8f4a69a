"""The default catalog (帮扶项目): 助困 / 助医 / 助学, loaded by ``manage.py load_catalog``.

Amounts, thresholds and materials follow common practice of Chinese union assistance rules
(e.g. 大病医疗救助: 自付超过 2,000 元部分补助 50%，最高 8,000 元; 金秋助学: 本科新生 5,000 元 …);
each union edits them in the catalog editor. Items whose rule says ``in_archive`` or
``hardship_category`` need the hardship archive (建档) to say who is in hardship.
"""

from __future__ import annotations

CATEGORIES = [
    {"code": "zhukun", "name": "助困", "order": 1},
    {"code": "zhuyi", "name": "助医", "order": 2},
    {"code": "zhuxue", "name": "助学", "order": 3},
]

FUNDING_SOURCES = [
    {"code": "ghjf", "name": "工会经费"},
    {"code": "swn", "name": "送温暖专项"},
    {"code": "sjbz", "name": "上级补助"},
    {"code": "shjz", "name": "社会捐赠"},
]

# Yearly caps across items (category code or None = all items).
ANNUAL_CAPS = [
    {"category": None, "per_person": None, "per_household": "30000"},
    {"category": "zhuyi", "per_person": "15000", "per_household": None},
]

# -- reusable pieces --------------------------------------------------------------------------

ACTIVE = {"rule": "membership_active", "message": "仅限在籍工会会员申请。"}
ARCHIVE = {"rule": "in_archive", "message": "仅限已建档的困难职工申请。"}
DEEP = {"rule": "hardship_category == '深度困难'", "message": "仅限建档的深度困难职工申请。"}
FEMALE = {"rule": "is_female", "message": "仅限女职工申请。"}
GIG = {"rule": "new_employment_form",
       "message": "仅限新就业形态劳动者（快递员、外卖骑手、网约车司机、货车司机等）申请。"}
HAS_CHILD = {"rule": "children_count >= 1", "message": "请先在家庭情况中登记子女信息。"}


def low_income(limit: int) -> dict:
    return {"rule": f"per_capita_income < {limit}",
            "message": f"家庭月人均收入须低于 {limit:,} 元。"}


def money(name: str, label: str, help_text: str = "", required: bool = True) -> dict:
    fact = {"name": name, "label": label, "type": "money", "required": required}
    if help_text:
        fact["help"] = help_text
    return fact


def choice(name: str, label: str, choices: list[str]) -> dict:
    return {"name": name, "label": label, "type": "choice", "choices": choices}


def count(name: str, label: str) -> dict:
    return {"name": name, "label": label, "type": "int"}


def flag(name: str, label: str) -> dict:
    return {"name": name, "label": label, "type": "bool", "required": False}


INCOME = money("per_capita_income", "家庭月人均收入（元）", "家庭上年度总收入 ÷ 12 ÷ 家庭人口")
SELF_PAID = money("self_paid", "自付医疗费用（元）", "医保等报销后个人负担的合规医疗费用")
ID_CARD = "身份证或社保卡"
INCOME_PROOF = "家庭收入情况说明"
BILLS = "医疗费用票据"
DIAGNOSIS = "诊断证明"
SETTLEMENT = "医保结算单"
ADMISSION = "录取通知书或在读证明"


def share(fact: str, deductible: int, rate: str, ceiling: int | None) -> dict:
    rule = {"kind": "share", "fact": fact, "deductible": deductible, "rate": rate}
    if ceiling:
        rule["ceiling"] = ceiling
    return rule


def table(fact: str, rows: dict[str, int]) -> dict:
    return {"kind": "table", "fact": fact, "rows": rows}


def fixed(amount: int) -> dict:
    return {"kind": "fixed", "amount": amount}


def per_unit(fact: str, rate: int, unit: str, ceiling: int | None) -> dict:
    rule = {"kind": "per_unit", "fact": fact, "rate": rate, "unit": unit}
    if ceiling:
        rule["ceiling"] = ceiling
    return rule


def item(code, name, category, source, amount_rule, *, facts=(), eligibility=(ACTIVE,),
         materials=(ID_CARD,), period="year", person_cap=None, household_cap=None,
         description=""):
    return {"code": code, "name": name, "category": category, "funding_source": source,
            "amount_rule": amount_rule, "facts": list(facts), "eligibility": list(eligibility),
            "required_materials": list(materials), "period_kind": period,
            "per_person_cap": person_cap, "per_household_cap": household_cap,
            "description": description}


CAUSES = ["家庭成员突发重病", "遭遇自然灾害", "家庭主要劳动力死亡", "其他突发困难"]
INJURY = ["轻伤", "重伤", "致残", "死亡"]

ITEMS = [
    # -- 助困 ----------------------------------------------------------------------------------
    item("kn-shjz", "困难职工生活救助", "zhukun", "swn", fixed(3000),
         eligibility=(ACTIVE, ARCHIVE), materials=(ID_CARD, INCOME_PROOF),
         description="建档困难职工每年一次生活救助。"),
    item("kn-sdkn", "深度困难职工生活补助", "zhukun", "sjbz", fixed(5000),
         eligibility=(ACTIVE, DEEP), materials=(ID_CARD, INCOME_PROOF),
         description="在生活救助之外，对深度困难职工的年度补助。"),
    item("kn-lsjz", "临时困难救助", "zhukun", "ghjf", table("cause", {
        "家庭成员突发重病": 3000, "遭遇自然灾害": 5000, "家庭主要劳动力死亡": 5000,
        "其他突发困难": 2000}),
         facts=[choice("cause", "致困原因", CAUSES)],
         eligibility=(ACTIVE, {"rule": "item_grants_this_year < 2",
                               "message": "同一年度临时困难救助最多 2 次。"}),
         materials=(ID_CARD, "致困情况证明"), period="case",
         description="因突发事件导致基本生活暂时困难的职工。"),
    item("kn-ywsh", "意外伤害救助", "zhukun", "ghjf", table("degree", {
        "轻伤": 1000, "重伤": 3000, "致残": 5000, "死亡": 10000}),
         facts=[choice("degree", "伤害程度", INJURY), {"name": "happened_on",
                                                     "label": "事故日期", "type": "date"}],
         materials=(ID_CARD, "事故证明或医院诊断"), period="case",
         description="职工遭受意外伤害（非工伤亦可）的一次性救助。"),
    item("kn-swn", "送温暖慰问（元旦春节）", "zhukun", "swn", table("target", {
        "困难职工": 1000, "困难劳模": 1500, "一线困难职工": 800}),
         facts=[choice("target", "慰问对象", ["困难职工", "困难劳模", "一线困难职工"])],
         materials=(), description="两节送温暖集中慰问。"),
    item("kn-xsql", "夏送清凉慰问", "zhukun", "swn", fixed(300), materials=(),
         eligibility=(ACTIVE, {"rule": "outdoor_work", "message": "仅限高温露天作业岗位职工。"}),
         facts=[flag("outdoor_work", "是否高温露天作业岗位")],
         description="对高温、露天作业一线职工的防暑降温慰问。"),
    item("kn-dqnz", "单亲困难女职工帮扶", "zhukun", "ghjf", fixed(2000),
         facts=[flag("single_parent", "是否单亲家庭"), INCOME],
         eligibility=(ACTIVE, FEMALE,
                      {"rule": "single_parent", "message": "仅限单亲家庭女职工申请。"},
                      low_income(2500)),
         materials=(ID_CARD, "离婚证明或配偶死亡证明", INCOME_PROOF)),
    item("kn-xjyyw", "新就业形态劳动者意外帮扶", "zhukun", "sjbz",
         share("self_paid", 0, "0.6", 5000),
         facts=[money("self_paid", "意外伤害自付医疗费用（元）")],
         eligibility=(GIG,), materials=(ID_CARD, "平台接单记录截图", BILLS), period="case",
         description="快递员、外卖骑手等在工作中意外受伤，按自付医疗费用的 60% 帮扶，最高 5,000 元。"),
    item("kn-xjykn", "新就业形态劳动者困难帮扶", "zhukun", "sjbz", fixed(1500),
         facts=[INCOME], eligibility=(GIG, low_income(2000)),
         materials=(ID_CARD, "平台接单记录截图", INCOME_PROOF)),
    item("kn-zfsz", "住房受损救助", "zhukun", "shjz", table("damage", {
        "房屋倒塌": 10000, "房屋严重损坏": 5000, "房屋一般损坏": 2000}),
         facts=[choice("damage", "受损程度", ["房屋倒塌", "房屋严重损坏", "房屋一般损坏"])],
         materials=(ID_CARD, "受灾证明", "受损房屋照片"), period="case"),
    item("kn-zhss", "自然灾害财产损失救助", "zhukun", "shjz",
         share("loss", 0, "0.3", 10000),
         facts=[money("loss", "财产损失金额（元）")],
         materials=(ID_CARD, "受灾证明", "损失清单"), period="case",
         description="按核实损失的 30% 救助，最高 10,000 元。"),
    item("kn-cjsh", "残疾职工生活补助", "zhukun", "ghjf", table("level", {
        "一级": 3000, "二级": 2500, "三级": 1500, "四级": 1000}),
         facts=[choice("level", "残疾等级", ["一级", "二级", "三级", "四级"])],
         materials=(ID_CARD, "残疾人证")),
    item("kn-knlm", "困难劳模帮扶", "zhukun", "sjbz", table("honor", {
        "全国劳模": 6000, "省部级劳模": 4000, "市级劳模": 2000}),
         facts=[choice("honor", "荣誉级别", ["全国劳模", "省部级劳模", "市级劳模"]), INCOME],
         eligibility=(low_income(3000),), materials=(ID_CARD, "劳模荣誉证书", INCOME_PROOF)),
    item("kn-zyjn", "困难职工再就业技能培训补贴", "zhukun", "ghjf",
         per_unit("days", 50, "天", 1500), facts=[count("days", "培训天数")],
         eligibility=(ACTIVE, ARCHIVE), materials=(ID_CARD, "培训结业证明"), period="case"),
    item("kn-jrwz", "困难职工家庭节日慰问（中秋）", "zhukun", "swn", fixed(500),
         eligibility=(ACTIVE, ARCHIVE), materials=()),
    # -- 助医 ----------------------------------------------------------------------------------
    item("yl-dbjz", "大病医疗救助", "zhuyi", "ghjf", share("self_paid", 2000, "0.5", 8000),
         facts=[SELF_PAID, choice("disease", "病种", [
             "恶性肿瘤", "尿毒症", "器官移植", "白血病", "心脑血管疾病", "其他重大疾病"])],
         materials=(ID_CARD, DIAGNOSIS, BILLS, SETTLEMENT), person_cap=8000,
         description="自付医疗费用超过 2,000 元的部分补助 50%，每人每年最高 8,000 元。"),
    item("yl-zybz", "住院医疗补助", "zhuyi", "ghjf", per_unit("days", 100, "天", 3000),
         facts=[count("days", "住院天数"), {"name": "admitted_on", "label": "入院日期",
                                            "type": "date"}],
         materials=(ID_CARD, "出院小结"), period="case", person_cap=6000,
         description="住院每天 100 元，每次最高 3,000 元，每年最高 6,000 元。"),
    item("yl-zdjb", "重大疾病一次性救助", "zhuyi", "sjbz", table("disease", {
        "恶性肿瘤": 5000, "尿毒症": 5000, "器官移植": 5000, "白血病": 5000,
        "其他重大疾病": 3000}),
         facts=[choice("disease", "病种", ["恶性肿瘤", "尿毒症", "器官移植", "白血病",
                                           "其他重大疾病"])],
         materials=(ID_CARD, DIAGNOSIS)),
    item("yl-mxb", "慢性病门诊补助", "zhuyi", "ghjf", share("self_paid", 1000, "0.3", 2000),
         facts=[SELF_PAID], materials=(ID_CARD, "慢性病证明", BILLS)),
    item("yl-jsdb", "职工家属大病医疗救助", "zhuyi", "shjz",
         share("self_paid", 5000, "0.3", 5000),
         facts=[SELF_PAID, choice("patient", "患病家属", ["配偶", "子女", "父母"])],
         eligibility=(ACTIVE, {"rule": "household_size > 1",
                               "message": "请先在家庭情况中登记患病家属。"}),
         materials=(ID_CARD, "亲属关系证明", DIAGNOSIS, BILLS)),
    item("yl-la", "女职工“两癌”救助", "zhuyi", "sjbz", table("stage", {
        "筛查确诊": 5000, "术后康复": 2000}),
         facts=[choice("stage", "情形", ["筛查确诊", "术后康复"])],
         eligibility=(ACTIVE, FEMALE), materials=(ID_CARD, DIAGNOSIS),
         description="患乳腺癌、宫颈癌的女职工救助。"),
    item("yl-tjbt", "困难职工健康体检补贴", "zhuyi", "ghjf", fixed(200),
         eligibility=(ACTIVE, ARCHIVE), materials=("体检费用票据",)),
    item("yl-gsww", "工伤住院慰问", "zhuyi", "ghjf", fixed(800),
         materials=(ID_CARD, "工伤认定书或住院证明"), period="case"),
    item("yl-xlzx", "心理健康援助补贴", "zhuyi", "ghjf", per_unit("sessions", 200, "次", 1600),
         facts=[count("sessions", "心理咨询次数")], materials=("心理咨询机构收费凭证",)),
    item("yl-kfzl", "康复治疗补助", "zhuyi", "ghjf", share("self_paid", 500, "0.4", 3000),
         facts=[SELF_PAID], materials=(ID_CARD, "康复治疗证明", BILLS)),
    item("yl-xjyzy", "新就业形态劳动者住院补助", "zhuyi", "sjbz",
         per_unit("days", 80, "天", 2000), facts=[count("days", "住院天数")],
         eligibility=(GIG,), materials=(ID_CARD, "出院小结"), period="case"),
    # -- 助学 ----------------------------------------------------------------------------------
    item("xx-jqzx", "金秋助学", "zhuxue", "swn", table("case", {
        "本科新生": 5000, "专科新生": 4000, "本科在读": 3000, "专科在读": 2000}),
         facts=[choice("case", "就学情形", ["本科新生", "专科新生", "本科在读", "专科在读"]),
                INCOME],
         eligibility=(ACTIVE, HAS_CHILD, low_income(2500)),
         materials=(ID_CARD, ADMISSION, INCOME_PROOF),
         description="困难职工子女上大学：本科新生 5,000 元、专科新生 4,000 元，在读 3,000/2,000 元。"),
    item("xx-rxbz", "子女入学补助", "zhuxue", "ghjf", table("stage", {
        "小学入学": 500, "初中入学": 800, "高中入学": 1000}),
         facts=[choice("stage", "入学阶段", ["小学入学", "初中入学", "高中入学"]), INCOME],
         eligibility=(ACTIVE, HAS_CHILD, low_income(3000)),
         materials=(ID_CARD, "入学通知书或学籍证明")),
    item("xx-yjs", "研究生新生助学", "zhuxue", "shjz", fixed(6000), facts=[INCOME],
         eligibility=(ACTIVE, HAS_CHILD, low_income(2500)),
         materials=(ID_CARD, "研究生录取通知书", INCOME_PROOF)),
    item("xx-zzzx", "中职高职助学", "zhuxue", "ghjf", table("case", {
        "中职新生": 2000, "中职在读": 1500, "高职新生": 3000, "高职在读": 2000}),
         facts=[choice("case", "就学情形", ["中职新生", "中职在读", "高职新生", "高职在读"]),
                INCOME],
         eligibility=(ACTIVE, HAS_CHILD, low_income(2500)), materials=(ID_CARD, ADMISSION)),
    item("xx-gzzx", "高中阶段助学", "zhuxue", "ghjf", fixed(1500), facts=[INCOME],
         eligibility=(ACTIVE, HAS_CHILD, low_income(2500)), materials=(ID_CARD, "在读证明")),
    item("xx-xlts", "职工学历提升补助", "zhuxue", "ghjf", share("tuition", 0, "0.5", 3000),
         facts=[money("tuition", "已缴学费（元）")],
         eligibility=(ACTIVE, {"rule": "membership_years >= 1",
                               "message": "入会满 1 年的会员方可申请。"}),
         materials=(ID_CARD, "学籍证明", "学费票据"),
         description="职工本人参加学历教育，学费补助 50%，每年最高 3,000 元。"),
    item("xx-jnts", "职工技能提升培训补贴", "zhuxue", "ghjf", per_unit("days", 60, "天", 1800),
         facts=[count("days", "培训天数")], materials=("培训结业证书",), period="case",
         person_cap=3600),
    item("xx-xjyzx", "新就业形态劳动者子女助学", "zhuxue", "sjbz", table("case", {
        "本科新生": 4000, "专科新生": 3000}),
         facts=[choice("case", "就学情形", ["本科新生", "专科新生"])],
         eligibility=(GIG, HAS_CHILD), materials=(ID_CARD, ADMISSION, "平台接单记录截图")),
    item("xx-lmzx", "劳模子女助学", "zhuxue", "sjbz", table("case", {
        "本科新生": 5000, "专科新生": 4000}),
         facts=[choice("case", "就学情形", ["本科新生", "专科新生"])],
         eligibility=(ACTIVE, HAS_CHILD), materials=(ID_CARD, "劳模荣誉证书", ADMISSION)),
]
