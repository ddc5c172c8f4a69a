"""The system admin's schedules page: the list (schedule in words, next times, last run,
failures), editing with validation, on/off, run now, acknowledging; journaled; nobody else
finds it; the menu and the home page's to-do."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import verified_login
from unionaid.audit.models import AuditEvent
from unionaid.schedules import runner
from unionaid.schedules.models import RunOutcome, Schedule, ScheduleRun

pytestmark = pytest.mark.django_db

URL = "/schedules/"
DETAIL = "/schedules/test.toy/"


@pytest.fixture
def admin(client, personas):
    return verified_login(client, personas.bureau_admin)


def failed_run(*, error="ValueError"):
    schedule, _ = Schedule.objects.get_or_create(
        key="test.toy", defaults={"expression": "0 * * * *", "not_before": timezone.now()})
    now = timezone.now()
    return ScheduleRun.objects.create(schedule=schedule, slot=now, trigger="scheduled",
                                      started_at=now, finished_at=now, duration_ms=1200,
                                      outcome=RunOutcome.FAILED, error=error)


def test_the_list_shows_each_job_with_its_schedule_next_times_and_last_run(admin, toy):
    run = failed_run()
    page = admin.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "测试任务" in html
    assert "测试用的任务，每小时整点" in html
    assert "<code>0 * * * *</code> · 每小时第 0 分" in html
    assert html.count('class="list-unstyled small mb-0 next-runs"') == 1
    assert timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M") in html
    assert "用时 1.2 秒" in html
    assert "1 次失败待确认" in html
    assert 'href="/schedules/"' in html  # the menu's link


def test_the_real_jobs_are_registered_by_their_apps(admin):
    html = admin.get(URL).content.decode()
    for label in ("超期待办督办", "复核与跟进到期提醒", "动态管理清单刷新", "清理无主上传文件",
                  "清理过期导出", "审计日志校验"):
        assert label in html


def test_editing_the_expression_saves_and_journals_it(admin, toy, personas):
    response = admin.post(DETAIL, {"expression": " 30  2 * * * ", "enabled": "on"})
    assert response.status_code == 302
    schedule = Schedule.objects.get(key="test.toy")
    assert (schedule.expression, schedule.enabled) == ("30 2 * * *", True)
    assert schedule.updated_by == personas.bureau_admin
    event = AuditEvent.objects.get(action="schedule.update")
    assert event.actor_id == personas.bureau_admin.pk
    assert event.changes == {"expression": {"before": "0 * * * *", "after": "30 2 * * *"}}
    page = admin.get(DETAIL).content.decode()
    assert "每天 02:30" in page
    assert "（默认 0 * * * *）" in page


def test_a_bad_expression_is_refused_in_chinese_and_nothing_is_saved(admin, toy):
    response = admin.post(DETAIL, {"expression": "0 25 * * *", "enabled": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "时间表达式无效：“时”一段不正确，应为 0–23。" in html
    assert "is-invalid" in html
    assert not Schedule.objects.filter(key="test.toy").exists()  # not even switched off
    assert not AuditEvent.objects.filter(action="schedule.update").exists()


def test_the_list_switches_a_job_off_and_on(admin, toy):
    admin.post(f"{DETAIL}enabled/", {"enabled": "0", "back": "list"})
    assert Schedule.objects.get(key="test.toy").enabled is False
    html = admin.get(URL).content.decode()
    assert "已停用，不会按时运行。" in html
    assert admin.post(f"{DETAIL}enabled/", {"enabled": "1"}).url == DETAIL
    assert Schedule.objects.get(key="test.toy").enabled is True
    assert [e.changes["enabled"]["after"] for e in
            AuditEvent.objects.filter(action="schedule.update").order_by("pk")] == [False, True]


def test_run_now_is_asked_once_journaled_and_run_by_the_next_tick(admin, toy, personas):
    response = admin.post(f"{DETAIL}run/")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="schedule.run_request").count() == 1
    assert "等待调度程序执行" in admin.get(DETAIL).content.decode()
    admin.post(f"{DETAIL}run/")  # asked again while waiting: refused, not journaled
    assert AuditEvent.objects.filter(action="schedule.run_request").count() == 1
    [run] = runner.scheduler_tick(now=timezone.now() + dt.timedelta(seconds=1))
    assert run.requested_by == personas.bureau_admin
    assert len(toy.calls) == 1
    page = admin.get(DETAIL).content.decode()
    assert "手动" in page
    assert "处理 1 条" in page


def test_acknowledging_failures_clears_the_todo_and_is_journaled(admin, toy):
    failed_run()
    home = admin.get("/").content.decode()
    assert 'id="schedules-todo"' in home
    assert "项定时任务待处理" in home
    page = admin.get(DETAIL).content.decode()
    assert "确认已处理" in page
    admin.post(f"{DETAIL}acknowledge/")
    assert ScheduleRun.objects.get().acknowledged_at is not None
    event = AuditEvent.objects.get(action="schedule.failures_acknowledge")
    assert event.changes["runs"] == [ScheduleRun.objects.get().pk]
    assert "项定时任务待处理" not in admin.get("/").content.decode()
    assert "确认已处理" not in admin.get(DETAIL).content.decode()


def test_an_unknown_job_is_not_found(admin, toy):
    assert admin.get("/schedules/nobody.job/").status_code == 404
    assert admin.post("/schedules/nobody.job/run/").status_code == 404


@pytest.mark.parametrize("persona", ["station_cadre", "security_admin", "audit_admin"])
def test_nobody_else_finds_the_page_or_can_change_anything(client, personas, toy, persona):
    verified_login(client, getattr(personas, persona))
    failed_run()
    assert client.get(URL).status_code == 404
    assert client.get(DETAIL).status_code == 404
    assert client.post(DETAIL, {"expression": "* * * * *"}).status_code == 404
    assert client.post(f"{DETAIL}enabled/", {"enabled": "0"}).status_code == 404
    assert client.post(f"{DETAIL}run/").status_code == 404
    assert client.post(f"{DETAIL}acknowledge/").status_code == 404
    schedule = Schedule.objects.get(key="test.toy")
    assert (schedule.expression, schedule.enabled, schedule.run_requested_at) == (
        "0 * * * *", True, None)
    assert ScheduleRun.objects.get().acknowledged_at is None
    home = client.get("/").content.decode()
    assert 'href="/schedules/"' not in home
    assert 'id="schedules-todo"' not in home


def test_the_system_admin_without_a_second_factor_is_sent_to_verify(client, personas, toy):
    client.force_login(personas.bureau_admin)
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/" in response.url


def test_the_page_speaks_english_when_chosen(admin):
    admin.post("/i18n/setlang/", {"language": "en", "next": URL})
    html = admin.get(URL).content.decode()
    assert "Scheduled jobs" in html
    assert "Overdue task escalation" in html
    assert "every hour at minute 0" in html
    assert "超期待办督办" not in html


def test_a_slot_not_run_on_time_warns_that_no_scheduler_may_be_running(admin, toy):
    Schedule.objects.create(key="test.toy", expression="0 * * * *",
                            not_before=timezone.now() - dt.timedelta(hours=3))
    html = admin.get(URL).content.decode()
    assert "调度程序可能没有在运行" in html
    assert "未按时运行" in html
    assert "项定时任务待处理" in admin.get("/").content.decode()
    runner.scheduler_tick()  # a scheduler comes back: the latest slot runs
    assert "调度程序可能没有在运行" not in admin.get(URL).content.decode()
    assert "项定时任务待处理" not in admin.get("/").content.decode()
