"""The approver's to-do list as a working list (issue 10, item 11): search, filters, sort and
paging kept across pages; batch approval at every step whose flow allows it, never of nothing;
驳回 confirmed before it ends a case; after a decision, the next task of the same list.
Uses the engine's throwaway subject kind (see conftest.Chain)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalTask, CaseStatus, TaskStatus
from unionaid.core.http import PAGE_SIZE

from .conftest import KIND
from .test_views_todo import assert_no_inline_code, pending, task_url

TODO = "/approvals/todo/"
BATCH = "/approvals/todo/batch/"


def shown(html: str, *tasks) -> list[bool]:
    return [f'id="task-{t.pk}"' in html for t in tasks]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.fixture
def all_batch_flow(chain):
    """Key "ALL": every step allows batch approval (站段, 路局, 主席)."""
    return approvals.flow_save(
        actor=None, subject_kind=KIND, subject_key="ALL", org_unit=chain.union.bureau,
        name="全程可批量", steps=[
            {"name": "站段审核", "position_name": "帮扶干事", "unit_depth": 2,
             "allow_batch": True},
            {"name": "路局复核", "position_name": "帮扶干事", "unit_depth": 1,
             "allow_batch": True},
            {"name": "主席审批", "position_name": "主席", "unit_depth": 1, "allow_batch": True},
        ])


@pytest.fixture
def batch_flow(chain):
    return approvals.flow_save(
        actor=None, subject_kind=KIND, subject_key="BATCH", org_unit=chain.union.bureau,
        name="批量流程", steps=[
            {"name": "站段初审", "position_name": "帮扶干事", "unit_depth": 2,
             "allow_batch": True},
            {"name": "主席审批", "position_name": "主席", "unit_depth": 1},
        ])


# -- search, filters, sort, paging -------------------------------------------------------------

def test_it_searches_by_applicant_name_item_name_and_number(client, chain, batch_flow,
                                                            make_member):
    zhang = make_member(chain.union.team_a, name="张志强")
    li = make_member(chain.union.team_a, name="李秀英")
    by_zhang = pending(chain.start(applicant=zhang))
    by_li = pending(chain.start(applicant=li, key="BATCH"))
    client.force_login(chain.station_officer)

    assert shown(client.get(TODO, {"q": "志强"}).content.decode(), by_zhang, by_li) == [
        True, False]
    # the item's name (the subject's key label): "批量事项" is key BATCH
    assert shown(client.get(TODO, {"q": "批量"}).content.decode(), by_zhang, by_li) == [
        False, True]
    # the number shown on the subject's pages (#subject id)
    number = f"#{by_li.case.subject_id}"
    assert shown(client.get(TODO, {"q": number}).content.decode(), by_zhang, by_li) == [
        False, True]
    none = client.get(TODO, {"q": "王"}).content.decode()
    assert shown(none, by_zhang, by_li) == [False, False]
    assert "没有符合筛选条件的待办" in none


def test_an_id_number_or_phone_is_not_searched_in_a_url(client, chain, make_member):
    member = make_member(chain.union.team_a, phone="13800138000")
    task = pending(chain.start(applicant=member))
    client.force_login(chain.station_officer)

    for identifier in (member.id_number, "13800138000"):
        response = client.get(TODO, {"q": identifier, "sort": "due"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "待办不按身份证号或手机号查找" in html
        # not searched (the list is unfiltered), and not carried on to the task and batch links
        assert f'href="{task_url(task)}?sort=due"' in html
        assert f"q={identifier}" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_it_filters_by_kind_item_unit_and_overdue(client, chain, batch_flow, make_member):
    in_team = pending(chain.start())
    in_workshop = pending(chain.start(unit=chain.union.workshop_a,
                                      applicant=make_member(chain.union.workshop_a)))
    batch = pending(chain.start(key="BATCH"))
    ApprovalTask.objects.filter(pk=batch.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(chain.station_officer)

    def listed(**params):
        response = client.get(TODO, params)
        assert response.status_code == 200
        return shown(response.content.decode(), in_team, in_workshop, batch)

    assert listed() == [True, True, True]
    assert listed(item=KIND) == [True, True, True]
    assert listed(item=f"{KIND}:BATCH") == [False, False, True]
    assert listed(item=f"{KIND}:ITEM-1") == [True, True, False]
    assert listed(unit=chain.union.team_a.pk) == [True, False, True]
    assert listed(unit=chain.union.workshop_a.pk) == [True, True, True]
    assert listed(overdue="1") == [False, False, True]
    assert listed(overdue="1", unit=chain.union.team_a.pk, item=f"{KIND}:BATCH") == [
        False, False, True]


def test_the_unit_filter_offers_only_units_in_the_users_scope(client, chain):
    task = pending(chain.start())
    client.force_login(chain.station_officer)
    html = client.get(TODO).content.decode()
    unit_select = html[html.index('name="unit"'):]
    unit_select = unit_select[:unit_select.index("</select>")]
    assert chain.union.team_a.name in unit_select
    assert chain.union.team_b.name not in unit_select  # station B's
    response = client.get(TODO, {"unit": chain.union.team_b.pk})
    assert response.status_code == 200
    html = response.content.decode()
    filter_form = html[html.index('id="todo-filter"'):]
    assert "invalid-feedback" in filter_form[:filter_form.index("</form>")]
    assert f'id="task-{task.pk}"' in html  # an invalid unit filters nothing


def test_it_sorts_by_received_date_due_date_and_amount(client, chain):
    now = timezone.now()
    small = pending(chain.start({"amount": 500}))
    large = pending(chain.start({"amount": 9000}))
    middle = pending(chain.start({"amount": 3000}))
    ApprovalTask.objects.filter(pk=small.pk).update(created_at=now - dt.timedelta(days=3),
                                                    due_at=now + dt.timedelta(days=5))
    ApprovalTask.objects.filter(pk=large.pk).update(created_at=now - dt.timedelta(days=2),
                                                    due_at=now + dt.timedelta(days=1))
    ApprovalTask.objects.filter(pk=middle.pk).update(created_at=now - dt.timedelta(days=1),
                                                     due_at=None)
    client.force_login(chain.station_officer)

    def order(sort):
        html = client.get(TODO, {"sort": sort} if sort else {}).content.decode()
        found = {t.pk: html.index(f'id="task-{t.pk}"') for t in (small, large, middle)}
        return [pk for pk, _at in sorted(found.items(), key=lambda kv: kv[1])]

    assert order("") == [small.pk, large.pk, middle.pk]  # received, oldest first
    assert order("due") == [large.pk, small.pk, middle.pk]  # no deadline last
    assert order("amount") == [large.pk, middle.pk, small.pk]


def test_the_filter_is_kept_across_pages(client, chain, make_member):
    zhang = make_member(chain.union.team_a, name="张志强")
    tasks = [pending(chain.start(applicant=zhang)) for _ in range(PAGE_SIZE + 1)]
    other = pending(chain.start())
    client.force_login(chain.station_officer)

    first = client.get(TODO, {"q": "张志强", "sort": "due"}).content.decode()
    assert first.count('id="task-') == PAGE_SIZE
    assert "page=2" in first
    assert "q=%E5%BC%A0%E5%BF%97%E5%BC%BA&amp;sort=due&amp;page=2" in first
    second = client.get(TODO, {"q": "张志强", "sort": "due", "page": "2"}).content.decode()
    assert second.count('id="task-') == 1
    assert f'id="task-{other.pk}"' not in first + second
    seen = {t.pk for t in tasks if f'id="task-{t.pk}"' in first + second}
    assert len(seen) == len(tasks)
    assert_no_inline_code(second)


# -- batch approval ----------------------------------------------------------------------------

def test_batch_approval_works_at_every_step_whose_flow_allows_it(client, chain, all_batch_flow):
    cases = [chain.start({"amount": 5000}, key="ALL") for _ in range(2)]
    for user, step in ((chain.station_officer, "站段审核"), (chain.bureau_officer, "路局复核"),
                       (chain.chairman, "主席审批")):
        tasks = [pending(case) for case in cases]
        assert {t.step.name for t in tasks} == {step}
        client.force_login(user)
        html = client.get(TODO).content.decode()
        assert html.count('class="form-check-input todo-batch"') == 2, step
        done = client.post(BATCH, {"task": [t.pk for t in tasks]}, follow=True)
        assert "已批量同意 2 件" in done.content.decode(), step
    for case in cases:
        case.refresh_from_db()
        assert case.status == CaseStatus.APPROVED


def test_a_batch_with_nothing_ticked_is_refused_with_a_clear_message(client, chain, batch_flow):
    task = pending(chain.start(key="BATCH"))
    client.force_login(chain.station_officer)
    html = client.get(TODO).content.decode()
    # the confirm states the count of ticked to-dos (the script fills it in), never "all"
    assert "全部待办" not in html
    assert 'data-confirm-template="确定同意所选的 {n} 件待办吗？"' in html
    assert 'id="batch-count"' in html

    response = client.post(BATCH, {"comment": "同意"}, follow=True)

    assert "您没有勾选任何待办，未办理" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING


def test_the_batch_script_disables_the_button_and_counts_the_ticked_rows():
    script = (Path(settings.BASE_DIR) / "src/unionaid/static/js/approvals.js").read_text()
    assert "batchButton.disabled = n === 0" in script
    assert 'template.replace("{n}", String(n))' in script


def test_after_a_batch_the_list_keeps_its_filter(client, chain, batch_flow):
    task = pending(chain.start(key="BATCH"))
    client.force_login(chain.station_officer)
    response = client.post(f"{BATCH}?item={KIND}:BATCH&overdue=", {"task": [task.pk]})
    assert response.status_code == 302
    assert query_of(response["Location"]) == {"item": [f"{KIND}:BATCH"]}


# -- 驳回 is confirmed ---------------------------------------------------------------------------

def test_a_reject_is_confirmed_before_it_ends_the_case(client, chain):
    task = pending(chain.start())
    client.force_login(chain.station_officer)
    page = client.get(task_url(task)).content.decode()
    assert 'data-confirm-reject="确定驳回吗？' in page  # the browser's confirm, where JS runs
    assert "js/approvals.js" in page

    asked = client.post(task_url(task), {"decision": "reject", "comment": "材料不实"})

    assert asked.status_code == 200
    html = asked.content.decode()
    assert 'id="reject-confirm"' in html
    assert "确认驳回" in html
    assert 'name="confirmed" value="1"' in html
    assert "材料不实" in html
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING  # nothing decided yet
    assert_no_inline_code(html)

    done = client.post(task_url(task), {"decision": "reject", "comment": "材料不实",
                                        "confirmed": "1"})

    assert done.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.REJECTED
    assert task.case.status == CaseStatus.REJECTED


def test_approve_and_return_need_no_second_confirmation(client, chain):
    approve, give_back = pending(chain.start()), pending(chain.start())
    client.force_login(chain.station_officer)
    assert client.post(task_url(approve), {"decision": "approve"}).status_code == 302
    assert client.post(task_url(give_back), {"decision": "return",
                                             "comment": "补充诊断证明"}).status_code == 302
    give_back.refresh_from_db()
    assert give_back.status == TaskStatus.RETURNED


def test_a_reject_of_someone_elses_task_is_refused_not_confirmed(client, chain, make_member):
    theirs = pending(chain.start(unit=chain.union.team_b,
                                 applicant=make_member(chain.union.team_b)))
    client.force_login(chain.bureau_officer)  # may view it (bureau scope), may not decide it
    response = client.post(task_url(theirs), {"decision": "reject", "comment": "不符合"})
    assert 'id="reject-confirm"' not in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.status == TaskStatus.PENDING


# -- the next task -----------------------------------------------------------------------------

def test_after_a_decision_the_next_task_of_the_same_filtered_list_opens(client, chain,
                                                                        make_member):
    zhang = make_member(chain.union.team_a, name="张志强")
    first, second = pending(chain.start(applicant=zhang)), pending(chain.start(applicant=zhang))
    elsewhere = pending(chain.start())  # not in the filtered list
    client.force_login(chain.station_officer)
    page = client.get(TODO, {"q": "张志强"}).content.decode()
    assert f"{task_url(first)}?q=" in page  # the row's link carries the filter

    response = client.post(f"{task_url(first)}?q=张志强", {"decision": "approve"})

    assert response.status_code == 302
    location = response["Location"]
    assert urlsplit(location).path == task_url(second)
    assert query_of(location) == {"q": ["张志强"]}
    followed = client.get(location).content.decode()
    assert "接着办理下一件" in followed

    last = client.post(location, {"decision": "approve"})

    assert urlsplit(last["Location"]).path == reverse("approvals:todo")
    assert query_of(last["Location"]) == {"q": ["张志强"]}
    assert "列表中的待办已全部办理完毕" in client.get(last["Location"]).content.decode()
    elsewhere.refresh_from_db()
    assert elsewhere.status == TaskStatus.PENDING


def test_after_a_decision_without_a_filter_the_next_task_is_the_oldest_left(client, chain):
    now = timezone.now()
    tasks = [pending(chain.start()) for _ in range(3)]
    for age, task in zip((3, 2, 1), tasks, strict=True):
        ApprovalTask.objects.filter(pk=task.pk).update(created_at=now - dt.timedelta(days=age))
    client.force_login(chain.station_officer)
    response = client.post(task_url(tasks[1]), {"decision": "approve"})
    assert response["Location"] == task_url(tasks[0])


def test_a_reject_of_ones_own_case_is_refused_not_confirmed(client, chain):
    task = pending(chain.start(actor=chain.station_officer))
    client.force_login(chain.station_officer)
    response = client.post(task_url(task), {"decision": "reject", "comment": "不符合"})
    assert response.status_code == 403
    assert "不能审批本人提交" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING
