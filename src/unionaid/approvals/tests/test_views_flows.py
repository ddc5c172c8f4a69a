"""The flow editor through the HTTP client: inheritance shown, saving publishes a new version,
Chinese step errors keep the input, and the preview lists which steps run or are skipped."""

from __future__ import annotations

import re

import pytest

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalFlow, AssigneeKind, FlowVersion
from unionaid.audit.models import AuditEvent

from .test_views_todo import assert_no_inline_code

KIND = "assistance.application"
EDIT = "/approvals/flows/edit/"
PREVIEW = "/approvals/flows/preview/"


@pytest.fixture
def admin(union):
    role = make_role("catalog", ["org.view", "assistance.catalog"], DataScope.ALL)
    return make_staff("catalog_admin", union.bureau, [role])


@pytest.fixture
def posts(union):
    """The posts the standard flow names: 站段 A 帮扶干事 and 路局 主席."""
    role = make_role("approver", ["org.view", "assistance.view"])
    return {"officer": make_staff("officer", union.station_a, [role], "帮扶干事"),
            "chairman": make_staff("chairman", union.bureau, [role], "主席")}


@pytest.fixture
def bureau_flow(union, posts):
    return approvals.flow_save(
        actor=None, subject_kind=KIND, subject_key="", org_unit=union.bureau, name="帮扶审批",
        steps=[{"name": "站段审核", "position_name": "帮扶干事", "unit_depth": 2},
               {"name": "主席审批", "position_name": "主席", "unit_depth": 1,
                "skip_condition": "amount <= 2000"}])


def step_data(steps: list[dict], *, initial: int = 0) -> dict:
    data = {"steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": str(initial),
            "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000"}
    for index, step in enumerate(steps):
        row = {"assignee_kind": "position", "due_days": "3", "ORDER": str(index + 1), **step}
        for key, value in row.items():
            if value is True:
                value = "on"
            elif value is False:
                continue
            data[f"steps-{index}-{key}"] = value
    return data


def test_it_needs_the_catalog_permission(client, personas, union):
    client.force_login(personas.station_cadre)
    assert client.get("/approvals/flows/").status_code == 404
    assert client.get(f"{EDIT}?unit={union.bureau.pk}&item=").status_code == 404


def test_the_list_shows_flows_per_unit_and_item(client, admin, bureau_flow):
    client.force_login(admin)
    response = client.get("/approvals/flows/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "测试铁路局工会" in html
    assert "全部项目（通用）" in html
    assert "站段审核" in html
    assert "主席审批" in html
    assert "v1" in html
    assert_no_inline_code(html)


def test_a_unit_without_its_own_flow_shows_where_it_inherits_from(client, admin, union,
                                                                   bureau_flow):
    client.force_login(admin)
    response = client.get(f"{EDIT}?unit={union.station_a.pk}&item=")
    html = response.content.decode()
    assert response.status_code == 200
    assert "继承自 测试铁路局工会" in html
    assert 'value="站段审核"' in html
    assert 'value="amount &lt;= 2000"' in html
    assert_no_inline_code(html)


def test_saving_publishes_a_new_version_and_keeps_the_old_one(client, admin, union,
                                                              bureau_flow):
    client.force_login(admin)
    url = f"{EDIT}?unit={union.bureau.pk}&item="
    data = {"name": "帮扶审批（修订）", "note": "主席审批门槛改为 3000",
            **step_data([
                {"name": "站段审核", "position_name": "帮扶干事", "unit_depth": "2",
                 "allow_batch": True},
                {"name": "主席审批", "position_name": "主席", "unit_depth": "1",
                 "skip_condition": "amount <= 3000"},
            ], initial=2)}

    response = client.post(url, data)

    assert response.status_code == 302
    flow = ApprovalFlow.objects.get(subject_kind=KIND, subject_key="", org_unit=union.bureau)
    versions = {v.number: v for v in flow.versions.all()}
    assert set(versions) == {1, 2}
    assert versions[2].is_current
    assert not versions[1].is_current
    assert flow.name == "帮扶审批（修订）"
    assert versions[2].note == "主席审批门槛改为 3000"
    new_steps = list(versions[2].steps.order_by("order"))
    assert [s.skip_condition for s in new_steps] == ["", "amount <= 3000"]
    assert new_steps[0].allow_batch is True
    assert versions[1].steps.get(order=2).skip_condition == "amount <= 2000"  # untouched
    event = AuditEvent.objects.filter(action="approval.flow_save").latest("id")
    assert event.actor_id == admin.pk
    assert event.changes["version"] == 2
    page = client.get(url).content.decode()
    assert "第 2 版" in page
    assert "本单位自定义流程" in page


def test_a_unit_can_override_with_its_own_flow_and_reorder_steps(client, admin, union,
                                                                 bureau_flow):
    client.force_login(admin)
    data = {"name": "甲段流程", **step_data([
        {"name": "主席审批", "position_name": "主席", "unit_depth": "1", "ORDER": "2"},
        {"name": "站段审核", "position_name": "帮扶干事", "unit_depth": "2", "ORDER": "1"},
        {"name": "多余节点", "position_name": "主席", "unit_depth": "1", "DELETE": True},
    ])}
    response = client.post(f"{EDIT}?unit={union.station_a.pk}&item=", data)
    assert response.status_code == 302
    version = FlowVersion.objects.get(flow__org_unit=union.station_a, is_current=True)
    assert [s.name for s in version.steps.order_by("order")] == ["站段审核", "主席审批"]
    resolved = approvals.flow_resolve(subject_kind=KIND, subject_key="x",
                                      org_unit=union.team_a)
    assert resolved == version


def test_step_errors_are_shown_in_chinese_and_keep_the_input(client, admin, union, bureau_flow):
    client.force_login(admin)
    data = {"name": "帮扶审批", **step_data([
        {"name": "站段审核", "position_name": "帮扶干事", "unit_depth": "2"},
        {"name": "主席审批", "position_name": "主席", "unit_depth": "1",
         "skip_condition": "amount <= "},
    ], initial=2)}
    response = client.post(f"{EDIT}?unit={union.bureau.pk}&item=", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "规则无法计算" in html
    assert 'value="amount &lt;= "' in html
    assert 'value="主席审批"' in html
    assert FlowVersion.objects.filter(flow__org_unit=union.bureau).count() == 1


def test_a_missing_position_name_is_refused(client, admin, union):
    client.force_login(admin)
    data = {"name": "帮扶审批", **step_data([{"name": "站段审核", "unit_depth": "2"}])}
    response = client.post(f"{EDIT}?unit={union.bureau.pk}&item=", data)
    assert response.status_code == 400
    assert "请填写审批岗位名称" in response.content.decode()
    assert not ApprovalFlow.objects.exists()


def test_a_step_can_name_a_person_by_user_name(client, admin, union, posts):
    client.force_login(admin)
    data = {"name": "点名流程", **step_data([
        {"name": "主席亲审", "assignee_kind": "user", "username": "chairman"}])}
    response = client.post(f"{EDIT}?unit={union.bureau.pk}&item=", data)
    assert response.status_code == 302
    step = FlowVersion.objects.get(is_current=True).steps.get()
    assert step.assignee_kind == AssigneeKind.USER
    assert step.user == posts["chairman"]
    assert step.user_position.name == "主席"
    posts_html = client.get("/approvals/flows/user-posts/?steps-0-username=chairman")
    assert "测试铁路局工会·主席" in posts_html.content.decode()


def test_an_unknown_user_name_is_refused(client, admin, union):
    client.force_login(admin)
    data = {"name": "点名流程", **step_data([
        {"name": "主席亲审", "assignee_kind": "user", "username": "nobody"}])}
    response = client.post(f"{EDIT}?unit={union.bureau.pk}&item=", data)
    assert response.status_code == 400
    assert "请填写有效的用户名" in response.content.decode()


def test_the_preview_lists_skipped_steps_and_who_decides(client, admin, union, bureau_flow):
    client.force_login(admin)
    small = client.get(PREVIEW, {"unit": union.team_a.pk, "item": "", "amount": "1500"})
    html = small.content.decode()
    assert small.status_code == 200
    assert "继承自 测试铁路局工会" in html
    assert "甲车务段·帮扶干事" in html  # the applicant's 站段 post decides step 1
    assert "已跳过" in html
    assert "满足跳过条件：金额不超过 2000 元" in html
    assert "amount &lt;= 2000" not in html
    assert_no_inline_code(html)

    large = client.get(PREVIEW, {"unit": union.team_a.pk, "item": "", "amount": "5000"},
                       headers={"HX-Request": "true"})
    fragment = large.content.decode()
    assert "<html" not in fragment  # htmx gets the fragment only
    assert "已跳过" not in fragment
    assert "测试铁路局工会·主席" in fragment


def test_the_preview_says_when_no_flow_applies(client, admin, union):
    client.force_login(admin)
    response = client.get(PREVIEW, {"unit": union.team_b.pk, "item": "", "amount": "100"})
    assert response.status_code == 400
    assert "都没有配置该事项的审批流程" in response.content.decode()


def test_the_preview_page_opens_with_an_empty_form(client, admin):
    client.force_login(admin)
    response = client.get(PREVIEW)
    assert response.status_code == 200
    html = response.content.decode()
    assert "流程预览" in html
    assert "invalid-feedback" not in html
    assert "alert-danger" not in html


def test_the_editor_sets_allow_same_decider_with_its_warning_and_journals_it(client, admin,
                                                                            union, bureau_flow):
    client.force_login(admin)
    url = f"{EDIT}?unit={union.bureau.pk}&item="
    page = client.get(url).content.decode()
    assert "仅适用于人员很少的工会" in page
    data = {"name": "帮扶审批", "allow_same_decider": "on",
            **step_data([{"name": "站段审核", "position_name": "帮扶干事", "unit_depth": "2"}],
                        initial=1)}
    assert client.post(url, data).status_code == 302
    flow = ApprovalFlow.objects.get(subject_kind=KIND, subject_key="", org_unit=union.bureau)
    assert flow.allow_same_decider is True
    event = AuditEvent.objects.filter(action="approval.flow_save").latest("id")
    assert event.changes["allow_same_decider"] is True
    box = re.search(r'<input[^>]*name="allow_same_decider"[^>]*>',
                    client.get(url).content.decode())
    assert box is not None
    assert "checked" in box.group(0)
    assert "允许同一人办理多个节点" in client.get("/approvals/flows/").content.decode()
    del data["allow_same_decider"]
    assert client.post(url, data).status_code == 302
    flow.refresh_from_db()
    assert flow.allow_same_decider is False
