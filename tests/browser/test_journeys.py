"""Each persona's journeys through the real pages, on a phone and on a desktop (the ``size``
fixture runs every test at both). Every page reached is checked (``checks.Browse.check``)."""

from __future__ import annotations

import random
import re

from tests.browser.checks import fill_form, png_file
from unionaid.accounts.models import Assignment, User
from unionaid.approvals import services as approval_services
from unionaid.approvals.models import ApprovalTask, CaseStatus, TaskStatus
from unionaid.approvals.selectors import todo_for_user
from unionaid.assistance.models import Application, ApplicationStatus, AssistanceItem
from unionaid.funds.models import Disbursement, DisbursementStatus
from unionaid.members.models import Member, MembershipStatus
from unionaid.web.demo.casework import file_application
from unionaid.web.demo.staff import unit_staff_username


def _upload_every_material(session, form_selector: str, file_input: str) -> None:
    """Upload one photo for each material the form offers (each upload reloads the page or
    swaps the form, so the form is found afresh each time)."""
    form = session.page.locator(form_selector)
    materials = [o.get_attribute("value") for o in form.locator("select option").all()]
    for material in [m for m in materials if m]:
        form = session.page.locator(form_selector)
        form.locator("select").first.select_option(material)
        form.locator(file_input).set_input_files(png_file())
        with session.page.expect_response(lambda r: r.request.method == "POST"):
            form.locator("button[type=submit]").click()
        session.page.wait_for_load_state("load")
        session.check()


def test_worker_applies_on_the_portal_and_follows_the_timeline(browse):
    me = browse("worker")
    assert me.path == "/me/", "a worker lands on their own pages"
    # Apply: the item, its facts, the materials (photos), then submit.
    item = _an_item_not_yet_asked(member__user__username="worker")
    me.page.locator("#items summary", has_text=item.category.name).click()  # maybe folded
    me.click(me.page.locator("#items a", has_text=item.name))
    assert re.match(r"/me/apply/\d+/", me.path)
    fill_form(me.page.locator("main form"))
    me.click("main form button[type=submit]")
    assert re.match(r"/me/applications/\d+/", me.path), me.text()[:300]
    _upload_every_material(me, "form.upload-form", "#id_files")
    assert "待上传" not in me.text()
    me.click(me.page.get_by_role("button", name="提交申请"))
    assert "审批中" in me.text()
    timeline = me.page.locator(".portal-timeline")
    assert timeline.first.is_visible()
    assert "车间工会初审" in timeline.first.inner_text()
    # (item 12: the timeline lists no step that will be skipped — the timeline helper's test)
    # My applications: the list, then a paid one (its timeline and the money).
    me.go("/me/applications/")
    paid = Application.objects.filter(member__user__username="worker",
                                      status=ApplicationStatus.PAID).first()
    assert paid is not None, "the demo gives the worker a paid application"
    me.click(me.page.locator(f'main a[href="/me/applications/{paid.pk}/"]'))
    assert "已发放" in me.text()
    me.go("/notifications/")


def test_team_cadre_sees_members_visits_and_files_for_a_worker(browse):
    cadre = browse("team_cadre")
    cadre.click(cadre.page.locator("nav a[href='/members/']").first
                if cadre.size == "desktop" else _menu(cadre, "/members/"))
    # A worker of the 班组 (the list shows only those).
    listed = [int(m) for m in re.findall(r'href="/members/(\d+)/"', cadre.page.content())]
    assert listed, "the team cadre sees the members of their 班组"
    member_pk = listed[0]
    cadre.click(cadre.page.locator(f"main a[href='/members/{member_pk}/']"))
    cadre.click(cadre.page.get_by_role("link", name="代办申请"))
    assert cadre.path == f"/assistance/applications/new/?member={member_pk}", cadre.path
    item = _an_item_not_yet_asked(member_id=member_pk)
    cadre.click(cadre.page.locator("main .list-group a", has_text=item.name))
    fill_form(cadre.page.locator("main form"))
    cadre.click("main form button[type=submit]")
    assert re.match(r"/assistance/applications/\d+/", cadre.path), cadre.text()[:300]
    # The cadre's upload offers the camera and the file chooser: a file is chosen here.
    _upload_every_material(cadre, "form[enctype='multipart/form-data']", "input[name=file]")
    submit = cadre.page.locator("form[action$='/submit/']")
    fill_form(submit)
    cadre.click(submit.locator("button[type=submit]"))
    assert "审批中" in cadre.text()
    # Visits: the list and a new visit's first page.
    cadre.go("/visits/")
    cadre.go("/visits/new/")


# Items a team member may ask for (active worker, once a case or a year), simplest first.
CANDIDATE_ITEMS = ["住院医疗补助", "重大疾病一次性救助", "意外伤害救助", "临时困难救助",
                   "住房受损救助", "自然灾害财产损失救助"]


def _an_item_not_yet_asked(**member):
    asked = set(Application.objects.filter(**member).values_list("item__name", flat=True))
    name = next(n for n in CANDIDATE_ITEMS if n not in asked)
    return AssistanceItem.objects.select_related("category").get(name=name)


def _menu(session, href: str):
    """On a phone the menu is folded: open it, then give the link."""
    session.page.locator("button.navbar-toggler").click()
    link = session.page.locator(f"#mainnav a[href='{href}']")
    link.wait_for(state="visible")
    return link


def test_approvers_decide_from_their_to_do_list(browse):
    """The 车间 approver opens their first to-do and approves it (the 站段's list: below)."""
    approver = browse("workshop_cadre")
    approver.go("/approvals/todo/")
    tasks = approver.page.locator("main a[href^='/approvals/tasks/']")
    assert tasks.count() > 0, "workshop_cadre has something to do in the demo"
    approver.click(tasks.first)
    assert re.match(r"/approvals/tasks/\d+/", approver.path)
    task = ApprovalTask.objects.get(pk=_task_in(approver.path))
    approver.page.locator("textarea[name=comment], input[name=comment]").first.fill(
        "情况属实，同意。")
    approver.click(approver.page.locator("button[name=decision][value=approve]"))
    task.refresh_from_db()
    assert task.status == TaskStatus.APPROVED, approver.text()[:300]


STATION_ITEM = "kn-lsjz"  # 临时困难救助: 2,000 yuan for 其他突发困难, so the 站段 decides last
REJECT_REASON = "经核实，家庭月人均收入高于本项目标准，不予救助。"


def test_station_approver_searches_decides_in_turn_rejects_and_batch_approves(browse):
    """Item 11: the 站段 approver finds cases by name (a GET form: the search is in the
    address), narrows the list by item, approves one and is offered the next of the same list,
    rejects that one only after confirming and is offered the third, then ticks two rows and
    approves them at once (the confirm states the count)."""
    station_cadre = User.objects.get(username="station_cadre")
    added = _cases_waiting_at_the_station(station_cadre, 3)
    item = added[0].item
    waiting = {a.pk: _pending_task(a) for a in added}
    approver = browse("station_cadre")
    approver.go("/approvals/todo/")
    assert set(_rows(approver)) >= set(waiting.values()), "the three cases reached the 站段"

    # Search by an applicant's name.
    name = added[0].member.name
    approver.page.locator("#todo-filter input[name=q]").fill(name)
    approver.click("#todo-filter button[type=submit]")
    assert re.match(r"/approvals/todo/\?(.*&)?q=", approver.path), approver.path
    rows = approver.page.locator("#todo-table tbody tr")
    assert waiting[added[0].pk] in _rows(approver)
    assert all(name in row.inner_text() for row in rows.all())
    approver.click(approver.page.get_by_role("link", name="清除筛选"))

    # Filter by item: exactly the 站段's cases of that item are listed.
    approver.page.locator("#todo-filter summary").click()
    select = approver.page.locator("#todo-filter select[name=item]")
    select.select_option(select.locator("option", has_text=item.name).first.get_attribute("value"))
    approver.click("#todo-filter button[type=submit]")
    assert "item=" in approver.path, approver.path
    of_item = Application.objects.filter(item=item).values("case_id")
    expected = list(todo_for_user(user=station_cadre).filter(case_id__in=of_item)
                    .values_list("pk", flat=True))
    assert sorted(_rows(approver)) == sorted(expected)
    assert set(expected) >= set(waiting.values())

    # Approve the first: the next case of the same filtered list opens.
    approver.click(approver.page.locator("#todo-table tbody tr").first
                   .locator("a[href^='/approvals/tasks/']"))
    first = ApprovalTask.objects.get(pk=_task_in(approver.path))
    approver.page.locator("textarea[name=comment]").fill("情况属实，同意。")
    approver.click(approver.page.locator("button[name=decision][value=approve]"))
    first.refresh_from_db()
    assert first.status == TaskStatus.APPROVED
    assert "接着办理下一件" in approver.text()
    second = ApprovalTask.objects.get(pk=_task_in(approver.path))
    assert second.pk in expected
    assert second.pk != first.pk
    assert "item=" in approver.path, "the next case comes from the same filtered list"

    # Reject it: the browser asks first; 取消 leaves the case open, 确定 ends it.
    approver.page.locator("textarea[name=comment]").fill(REJECT_REASON)
    reject = approver.page.locator("button[name=decision][value=reject]")
    question = approver.click_and_dismiss(reject)
    assert "不能恢复" in question, question
    second.refresh_from_db()
    assert second.status == TaskStatus.PENDING, "a dismissed 驳回 decides nothing"
    assert _task_in(approver.path) == second.pk
    approver.click(reject, dialog=True)
    second.refresh_from_db()
    assert second.status == TaskStatus.REJECTED, approver.text()[:300]
    assert second.case.status == CaseStatus.REJECTED
    third = ApprovalTask.objects.get(pk=_task_in(approver.path))  # and the next case opens
    assert third.pk in expected
    assert third.pk not in (first.pk, second.pk)

    # Batch: nothing ticked, nothing to press; two ticked, the confirm says 2.
    approver.go("/approvals/todo/")
    button = approver.page.locator("#batch-approve")
    assert button.is_disabled(), "with nothing ticked the batch button is off"
    boxes = approver.page.locator("#todo-table input.todo-batch")
    assert boxes.count() >= 2, "the third case and the demo's own wait at the 站段"
    left = [int(boxes.nth(n).get_attribute("value")) for n in range(2)]
    for n in range(2):
        boxes.nth(n).check()
    assert approver.page.locator("#batch-count").inner_text() == "2"
    approver.click(button, dialog=True)
    assert "2" in approver.dialogs[-1], approver.dialogs[-1]
    assert "已批量同意 2 件" in approver.text()
    assert set(ApprovalTask.objects.filter(pk__in=left).values_list("status", flat=True)) == {
        TaskStatus.APPROVED}
    assert not set(_rows(approver)) & set(left)


def _cases_waiting_at_the_station(station_cadre, count: int) -> list[Application]:
    """``count`` more 临时困难救助 cases waiting at the station cadre's 站段 step, filed by the
    站段's 代办员 and passed by the 车间, through the services as the demo does (the small demo
    leaves the 站段 persona one case, too few to try a list on)."""
    station = (Assignment.objects.current().filter(user=station_cadre)
               .select_related("position__org_unit").get().position.org_unit)
    intake = User.objects.get(username=unit_staff_username("intake_cadre", station))
    item = AssistanceItem.objects.select_related("category").get(code=STATION_ITEM)
    members = (Member.objects.filter(org_unit__path__startswith=station.path,
                                     membership_status=MembershipStatus.ACTIVE)
               .exclude(pk__in=User.objects.exclude(member=None).values("member_id"))
               .exclude(pk__in=Application.objects.filter(item=item).values("member_id"))
               .select_related("org_unit").order_by("pk")[:count])
    assert len(members) == count, "the demo's 站段 has members to file for"
    rng = random.Random(10)
    filed = []
    for member in members:
        application = file_application(actor=intake, member=member, item=item,
                                       facts={"cause": "其他突发困难"}, rng=rng)
        while (task := _pending_task(application, obj=True)).step.name != "站段工会审核":
            holder = (Assignment.objects.current().filter(position_id=task.assigned_position_id)
                      .select_related("user").first().user)
            approval_services.task_decide(actor=holder, task=task, decision="approve")
        filed.append(application)
    return filed


def _pending_task(application, *, obj: bool = False):
    application.refresh_from_db()
    task = ApprovalTask.objects.select_related("step").get(case_id=application.case_id,
                                                            status=TaskStatus.PENDING)
    return task if obj else task.pk


def _rows(session) -> list[int]:
    """The task ids of the to-do list's rows."""
    return [int(row.get_attribute("id").removeprefix("task-"))
            for row in session.page.locator("#todo-table tbody tr").all()]


def _task_in(path: str) -> int:
    match = re.match(r"/approvals/tasks/(\d+)/", path)
    assert match, f"not a task page: {path}"
    return int(match.group(1))


def test_finance_makes_and_exports_a_batch_and_the_cashier_confirms_it(browse):
    waiting = (Disbursement.objects.filter(status=DisbursementStatus.RESERVED)
               .select_related("budget__funding_source").first())
    assert waiting is not None, "the demo has approved grants waiting for payment"
    finance = browse("finance")
    finance.go("/funds/batches/")
    finance.page.locator("details summary", has_text="生成发放批次").click()
    form = finance.page.locator("details form")
    form.locator("select[name=org_unit]").select_option(index=1)  # the bureau: all of it
    form.locator("select[name=funding_source]").select_option(
        str(waiting.budget.funding_source_id))
    finance.click(form.locator("button[type=submit]"))
    assert re.match(r"/funds/batches/\d+/", finance.path), finance.text()[:300]
    batch_path = finance.path
    with finance.page.expect_download() as download:
        finance.page.get_by_role("button", name="导出银行文件（Excel）").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    finance.go(batch_path)
    assert "尚未导出" not in finance.page.locator("#batch-exported-by").inner_text()

    # The cashier finds the batch from their home page's to-do (item 10), downloads the bank
    # file to pay it at the bank, and may still confirm it (item 9: only its maker may not).
    cashier = browse("cashier")
    cashier.go("/")
    cashier.click("#funds-todo-batches")
    cashier.click(cashier.page.locator(f"main a[href='{batch_path}']"))
    with cashier.page.expect_download() as download:
        cashier.page.get_by_role("button", name="导出银行文件（Excel）").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    cashier.go(batch_path)
    assert cashier.page.locator("#confirm-refused").count() == 0, cashier.text()[:300]
    confirm = cashier.page.locator("form[action$='/confirm/']")
    fill_form(confirm)
    cashier.click(confirm.locator("button[type=submit]"), dialog=True)
    assert "尚未确认" not in cashier.page.locator("#batch-confirmed-by").inner_text()
    assert "已确认发放" in cashier.text()

    # The finance office files the payment ledger upward (帮扶资金发放台账): the funds pages'
    # 台账 tab, the whole scope for this year, masked.
    finance.go("/funds/batches/")
    finance.click("a[href='/assistance/ledgers/']")
    with finance.page.expect_download() as download:
        finance.page.locator("#funds-ledger-form button[type=submit]").first.click()
    assert "帮扶资金发放台账" in download.value.suggested_filename


def test_auditor_traces_a_payment_and_the_audit_admin_reads_the_journal(browse):
    paid = Application.objects.filter(status=ApplicationStatus.PAID).first()
    auditor = browse("auditor")
    auditor.go("/funds/trace/")
    form = auditor.page.locator("main form")
    form.locator("select[name=kind]").select_option("application")
    form.locator("input[name=number]").fill(str(paid.pk))
    auditor.click(form.locator("button[type=submit]"))
    assert re.match(r"/funds/trace/\d+/", auditor.path), auditor.text()[:300]

    # The auditor's checks (issue 13): run them over their scope, open a check, draw a sample.
    auditor.go("/checks/")
    auditor.click(auditor.page.get_by_role("button", name="立即核查"))
    assert "核查完成" in auditor.text(), auditor.text()[:300]
    auditor.click(auditor.page.locator("main #checks h2 a").first)
    assert re.match(r"/checks/[a-z_]+\.[a-z_]+/", auditor.path)
    auditor.go("/checks/samples/")
    form = auditor.page.locator("#sample-draw")
    form.locator("select[name=unit]").select_option(index=1)
    form.locator("select[name=rule]").select_option("random")
    form.locator("input[name=percent]").fill("50")
    auditor.click(form.locator("button[type=submit]"))
    assert re.match(r"/checks/samples/\d+/", auditor.path), auditor.text()[:300]
    auditor.go("/checks/search/")
    form = auditor.page.locator("#checks-find")
    form.locator("input[name=name]").fill(paid.member.name[:1])
    auditor.click(form.locator("button[type=submit]"))
    assert auditor.page.locator("#found a[href^='/funds/trace/']").count() >= 1

    admin = browse(None)
    admin.login_with_code("auditadmin")
    admin.go("/audit/")
    admin.click(admin.page.locator("main table a[href^='/audit/']").first)
    assert re.match(r"/audit/\d+/", admin.path)
    admin.go("/audit/reads/")


def test_system_admin_sets_a_jobs_schedule_and_asks_for_a_run(browse):
    admin = browse(None)
    admin.login_with_code("sysadmin")
    assert admin.page.locator("nav a[href='/schedules/']").count() == 1  # the menu (folded on a phone)
    admin.go("/")
    admin.click("#schedules-todo")  # the home page's tile
    assert admin.path == "/schedules/"
    assert "超期待办督办" in admin.text()
    admin.click(admin.page.locator("main a[href='/schedules/archive.recheck_remind/']"))
    form = admin.page.locator("main form.form-narrow")
    form.locator("input[name=expression]").fill("0 25 * * *")
    admin.click(form.locator("button[type=submit]"))
    assert "“时”一段不正确" in admin.text()
    form = admin.page.locator("main form.form-narrow")
    form.locator("input[name=expression]").fill("30 8 * * 1-5")
    admin.click(form.locator("button[type=submit]"))
    assert "每周一至周五 08:30" in admin.text()
    admin.click(admin.page.get_by_role("button", name="立即运行"))
    assert "等待调度程序执行" in admin.text()
