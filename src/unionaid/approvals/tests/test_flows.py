"""Flows: versions, validation, inheritance down the tree, preview."""

from __future__ import annotations

import pytest

from conftest import make_role, make_staff
from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalFlow, FlowVersion, TaskStatus
from unionaid.approvals.tests.conftest import KIND, STANDARD_STEPS
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied, ServiceError

pytestmark = pytest.mark.django_db


def test_it_publishes_a_new_version_and_keeps_the_old_one(chain):
    flow = ApprovalFlow.objects.get(subject_kind=KIND, org_unit=chain.union.bureau)
    v2 = approvals.flow_save(actor=None, subject_kind=KIND, subject_key="",
                             org_unit=chain.union.bureau, name="简化流程",
                             steps=[STANDARD_STEPS[0]], note="去掉复核")
    assert v2.number == 2
    assert v2.is_current
    v1 = FlowVersion.objects.get(flow=flow, number=1)
    assert not v1.is_current
    assert [s.name for s in v1.steps.all()] == ["站段审核", "路局复核", "主席审批"]
    assert [s.name for s in v2.steps.all()] == ["站段审核"]
    flow.refresh_from_db()
    assert flow.name == "简化流程"
    event = AuditEvent.objects.filter(action="approval.flow_save").first()
    assert event.changes["version"] == 2
    assert event.changes["note"] == "去掉复核"


def test_an_in_flight_case_keeps_its_flow_version(chain):
    old_case = chain.start()
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="",
                        org_unit=chain.union.bureau, name="简化流程",
                        steps=[{"name": "主席直批", "position_name": "主席", "unit_depth": 1}])
    task = old_case.tasks.get(status=TaskStatus.PENDING)
    approvals.task_decide(actor=chain.station_officer, task=task, decision="approve")
    # the old case goes on along v1: the next step is v1's 路局复核
    nxt = old_case.tasks.get(status=TaskStatus.PENDING)
    assert nxt.step.name == "路局复核"
    assert nxt.step.version.number == 1
    new_case = chain.start()
    assert new_case.flow_version.number == 2
    assert new_case.tasks.get(status=TaskStatus.PENDING).step.name == "主席直批"


def test_a_flow_at_the_bureau_is_inherited_and_a_station_override_wins(chain):
    union = chain.union
    inherited = approvals.flow_resolve(subject_kind=KIND, subject_key="ITEM-1",
                                       org_unit=union.team_a)
    assert inherited.flow.org_unit == union.bureau
    override = approvals.flow_save(actor=None, subject_kind=KIND, subject_key="",
                                   org_unit=union.station_a, name="甲段流程",
                                   steps=[STANDARD_STEPS[0]])
    assert approvals.flow_resolve(subject_kind=KIND, subject_key="ITEM-1",
                                  org_unit=union.team_a) == override
    # the other station still inherits the bureau's flow
    assert approvals.flow_resolve(subject_kind=KIND, subject_key="ITEM-1",
                                  org_unit=union.team_b) == inherited
    # a case of a 班组 under station A runs on the override
    case = chain.start(unit=union.team_a)
    assert case.flow_version == override


def test_a_flow_for_the_item_wins_over_the_general_flow_of_the_same_unit(chain):
    specific = approvals.flow_save(actor=None, subject_kind=KIND, subject_key="ITEM-1",
                                   org_unit=chain.union.bureau, name="项目专用",
                                   steps=[STANDARD_STEPS[2]])
    unit = chain.union.team_a
    resolved = approvals.flow_resolve(subject_kind=KIND, subject_key="ITEM-1", org_unit=unit)
    assert resolved == specific
    other = approvals.flow_resolve(subject_kind=KIND, subject_key="ITEM-2", org_unit=unit)
    assert other.flow.name == "标准流程"


def test_it_says_in_chinese_when_no_flow_applies(chain):
    with pytest.raises(ServiceError) as exc:
        approvals.flow_resolve(subject_kind="other.kind", subject_key="",
                               org_unit=chain.union.team_a)
    assert exc.value.code == "no_flow"
    assert "没有配置" in exc.value.message


@pytest.mark.parametrize(
    ("step", "field", "text"),
    [
        ({"name": "", "position_name": "主席"}, "name", "节点名称"),
        ({"name": "审", "position_name": ""}, "position_name", "岗位名称"),
        ({"name": "审", "position_name": "主席", "skip_condition": "amount <="}, "skip_condition",
         "规则"),
        ({"name": "审", "position_name": "主席", "skip_condition": "salary > 1"}, "skip_condition",
         "规则"),
        ({"name": "审", "position_name": "主席", "due_days": "abc"}, "due_days", "整数"),
        ({"name": "审", "assignee_kind": "user"}, "user", "审批人"),
        ({"name": "审", "position_name": "主席", "is_public_notice": True},
         "notice_working_days", "公示"),
    ],
)
def test_it_refuses_an_invalid_step_with_a_chinese_message(chain, step, field, text):
    before = FlowVersion.objects.count()
    with pytest.raises(ServiceError) as exc:
        approvals.flow_save(actor=None, subject_kind=KIND, subject_key="X",
                            org_unit=chain.union.bureau, name="坏流程",
                            steps=[STANDARD_STEPS[0], step], fact_names={"amount"})
    assert exc.value.code == "invalid_step"
    assert "第2个节点" in exc.value.message
    assert text in exc.value.message
    assert f"steps.2.{field}" in exc.value.fields
    assert FlowVersion.objects.count() == before


def test_a_named_person_step_needs_a_post_the_person_holds(chain):
    steps = [{"name": "指定审批", "assignee_kind": "user", "user": chain.chairman.pk}]
    version = approvals.flow_save(actor=None, subject_kind=KIND, subject_key="N",
                                  org_unit=chain.union.bureau, name="到人", steps=steps)
    step = version.steps.get()
    assert step.user == chain.chairman
    assert step.user_position == chain.chairman_post
    with pytest.raises(ServiceError) as exc:
        approvals.flow_save(actor=None, subject_kind=KIND, subject_key="N",
                            org_unit=chain.union.bureau, name="到人",
                            steps=[{**steps[0], "user_position": chain.station_post.pk}])
    assert "不在该岗位" in exc.value.message


def test_only_catalog_admins_covering_the_unit_save_flows(chain, union):
    catalog = make_role("catalog", ["assistance.catalog"])
    station_admin = make_staff("station_catalog", union.station_a, [catalog])
    with pytest.raises(PermissionDenied):
        approvals.flow_save(actor=station_admin, subject_kind=KIND, subject_key="",
                            org_unit=union.bureau, name="越权", steps=STANDARD_STEPS)
    with pytest.raises(PermissionDenied):
        approvals.flow_save(actor=chain.station_officer, subject_kind=KIND, subject_key="",
                            org_unit=union.station_a, name="无权", steps=STANDARD_STEPS)
    version = approvals.flow_save(actor=station_admin, subject_kind=KIND, subject_key="",
                                  org_unit=union.station_a, name="甲段", steps=STANDARD_STEPS)
    assert version.created_by == station_admin
    assert AuditEvent.objects.filter(action="approval.flow_save", actor=station_admin).exists()


def test_preview_shows_the_steps_a_sample_case_passes_and_who_decides(chain):
    version = approvals.flow_resolve(subject_kind=KIND, subject_key="", org_unit=chain.union.team_a)
    small = approvals.flow_preview(version=version, org_unit=chain.union.team_a,
                                   facts={"amount": 1500})
    assert [(s["name"], s["will_run"]) for s in small] == [
        ("站段审核", True), ("路局复核", False), ("主席审批", True)]
    assert small[0]["assignee"] == "甲车务段·帮扶干事"
    assert small[1]["skipped"]
    assert small[1]["reason"] == "满足跳过条件：金额不超过 2000 元"
    assert small[2]["assignee"] == "测试铁路局工会·主席"
    big = approvals.flow_preview(version=version, org_unit=chain.union.team_a,
                                 facts={"amount": 5000})
    assert all(s["will_run"] for s in big)
    # for station B the first step is station B's post
    other = approvals.flow_preview(version=version, org_unit=chain.union.team_b,
                                   facts={"amount": 5000})
    assert other[0]["assignee"] == "乙机务段·帮扶干事"


def test_preview_reports_a_missing_post_and_an_uncomputable_condition(chain):
    version = approvals.flow_save(
        actor=None, subject_kind=KIND, subject_key="P", org_unit=chain.union.bureau, name="缺岗",
        steps=[{"name": "车间审核", "position_name": "车间主任", "unit_depth": 3,
                "skip_condition": "amount <= 2000"}],
    )
    rows = approvals.flow_preview(version=version, org_unit=chain.union.team_a, facts={})
    assert rows[0]["will_run"]
    assert not rows[0]["assignee_found"]
    assert "甲车间" in rows[0]["assignee"]
    assert "车间主任" in rows[0]["assignee"]
    assert "无法计算" in rows[0]["reason"]
    # a 站段-level applicant has no 车间: the step does not apply
    rows = approvals.flow_preview(version=version, org_unit=chain.union.station_a,
                                  facts={"amount": 9000})
    assert rows[0]["skipped"]
    assert rows[0]["skip_kind"] == "level"


def test_flows_are_listed_for_catalog_admins_in_scope_and_read_back_for_editing(chain, union):
    from unionaid.approvals import selectors

    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="", org_unit=union.station_b,
                        name="乙段", steps=STANDARD_STEPS)
    catalog = make_role("catalog", ["assistance.catalog"])
    station_admin = make_staff("station_catalog", union.station_b, [catalog])
    names = [f.name for f in selectors.flows_visible_to(user=station_admin, subject_kind=KIND)]
    assert names == ["乙段"]
    assert not selectors.flows_visible_to(user=chain.chairman, subject_kind=KIND).exists()
    version = approvals.flow_resolve(subject_kind=KIND, subject_key="", org_unit=union.team_b)
    rows = selectors.flow_steps_as_dicts(version=version)
    assert rows[1]["skip_condition"] == "amount <= 2000"
    again = approvals.flow_save(actor=station_admin, subject_kind=KIND, subject_key="",
                                org_unit=union.station_b, name="乙段", steps=rows)
    assert selectors.flow_steps_as_dicts(version=again) == rows


def test_money_facts_given_as_decimals_drive_skip_conditions(chain):
    from decimal import Decimal

    case = chain.start({"amount": Decimal("1999.50"), "items": [Decimal("1")]})
    assert case.facts == {"amount": 1999.5, "items": [1]}
    approvals.task_decide(actor=chain.station_officer, task=case.tasks.get(), decision="approve")
    assert case.tasks.get(order=2).status == TaskStatus.SKIPPED
