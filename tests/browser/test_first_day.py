"""A union's first day in a real browser, on a phone and a desktop: the set-up page of an empty
installation (no demo) up to the security admin's authenticator enrolment; the system admin's
org tree import and the security admin's staff import (a dry run with a bad row, then a good
file); a worker's choice of notification channels; the system admin's deliveries page. Every
page reached passes ``Browse``'s checks."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.browser.checks import VIEWPORTS, Browse
from unionaid.accounts.models import User
from unionaid.audit.models import AuditEvent
from unionaid.notifications import deliveries
from unionaid.notifications.models import Channel, ChannelPreference, Delivery, DeliveryStatus
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import level_names

ADMIN_PASSWORD = "Setup-pass-2026"


@pytest.fixture
def empty_site(chromium, live_server, size, transactional_db, settings, tmp_path):
    """A browser tab of the test's size on an installation with no data at all (no demo);
    the set-up token goes to a private file under ``tmp_path``."""
    settings.SETUP_TOKEN_FILE = str(tmp_path / "setup-token")
    connection.ensure_connection()
    assert not User.objects.exists()
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                   **VIEWPORTS[size])
    context.set_default_timeout(15_000)
    yield Browse(context, live_server.url, size), tmp_path / "setup-token"
    context.close()


def _submit(session, form="main form"):
    session.click(session.page.locator(form).locator("button[type=submit]"))


def _refused(session, button) -> None:
    """Click a form's submit button whose input the page refuses: the page answers 400 with
    the form and its errors (the project's way), which chromium logs as a console error for the
    page itself; that one line is expected, anything else still fails the page's checks."""
    with session.page.expect_navigation() as navigation:
        button.click()
    response = navigation.value
    assert response is not None
    assert response.status == 400, "the input was not refused"
    own = f"status of 400 (Bad Request) ({session.page.url})"
    session.console[:] = [line for line in session.console if not line.endswith(own)]
    session.check()


def test_an_empty_installation_is_set_up_in_the_browser(empty_site):
    site, token_file = empty_site
    site.go("/accounts/login/")
    site.click("main a[href='/setup/']")
    assert site.path == "/setup/"
    assert str(token_file) in site.text()  # the page names the token file
    token = token_file.read_text(encoding="ascii").strip()
    assert token not in site.page.content()
    page = site.page
    page.fill("#id_token", token)
    page.fill("#id_union_name", "示例市总工会")
    page.fill("#id_levels", "路局,站段,车间,班组")
    page.fill("#id_root_code", "R")
    page.fill("#id_admin_username", "firstadmin")
    page.fill("#id_admin_name", "安全员甲")
    page.fill("#id_password1", ADMIN_PASSWORD)
    page.fill("#id_password2", ADMIN_PASSWORD)
    _submit(site)
    assert "初始化完成" in site.text(), site.text()[:300]
    assert "示例市总工会" in site.text()
    assert not token_file.exists()
    site.click("main a[href='/accounts/login/']")
    page.fill("input[name=username]", "firstadmin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    _submit(site)
    # An admin's first login goes to binding an authenticator (two-factor enrolment).
    assert site.path.startswith("/accounts/otp/setup/"), site.path
    # The set-up page is gone, for anybody (a visitor not logged in here).
    site.context.clear_cookies()
    response = page.goto(site.base_url + "/setup/")
    assert response.status == 404
    assert User.objects.count() == 1


def _upload(session, name: str, text: str, *, mode: str, refused: bool = False):
    form = session.page.locator("main form[enctype='multipart/form-data']")
    form.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")})
    form.locator(f"input[name=mode][value={mode}]").check()
    if refused:
        _refused(session, form.locator("button[type=submit]"))
    else:
        session.click(form.locator("button[type=submit]"))


def _problems(session) -> str:
    return session.page.locator("#import-problems").inner_text()


def test_the_system_admin_imports_the_org_tree(browse):
    admin = browse(None)
    admin.login_with_code("sysadmin")
    admin.go("/import/org/")
    root = OrgUnit.objects.get_first_root_node()
    level = level_names()[2]
    before = OrgUnit.objects.count()
    bad = (f"单位编码,单位名称,上级单位编码,层级\n"
           f"T-NEW-1,示例新站段,{root.code},{level}\n"
           f"T-NEW-2,示例孤立站段,NO-SUCH-UNIT,{level}\n")
    _upload(admin, "org.csv", bad, mode="check", refused=True)
    problems = _problems(admin)
    assert "3" in problems.split()  # the bad row's number (the header is row 1)
    assert "NO-SUCH-UNIT" in problems
    assert "没有导入任何数据" in admin.text()
    assert OrgUnit.objects.count() == before

    good = (f"单位编码,单位名称,上级单位编码,层级\n"
            f"T-NEW-1,示例新站段,{root.code},{level}\n"
            f"T-NEW-2,示例又一站段,{root.code},{level}\n")
    _upload(admin, "org.csv", good, mode="check")
    assert "检查通过" in admin.text()
    assert OrgUnit.objects.count() == before  # a dry run writes nothing
    _upload(admin, "org.csv", good, mode="import")
    assert "导入完成" in admin.text(), admin.text()[:300]
    assert OrgUnit.objects.count() == before + 2
    assert OrgUnit.objects.get_parent(OrgUnit.objects.get(code="T-NEW-1")) == root
    admin.click("main a[href='/org/']")
    assert "示例新站段" in admin.text()
    assert "示例又一站段" in admin.text()


def test_the_security_admin_imports_the_staff_and_sees_the_passwords_once(browse):
    admin = browse(None)
    admin.login_with_code("secadmin")
    admin.go("/import/staff/")
    root = OrgUnit.objects.get_first_root_node()
    header = "登录名,姓名,手机号,单位编码,岗位,角色,电子邮箱\n"
    good_row = f"newauditor,审计员丙,,{root.code},路局工会新审计岗,审计人员,\n"
    bad = header + good_row + "newcadre,干事丁,,NO-SUCH-UNIT,某岗位,审计人员,\n"
    _upload(admin, "staff.csv", bad, mode="import", refused=True)
    problems = _problems(admin)
    assert "3" in problems.split()
    assert "找不到单位编码“NO-SUCH-UNIT”" in problems
    assert not User.objects.filter(username__in=["newauditor", "newcadre"]).exists()

    _upload(admin, "staff.csv", header + good_row, mode="import")
    credentials = admin.page.locator("#credentials")
    assert credentials.count() == 1, admin.text()[:300]
    password = credentials.locator("code").first.inner_text().strip()
    assert User.objects.get(username="newauditor").check_password(password)
    assert admin.page.locator("main a[download]").count() == 1  # the sheet to download
    # Shown once: the page again holds no password.
    admin.go("/import/staff/")
    assert password not in admin.page.content()


@pytest.mark.parametrize("size", ["phone"])
def test_a_worker_turns_on_sms_on_a_phone(browse):
    worker = browse("worker")
    worker.go("/notifications/preferences/")
    addresses = worker.page.locator("#channel-addresses").inner_text()
    roster_phone = User.objects.get(username="worker").member.phone
    assert roster_phone
    assert roster_phone not in worker.page.content()
    assert roster_phone[:3] in addresses  # masked: its head and tail shown
    assert roster_phone[-4:] in addresses
    assert "职工名册中的手机号" in addresses

    worker.page.check("#id_sms")
    worker.page.fill("#id_phone", "12345")
    _submit(worker)
    refusal = worker.page.locator("main .invalid-feedback").first.inner_text()
    assert "手机号格式不正确" in refusal, refusal
    assert not ChannelPreference.objects.filter(user__username="worker", sms=True).exists()

    worker.page.fill("#id_phone", "")
    worker.page.check("#id_sms")
    _submit(worker)
    assert "接收方式已保存" in worker.text(), worker.text()[:300]
    assert ChannelPreference.objects.get(user__username="worker").sms
    worker.go("/notifications/preferences/")
    assert worker.page.is_checked("#id_sms")


def test_the_system_admin_retries_a_failed_delivery(browse, sms_gateway):
    phone = "13800138123"
    delivery = deliveries.delivery_create(channel=Channel.SMS, to=phone, kind="notice",
                                          params={"title": "待办提醒", "time": "08:30"})
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=3,
                                                   next_attempt_at=None, last_error="network")
    admin = browse(None)
    admin.login_with_code("sysadmin")
    admin.go("/notifications/deliveries/?status=failed")
    row = admin.page.locator(f"#delivery-{delivery.pk}")
    assert row.count() == 1
    assert phone not in admin.page.content()
    assert phone[-4:] in row.inner_text()  # masked, its tail shown
    admin.click(row.locator("button[type=submit]"))
    assert "已重新排队发送" in admin.text()
    # Queued again; the sending job (run here as the task worker would) gets it out now.
    deliveries.deliveries_send_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len(sms_gateway.messages_for(phone)) == 1
    assert AuditEvent.objects.filter(action="notification.delivery_retry",
                                     actor__username="sysadmin").exists()
