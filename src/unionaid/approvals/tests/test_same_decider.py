"""One person decides at most one step of a case — as post holder, named person or delegate —
unless the case's flow allows the same decider (a very small union); then it is journaled."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from unionaid.accounts import services as account_services
from unionaid.approvals import selectors
from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalFlow, ApprovalTask, Delegation, TaskStatus
from unionaid.approvals.tests.conftest import KIND, STANDARD_STEPS, hold, new_user
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def pending(case):
    return case.tasks.get(status=TaskStatus.PENDING)


def todo_ids(user):
    return set(selectors.todo_for_user(user=user).values_list("pk", flat=True))


@pytest.fixture
def two_hats(chain):
    """The 站段 officer also holds the bureau's 帮扶干事 post (steps 1 and 2 of a case)."""
    hold(chain.station_officer, chain.bureau_post)
    return chain.station_officer


def test_the_holder_of_two_posts_decides_only_one_step_of_a_case(chain, two_hats):
    case = chain.start({"amount": 5000})
    approvals.task_decide(actor=two_hats, task=pending(case), decision="approve")
    second = pending(case)
    assert second.order == 2
    assert second.pk not in todo_ids(two_hats)  # not offered
    assert second.pk in todo_ids(chain.bureau_officer)
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=two_hats, task=second, decision="approve")
    assert exc.value.code == "same_decider"
    assert "站段审核" in exc.value.message
    # the other holder of the post decides it
    approvals.task_decide(actor=chain.bureau_officer, task=second, decision="approve")


def test_a_same_decider_task_cannot_be_batch_approved(chain, two_hats):
    case = chain.start({"amount": 5000})
    approvals.task_decide(actor=two_hats, task=pending(case), decision="approve")
    with pytest.raises(PermissionDenied) as exc:
        approvals.tasks_decide_batch(actor=two_hats, task_ids=[pending(case).pk],
                                     decision="approve")
    assert exc.value.code == "same_decider"
    assert pending(case).order == 2


def test_a_delegate_who_decided_one_step_may_not_decide_another_for_their_delegator(chain):
    """The issue's case: the 站段 officer decided step 1; the bureau officer (step 2) had
    delegated to them (a delegation made before the rules, written directly); the 站段 officer
    also holds a deciding post in the bureau (联络员, named by a second flow at that level), so
    the delegation would apply at that level."""
    extra = account_services.position_create(actor=None, org_unit=chain.union.bureau,
                                             name="联络员")
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="LIAISON",
                        org_unit=chain.union.bureau, name="联络员流程",
                        steps=[{"name": "联络员审核", "position_name": "联络员", "unit_depth": 1}])
    hold(chain.station_officer, extra)
    now = timezone.now()
    Delegation.objects.create(from_user=chain.bureau_officer, to_user=chain.station_officer,
                              starts_at=now - dt.timedelta(hours=1),
                              ends_at=now + dt.timedelta(days=2))
    case = chain.start({"amount": 5000})
    approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    second = pending(case)
    assert second.pk not in todo_ids(chain.station_officer)
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=chain.station_officer, task=second, decision="approve")
    assert exc.value.code == "same_decider"


def test_a_delegate_at_another_level_may_not_decide_at_all(chain):
    """Without a post in the bureau, the 站段 officer is no delegate of the bureau's officer,
    whatever an old delegation row says."""
    now = timezone.now()
    Delegation.objects.create(from_user=chain.bureau_officer, to_user=chain.station_officer,
                              starts_at=now - dt.timedelta(hours=1),
                              ends_at=now + dt.timedelta(days=2))
    case = chain.start({"amount": 5000})
    first = pending(case)
    approvals.task_decide(actor=chain.station_officer, task=first, decision="approve")
    second = pending(case)
    assert second.pk not in todo_ids(chain.station_officer)
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=chain.station_officer, task=second, decision="approve")
    assert exc.value.code == "not_assignee"


def test_a_flow_that_allows_the_same_decider_journals_it(chain, two_hats):
    ApprovalFlow.objects.update(allow_same_decider=True)
    case = chain.start({"amount": 5000})
    first = pending(case)
    approvals.task_decide(actor=two_hats, task=first, decision="approve")
    second = pending(case)
    assert second.pk in todo_ids(two_hats)
    approvals.task_decide(actor=two_hats, task=second, decision="approve")
    events = AuditEvent.objects.filter(action="approval.task_decide").order_by("pk")
    assert "same_decider" not in events[0].changes
    assert events[1].changes["same_decider"] is True
    assert events[1].changes["same_decider_earlier_task"] == first.pk
    assert events[1].changes["same_decider_earlier_order"] == 1


def test_the_task_page_says_why_the_user_cannot_decide(client, chain, two_hats):
    case = chain.start({"amount": 5000})
    approvals.task_decide(actor=two_hats, task=pending(case), decision="approve")
    second = pending(case)
    client.force_login(two_hats)
    html = client.get(f"/approvals/tasks/{second.pk}/").content.decode()
    assert 'id="same-decider"' in html
    assert "同一人不能办理同一事项的两个节点" in html
    assert 'value="approve"' not in html  # no decision form
    response = client.post(f"/approvals/tasks/{second.pk}/", {"decision": "approve"})
    assert response.status_code == 403
    assert pending(case).pk == second.pk


def test_the_task_page_shows_when_the_flow_allows_the_same_decider(client, chain, two_hats):
    ApprovalFlow.objects.update(allow_same_decider=True)
    case = chain.start({"amount": 5000})
    approvals.task_decide(actor=two_hats, task=pending(case), decision="approve")
    client.force_login(two_hats)
    html = client.get(f"/approvals/tasks/{pending(case).pk}/").content.decode()
    assert "仅适用于人员很少的工会" in html
    assert 'value="approve"' in html


def test_the_api_obeys_the_same_rule(chain, two_hats, as_token):
    case = chain.start({"amount": 5000})
    approvals.task_decide(actor=two_hats, task=pending(case), decision="approve")
    second = pending(case)
    api = as_token(two_hats)
    detail = api.get(f"/approvals/tasks/{second.pk}")
    assert detail.status_code == 200, detail.content
    assert detail.json()["can_decide"] is False
    assert "站段审核" in detail.json()["decide_note"]
    decided = api.post(f"/approvals/tasks/{second.pk}/decide", {"decision": "approve"})
    assert decided.status_code == 403
    assert decided.json()["code"] == "same_decider"
    assert second.pk not in [row["id"] for row in api.get("/approvals/todo").json()["items"]]


def test_closing_a_public_notice_is_no_decision_on_the_case(chain):
    """The archive's default flow: the 站段 post runs the notice, then decides the case."""
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="NOTICE",
                        org_unit=chain.union.bureau, name="公示流程", steps=[
                            {"name": "公示", "position_name": "帮扶干事", "unit_depth": 2,
                             "is_public_notice": True, "notice_working_days": 5},
                            {"name": "站段审批", "position_name": "帮扶干事", "unit_depth": 2}])
    case = chain.start(key="NOTICE")
    notice = pending(case)
    ApprovalTask.objects.filter(pk=notice.pk).update(
        due_at=timezone.now() - dt.timedelta(minutes=1))
    approvals.task_decide(actor=chain.station_officer, task=notice, decision="approve")
    second = pending(case)
    assert second.pk in todo_ids(chain.station_officer)
    approvals.task_decide(actor=chain.station_officer, task=second, decision="approve")


@pytest.fixture
def delegated_after_delegator_decided(chain):
    """The bureau officer also holds the chairman's post and delegates to a deputy (another
    帮扶干事 of the bureau, so a deciding post there). Case A: the bureau officer decided step 2
    (路局复核); step 3 (主席审批) waits at the chairman's post, which the deputy reaches only as
    the bureau officer's delegate. Case B waits at step 2, the deputy's own post."""
    hold(chain.bureau_officer, chain.chairman_post)
    deputy = new_user("deputy")
    hold(deputy, chain.bureau_post)
    now = timezone.now()
    approvals.delegation_create(actor=chain.bureau_officer, to_user=deputy,
                                starts_at=now - dt.timedelta(hours=1),
                                ends_at=now + dt.timedelta(days=2), reason="休假")
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="", org_unit=chain.union.bureau,
                        name="标准流程", steps=[{**step, "allow_batch": True}
                                                for step in STANDARD_STEPS])
    case_a, case_b = chain.start({"amount": 5000}), chain.start({"amount": 5000})
    for case in (case_a, case_b):
        approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    approvals.task_decide(actor=chain.bureau_officer, task=pending(case_a), decision="approve")
    assert pending(case_a).assigned_position == chain.chairman_post
    return deputy, pending(case_a), pending(case_b)


def test_a_delegate_is_not_offered_a_step_of_a_case_their_delegator_decided(
        chain, delegated_after_delegator_decided):
    deputy, blocked, own = delegated_after_delegator_decided
    assert todo_ids(deputy) == {own.pk}
    assert blocked.pk in todo_ids(chain.chairman)  # the other holder of the post decides it


def test_the_refusal_says_the_delegator_decided(chain, delegated_after_delegator_decided):
    deputy, blocked, _own = delegated_after_delegator_decided
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=deputy, task=blocked, decision="approve")
    assert exc.value.code == "same_decider"
    assert "您所代办的委托人（bureau_officer）已办理本事项的“路局复核”节点" in exc.value.message
    assert "您已办理" not in exc.value.message


def test_a_batch_with_a_step_the_delegator_decided_is_refused_in_words(
        chain, delegated_after_delegator_decided):
    deputy, blocked, own = delegated_after_delegator_decided
    with pytest.raises(PermissionDenied) as exc:  # a row ticked on a page shown before
        approvals.tasks_decide_batch(actor=deputy, task_ids=[blocked.pk, own.pk],
                                     decision="approve")
    assert exc.value.code == "same_decider"
    assert "委托人（bureau_officer）" in exc.value.message
    assert "主席审批" in exc.value.message
    assert "已由您办理" not in exc.value.message
    assert ApprovalTask.objects.get(pk=own.pk).status == TaskStatus.PENDING  # all or none
    # the batch of what the list offers goes through
    done = approvals.tasks_decide_batch(actor=deputy, task_ids=list(todo_ids(deputy)),
                                        decision="approve")
    assert [task.pk for task in done] == [own.pk]
