"""The flow editor for the archive's flows (?kind=archive.enrolment / archive.exit) through the
HTTP client: guarded by the kind's ``flow_permission`` (archive.config), per unit only (no
item), public-notice steps editable, kind carried through links and redirects, the preview
working on archive facts; applications stay the default kind."""

from __future__ import annotations

import pytest

from conftest import make_role, make_staff, verified_login
from unionaid.accounts.models import DataScope
from unionaid.approvals import registry
from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalFlow, FlowVersion
from unionaid.archive.flows import archive_flows_ensure
from unionaid.audit.models import AuditEvent

from .conftest import FakeSubject
from .test_views_flows import step_data
from .test_views_todo import assert_no_inline_code

ENROLMENT, EXIT, APPLICATION = "archive.enrolment", "archive.exit", "assistance.application"
LIST, EDIT = "/approvals/flows/", "/approvals/flows/edit/"
PREVIEW, POSTS = "/approvals/flows/preview/", "/approvals/flows/user-posts/"


@pytest.fixture
def config_admin(union):
    """archive.config over the whole union (and nothing of the assistance catalog)."""
    role = make_role("archive_config", ["org.view", "archive.view", "archive.config"],
                     DataScope.ALL)
    return make_staff("config_admin", union.bureau, [role])


@pytest.fixture
def catalog_admin(union):
    role = make_role("catalog", ["org.view", "assistance.catalog"], DataScope.ALL)
    return make_staff("catalog_admin", union.bureau, [role])


@pytest.fixture
def bureau_flows(union):
    """The default enrolment and exit flows at the bureau (车间审核 → 公示 → 站段审批)."""
    return archive_flows_ensure(actor=None, org_unit=union.bureau)


def enrolment_steps(notice_days: str = "5") -> dict:
    return step_data([
        {"name": "车间工会审核", "position_name": "车间工会干事", "unit_depth": "3"},
        {"name": "公示", "position_name": "站段工会帮扶干事", "unit_depth": "2",
         "is_public_notice": True, "notice_working_days": notice_days, "due_days": "0"},
        {"name": "站段工会审批", "position_name": "站段工会帮扶干事", "unit_depth": "2",
         "skip_condition": "category == 'relative'"},
    ], initial=3)


def test_an_archive_config_user_edits_the_enrolment_flow_of_a_unit(client, config_admin, union,
                                                                   bureau_flows):
    verified_login(client, config_admin)
    url = f"{EDIT}?kind={ENROLMENT}&unit={union.station_a.pk}"
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "困难职工建档审批流程" in html
    assert "继承自 测试铁路局工会" in html
    assert 'value="公示"' in html  # prefilled from the inherited default flow
    assert 'name="steps-1-is_public_notice"' in html
    assert 'name="steps-1-notice_working_days"' in html
    assert 'name="item"' not in html  # archive flows are per unit only
    assert 'name="amount"' not in html
    assert 'name="kind" value="archive.enrolment"' in html  # the preview form carries it
    assert f"{POSTS}?kind=archive.enrolment" in html  # the approver lookup too
    assert "per_capita_monthly" in html  # the facts a skip condition may use
    assert_no_inline_code(html)

    response = client.post(url, {"name": "甲段建档审批", "note": "甲段自定", **enrolment_steps()})

    assert response.status_code == 302
    assert response["Location"] == f"{EDIT}?unit={union.station_a.pk}&item=&kind={ENROLMENT}"
    flow = ApprovalFlow.objects.get(subject_kind=ENROLMENT, org_unit=union.station_a)
    assert flow.subject_key == ""
    version = flow.versions.get(is_current=True)
    assert version.number == 1
    notice = version.steps.get(order=2)
    assert (notice.name, notice.is_public_notice, notice.notice_working_days) == ("公示", True, 5)
    assert version.steps.get(order=3).skip_condition == "category == 'relative'"
    assert not ApprovalFlow.objects.filter(subject_kind=APPLICATION).exists()
    bureau = FlowVersion.objects.get(flow__subject_kind=ENROLMENT, flow__org_unit=union.bureau)
    assert bureau.is_current  # the bureau's flow is untouched
    assert approvals.flow_resolve(subject_kind=ENROLMENT, subject_key="deep",
                                  org_unit=union.team_a) == version
    assert approvals.flow_resolve(subject_kind=EXIT, subject_key="deep",
                                  org_unit=union.team_a).flow.org_unit == union.bureau
    event = AuditEvent.objects.filter(action="approval.flow_save").latest("id")
    assert (event.actor_id, event.changes["subject_kind"]) == (config_admin.pk, ENROLMENT)
    again = client.get(response["Location"]).content.decode()
    assert "本单位自定义流程" in again
    assert 'value="5"' in again


def test_a_notice_step_needs_its_working_days(client, config_admin, union, bureau_flows):
    verified_login(client, config_admin)
    response = client.post(f"{EDIT}?kind={ENROLMENT}&unit={union.station_a.pk}",
                           {"name": "甲段建档审批", **enrolment_steps(notice_days="")})
    assert response.status_code == 400
    assert "公示节点须填写公示工作日数" in response.content.decode()
    assert not ApprovalFlow.objects.filter(org_unit=union.station_a).exists()


def test_the_exit_list_shows_only_exit_flows_with_links_that_keep_the_kind(
        client, config_admin, catalog_admin, union, bureau_flows):
    approvals.flow_save(actor=None, subject_kind=APPLICATION, subject_key="", org_unit=union.bureau,
                        name="帮扶审批", steps=[{"name": "主席审批", "position_name": "主席"}])
    verified_login(client, config_admin)
    response = client.get(LIST, {"kind": EXIT})
    html = response.content.decode()
    assert response.status_code == 200
    assert "解困脱困审批流程" in html
    assert "困难职工解困脱困审批" in html
    assert "困难职工建档审批" not in html.replace("困难职工建档审批流程", "")  # only the tab
    assert "帮扶审批" not in html
    assert '公示<span class="text-muted">（5 个工作日）</span>' in html
    assert f"{EDIT}?unit={union.bureau.pk}&amp;item=&amp;kind={EXIT}" in html
    assert f"{PREVIEW}?kind={EXIT}" in html
    assert 'name="kind" value="archive.exit"' in html
    assert 'name="item"' not in html
    assert "适用项目" not in html
    assert f"{LIST}?kind={ENROLMENT}" in html  # the switch shows only kinds this user keeps
    assert f'href="{LIST}"' not in html
    assert_no_inline_code(html)


def test_an_assistance_only_user_gets_404_for_archive_kinds(client, catalog_admin, union,
                                                           bureau_flows):
    verified_login(client, catalog_admin)
    assert client.get(LIST).status_code == 200
    for kind in (ENROLMENT, EXIT):
        assert client.get(LIST, {"kind": kind}).status_code == 404
        assert client.get(EDIT, {"kind": kind, "unit": union.bureau.pk}).status_code == 404
        assert client.post(f"{EDIT}?kind={kind}&unit={union.bureau.pk}",
                           {"name": "x", **enrolment_steps()}).status_code == 404
        assert client.get(PREVIEW, {"kind": kind, "unit": union.bureau.pk}).status_code == 404
        assert client.get(POSTS, {"kind": kind, "steps-0-username": "x"}).status_code == 404
    assert FlowVersion.objects.filter(flow__subject_kind=ENROLMENT).count() == 1


def test_an_archive_only_user_gets_404_for_applications(client, config_admin, union):
    verified_login(client, config_admin)
    assert client.get(LIST).status_code == 404
    assert client.get(EDIT, {"unit": union.bureau.pk, "item": ""}).status_code == 404
    assert client.get(PREVIEW).status_code == 404
    assert client.get(POSTS, {"steps-0-username": "config_admin"}).status_code == 404


def test_an_unknown_or_unoffered_kind_is_404(client, catalog_admin, union):
    handler = FakeSubject(kind="test.flow_kind")  # registered, default flow permission
    registry.register_subject(handler)
    try:
        verified_login(client, catalog_admin)
        for kind in ("nothing.here", "test.flow_kind"):
            assert client.get(LIST, {"kind": kind}).status_code == 404
            assert client.get(EDIT, {"kind": kind, "unit": union.bureau.pk}).status_code == 404
            assert client.get(PREVIEW, {"kind": kind}).status_code == 404
    finally:
        registry.unregister_subject("test.flow_kind")


def test_a_unit_outside_the_users_scope_is_404(client, union, bureau_flows):
    role = make_role("station_config", ["org.view", "archive.config"])
    user = make_staff("station_config", union.station_a, [role])
    verified_login(client, user)
    assert client.get(EDIT, {"kind": ENROLMENT, "unit": union.station_a.pk}).status_code == 200
    assert client.get(EDIT, {"kind": ENROLMENT, "unit": union.station_b.pk}).status_code == 404
    response = client.post(f"{EDIT}?kind={ENROLMENT}&unit={union.station_b.pk}",
                           {"name": "乙段", **enrolment_steps()})
    assert response.status_code == 404
    # the bureau's flow is above their scope: not listed
    assert "困难职工建档审批" not in client.get(LIST, {"kind": ENROLMENT}).content.decode()\
        .replace("困难职工建档审批流程", "")


def test_the_preview_runs_an_archive_case_on_its_facts(client, config_admin, union,
                                                      bureau_flows):
    approvals.flow_save(actor=None, subject_kind=ENROLMENT, subject_key="", org_unit=union.bureau,
                        name="困难职工建档审批", steps=[
                            {"name": "车间工会审核", "position_name": "车间工会干事", "unit_depth": 3,
                             "skip_condition": "category == 'deep' and not needs_review"},
                            {"name": "公示", "position_name": "站段工会帮扶干事", "unit_depth": 2,
                             "is_public_notice": True, "notice_working_days": 7, "due_days": 0}])
    verified_login(client, config_admin)

    typical = client.get(PREVIEW, {"kind": ENROLMENT, "unit": union.team_a.pk})
    html = typical.content.decode()
    assert typical.status_code == 200
    assert "第 2 版" in html
    assert "困难职工建档审批流程" in html
    assert "已跳过" not in html  # the sample case is 相对困难: nothing skipped
    assert "公示 7 个工作日" in html
    assert "category = relative" in html
    assert 'name="amount"' not in html
    assert_no_inline_code(html)

    deep = client.get(PREVIEW, {"kind": ENROLMENT, "unit": union.team_a.pk,
                                "facts": "category = deep"}, headers={"HX-Request": "true"})
    html = deep.content.decode()
    assert deep.status_code == 200
    assert "<html" not in html
    assert "满足跳过条件：困难类别为深度困难，且非需重点核查" in html


def test_the_preview_page_of_an_archive_kind_opens_with_an_empty_form(client, config_admin):
    verified_login(client, config_admin)
    response = client.get(PREVIEW, {"kind": EXIT})
    html = response.content.decode()
    assert response.status_code == 200
    assert "解困脱困审批流程" in html
    assert 'name="kind" value="archive.exit"' in html
    assert 'name="item"' not in html


def test_the_approver_lookup_works_for_an_archive_user(client, config_admin):
    verified_login(client, config_admin)
    response = client.get(POSTS, {"kind": ENROLMENT, "steps-0-username": "config_admin"})
    assert response.status_code == 200
    assert "测试铁路局工会·config_admin-post" in response.content.decode()


def test_the_archive_sample_facts_are_names_the_archive_accepts():
    for kind in (ENROLMENT, EXIT):
        sample = registry.subject_handler(kind).sample_facts
        assert set(sample) <= registry.subject_handler(kind).fact_names("")


def test_the_archive_config_page_links_to_both_editors(client, config_admin):
    verified_login(client, config_admin)
    html = client.get("/archive/config/").content.decode()
    assert f"{LIST}?kind={ENROLMENT}" in html
    assert f"{LIST}?kind={EXIT}" in html
