"""Each persona's journeys through the real pages, on a phone and on a desktop (the ``size``
fixture runs every test at both). Every page reached is checked (``checks.Browse.check``)."""

from __future__ import annotations

import re

from tests.browser.checks import fill_form, png_file
from unionaid.approvals.models import ApprovalTask, TaskStatus
from unionaid.assistance.models import Application, ApplicationStatus, AssistanceItem
from unionaid.funds.models import Disbursement, DisbursementStatus


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
    # TODO(issue 10 item 14, cadre helper): the member page gets a 代办申请 button; once that
    # is merged, click it here instead of opening the 代办 page by its address.
    cadre.go(f"/assistance/applications/new/?member={member_pk}")
    item = _an_item_not_yet_asked(member_id=member_pk)
    cadre.click(cadre.page.locator("main .list-group a", has_text=item.name))
    fill_form(cadre.page.locator("main form"))
    cadre.click("main form button[type=submit]")
    assert re.match(r"/assistance/applications/\d+/", cadre.path), cadre.text()[:300]
    _upload_every_material(cadre, "form[enctype='multipart/form-data']", "input[type=file]")
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
    for username in ("workshop_cadre", "station_cadre"):
        approver = browse(username)
        approver.go("/approvals/todo/")
        tasks = approver.page.locator("main a[href^='/approvals/tasks/']")
        assert tasks.count() > 0, f"{username} has something to do in the demo"
        approver.click(tasks.first)
        assert re.match(r"/approvals/tasks/\d+/", approver.path)
        task = ApprovalTask.objects.get(pk=int(approver.path.split("/")[3]))
        approver.page.locator("textarea[name=comment], input[name=comment]").first.fill(
            "情况属实，同意。")
        approver.click(approver.page.locator("button[name=decision][value=approve]"))
        task.refresh_from_db()
        assert task.status == TaskStatus.APPROVED, approver.text()[:300]


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

    cashier = browse("cashier")
    cashier.go(batch_path)
    confirm = cashier.page.locator("form[action$='/confirm/']")
    fill_form(confirm)
    cashier.click(confirm.locator("button[type=submit]"), dialog=True)
    assert "尚未确认" not in cashier.page.locator("#batch-confirmed-by").inner_text()
    assert "已确认发放" in cashier.text()


def test_auditor_traces_a_payment_and_the_audit_admin_reads_the_journal(browse):
    paid = Application.objects.filter(status=ApplicationStatus.PAID).first()
    auditor = browse("auditor")
    auditor.go("/funds/trace/")
    form = auditor.page.locator("main form")
    form.locator("select[name=kind]").select_option("application")
    form.locator("input[name=number]").fill(str(paid.pk))
    # TODO(issue 10 item 13, the trace's journal labels — another helper's fix): the trace shows
    # journal action codes (funds.batch_confirm …) and login names; once that fix is merged,
    # delete this line so that the page is held to every check.
    auditor.tolerate_once = {"code shown as text"}
    auditor.click(form.locator("button[type=submit]"))
    assert re.match(r"/funds/trace/\d+/", auditor.path), auditor.text()[:300]

    admin = browse(None)
    admin.login_with_code("auditadmin")
    admin.go("/audit/")
    admin.click(admin.page.locator("main table a[href^='/audit/']").first)
    assert re.match(r"/audit/\d+/", admin.path)
    admin.go("/audit/reads/")
