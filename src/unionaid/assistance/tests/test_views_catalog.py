"""The catalog editor through the HTTP client: the list by category (hundreds of items in a
few queries), editing with Chinese validation errors that keep the input, and 试算."""

from __future__ import annotations

import json
from decimal import Decimal

from unionaid.approvals.tests.test_views_todo import assert_no_inline_code
from unionaid.assistance.models import AssistanceItem
from unionaid.audit.models import AuditEvent

CATALOG = "/assistance/catalog/"


def item_data(item, **changes) -> dict:
    data = {
        "code": item.code, "name": item.name, "category": item.category_id,
        "funding_source": item.funding_source_id, "description": item.description,
        "facts": json.dumps(item.facts, ensure_ascii=False),
        "eligibility": json.dumps(item.eligibility, ensure_ascii=False),
        "amount_rule": json.dumps(item.amount_rule, ensure_ascii=False),
        "per_person_cap": "", "per_household_cap": "",
        "required_materials": "诊断证明\n身份证（选填）",
        "valid_from": "", "valid_to": "", "period_kind": item.period_kind, "is_active": "on",
    }
    data.update(changes)
    return data


def test_it_needs_the_catalog_permission(client, staff, illness):
    client.force_login(staff.apply_cadre)
    assert client.get(CATALOG).status_code == 404
    assert client.get(f"{CATALOG}{illness.pk}/").status_code == 404


def test_the_list_groups_hundreds_of_items_by_category_in_a_few_queries(
        client, staff, categories, source, illness, django_assert_max_num_queries):
    AssistanceItem.objects.bulk_create([
        AssistanceItem(code=f"item-{n:03d}", name=f"测试项目{n:03d}",
                       category=categories["zhukun" if n % 2 else "zhuxue"],
                       funding_source=source, amount_rule={"kind": "fixed", "amount": "100"})
        for n in range(300)])
    client.force_login(staff.catalog_admin)
    with django_assert_max_num_queries(15):
        response = client.get(CATALOG)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("/assistance/catalog/") >= 301
    assert "助困" in html
    assert "助学" in html
    assert "大病医疗救助" in html
    assert "按自付费用比例" in html
    assert_no_inline_code(html)
    filtered = client.get(CATALOG, {"q": "大病"}).content.decode()
    assert "大病医疗救助" in filtered
    assert "测试项目001" not in filtered


def test_editing_an_item_saves_it_and_audits(client, staff, illness):
    client.force_login(staff.catalog_admin)
    rule = {"kind": "share", "fact": "self_paid", "deductible": 3000, "rate": 0.6,
            "ceiling": 10000}
    response = client.post(f"{CATALOG}{illness.pk}/", item_data(
        illness, amount_rule=json.dumps(rule), per_person_cap="12000"))
    assert response.status_code == 302
    illness.refresh_from_db()
    assert illness.amount_rule["deductible"] == "3000"
    assert illness.amount_rule["rate"] == "0.6"
    assert illness.per_person_cap == Decimal("12000.00")
    assert illness.required_materials == [{"name": "诊断证明", "required": True},
                                          {"name": "身份证", "required": False}]
    event = AuditEvent.objects.filter(action="assistance_item.save").latest("id")
    assert event.actor_id == staff.catalog_admin.pk
    assert "amount_rule" in event.changes
    page = client.get(f"{CATALOG}{illness.pk}/").content.decode()
    assert "身份证（选填）" in page
    assert_no_inline_code(page)


def test_bad_json_is_refused_and_the_text_kept(client, staff, illness):
    client.force_login(staff.catalog_admin)
    typed = '{"kind": "fixed", "amount": 500,'
    response = client.post(f"{CATALOG}{illness.pk}/", item_data(illness, amount_rule=typed))
    html = response.content.decode()
    assert response.status_code == 400
    assert "JSON 格式不正确" in html
    assert "{&quot;kind&quot;: &quot;fixed&quot;, &quot;amount&quot;: 500," in html
    illness.refresh_from_db()
    assert illness.amount_rule["kind"] == "share"


def test_a_rule_error_from_the_service_is_shown_in_chinese_and_the_input_kept(
        client, staff, illness):
    client.force_login(staff.catalog_admin)
    rules = json.dumps([{"rule": "salary < 3000", "message": "收入过高"}], ensure_ascii=False)
    response = client.post(f"{CATALOG}{illness.pk}/", item_data(
        illness, eligibility=rules, name="大病医疗救助（改）"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "申请条件“salary &lt; 3000”有误" in html
    assert 'value="大病医疗救助（改）"' in html
    assert "收入过高" in html
    illness.refresh_from_db()
    assert illness.name == "大病医疗救助"
    assert not AuditEvent.objects.filter(action="assistance_item.save",
                                         actor_id=staff.catalog_admin.pk).exists()


def test_a_new_item_can_be_created(client, staff, categories, source):
    client.force_login(staff.catalog_admin)
    response = client.post(f"{CATALOG}new/", {
        "code": "zk-jjkn", "name": "节日慰问", "category": categories["zhukun"].pk,
        "funding_source": source.pk, "facts": "", "eligibility": "",
        "amount_rule": '{"kind": "fixed", "amount": 600}', "required_materials": "",
        "period_kind": "year", "is_active": "on"})
    item = AssistanceItem.objects.get(code="zk-jjkn")
    assert response.status_code == 302
    assert response["Location"] == f"{CATALOG}{item.pk}/"
    assert item.amount_rule == {"kind": "fixed", "amount": "600"}
    assert item.facts == []


def test_a_duplicate_code_is_refused(client, staff, illness, categories, source):
    client.force_login(staff.catalog_admin)
    response = client.post(f"{CATALOG}new/", {
        "code": illness.code, "name": "另一个", "category": categories["zhukun"].pk,
        "funding_source": source.pk, "amount_rule": '{"kind": "fixed", "amount": 600}',
        "period_kind": "year"})
    assert response.status_code == 400
    assert f"项目编码“{illness.code}”已存在" in response.content.decode()
    assert AssistanceItem.objects.count() == 1


def test_the_trial_shows_the_amount_with_its_calculation(client, staff, illness):
    client.force_login(staff.catalog_admin)
    response = client.get(f"{CATALOG}{illness.pk}/trial/", {"fact_self_paid": "20000"},
                          headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "金额：8,000.00 元" in html
    assert "超过封顶线 8,000.00 元，按封顶线计。" in html
    assert "符合申请条件" in html


def test_the_trial_shows_refusals_and_fact_errors(client, staff, make_item):
    item = make_item(code="zk-sndk", name="深度困难救助", category="zhukun", eligibility=[
        {"rule": "in_archive", "message": "仅限已建档的困难职工申请。"}])
    client.force_login(staff.catalog_admin)
    refused = client.get(f"{CATALOG}{item.pk}/trial/", {"fact_self_paid": "9000"})
    assert refused.status_code == 200
    assert "仅限已建档的困难职工申请" in refused.content.decode()
    assert "<html" in refused.content.decode()  # without htmx: the whole item page
    wrong = client.get(f"{CATALOG}{item.pk}/trial/", {"fact_self_paid": "很多"},
                       headers={"HX-Request": "true"}).content.decode()
    assert "“自付医疗费用”的填写不正确" in wrong
    assert 'value="很多"' in wrong
