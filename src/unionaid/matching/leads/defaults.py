"""The default lead rules (plain data: the data migration and ``lead_rules_load_defaults`` use
it). Item codes and materials are those of the default catalog (``assistance.catalog_data``);
each union edits the rules on the lead rules page."""

from __future__ import annotations

DEFAULT_RULES: list[dict] = [
    {"code": "admission-jqzx", "name": "子女考入本科、专科 → 金秋助学", "order": 10,
     "description": "录取名单上的职工子女（名单按家长身份证号比对），按录取层次预填金秋助学。",
     "source_kinds": ["admission"], "condition": "education_level in ['本科', '专科']",
     "action": "application", "item_code": "xx-jqzx",
     "item_facts": {"case": "education_level + '新生'"}, "material": "录取通知书或在读证明"},
    {"code": "admission-yjs", "name": "子女考取研究生 → 研究生新生助学", "order": 11,
     "description": "录取名单上录取层次为研究生的职工子女。",
     "source_kinds": ["admission"], "condition": "'研究生' in education_level",
     "action": "application", "item_code": "xx-yjs", "item_facts": {},
     "material": "研究生录取通知书"},
    {"code": "medical-dbjz", "name": "医保大额自付超 2,000 元 → 大病医疗救助", "order": 20,
     "description": "医保结算中个人自付超过 2,000 元，按自付金额预填大病医疗救助。",
     "source_kinds": ["medical"], "condition": "amount > 2000",
     "action": "application", "item_code": "yl-dbjz", "item_facts": {"self_paid": "amount"},
     "material": "医保结算单"},
    {"code": "dibao-visit", "name": "低保家庭职工未建档 → 入户走访", "order": 30,
     "description": "职工在民政低保名单上，但未建立困难职工档案：先入户走访，登记家庭情况。",
     "source_kinds": ["dibao"], "condition": "not in_archive", "action": "visit",
     "due_days": 7},
    {"code": "dibao-enrol", "name": "低保家庭职工未建档 → 建档", "order": 31,
     "description": "职工在民政低保名单上，但未建立困难职工档案：走访登记家庭情况后建档。",
     "source_kinds": ["dibao"], "condition": "not in_archive", "action": "enrolment"},
    {"code": "property-review", "name": "建档职工家庭有两套以上住房 → 档案复核", "order": 40,
     "description": "多渠道交叉核验：不动产登记显示建档家庭持有两套及以上住房。",
     "source_kinds": ["property"], "condition": "in_archive and homes >= 2",
     "action": "review", "review_kind": "recheck"},
    {"code": "business-review", "name": "建档职工家庭登记有经营主体 → 档案复核", "order": 41,
     "description": "多渠道交叉核验：市场主体登记显示建档家庭经营企业或个体工商户。",
     "source_kinds": ["property", "other"], "condition": "in_archive and business",
     "action": "review", "review_kind": "recheck"},
    {"code": "death-close", "name": "建档职工死亡 → 销档", "order": 50,
     "description": "户籍变动名单显示建档职工死亡：核实后销档。",
     "source_kinds": ["registry"], "condition": "in_archive and event == '死亡'",
     "action": "review", "review_kind": "close"},
]
