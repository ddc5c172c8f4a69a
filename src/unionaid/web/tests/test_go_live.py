"""Going live (issue 11): the first day of a real union, from an empty database and without the
demo, through the commands docs/deploy.md gives the IT person and the pages the people use.

Each step is a function that does what the doc or the person does and asserts its outcome; each
test runs the steps before its own (pytest-django rolls every test back, so no state is shared
between tests) and then its own step:

1. ``unionaid setup`` with flags (deploy.md step 8): the first security admin, whose first
   log-in asks for a second factor;
2. the org tree and the admins (step 8, each file checked with --dry-run first); the services
   start (step 9: the scheduler's first tick sees the jobs);
3. "Before the workers come" (step 11): the cadres' roles made by the security admin (accounts
   services, as the role editor page does), the cadres and their posts, the roster
   (``unionaid import members``), the default catalog (``load_catalog``) and the approval flow
   of assistance applications (flow_save, as the flow editor page does);
4. a worker activates a login on a phone with the SMS code from the gateway fake;
5. the worker files an application from the phone: a case waiting for the 车间 post;
6. days pass; the scheduler escalates the overdue task by itself;
7. the 车间 approver logs in, sets a password of their own and approves.

A last test checks that every ``sudo ua …`` command the doc gives exists. The browser walk of
the activation (a phone-sized Chromium) is tests/browser/test_activation.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command, get_commands
from django.test import Client
from django.urls import reverse

from unionaid.accounts import services as account_services
from unionaid.accounts.models import Position, User
from unionaid.approvals.models import ApprovalFlow, TaskStatus
from unionaid.approvals.services import flow_save
from unionaid.assistance.approval_subject import SUBJECT_KIND
from unionaid.assistance.models import Application, ApplicationStatus, AssistanceItem
from unionaid.audit.models import AuditEvent
from unionaid.cli import translate
from unionaid.core.synthetic import SyntheticPeople
from unionaid.members.models import Member
from unionaid.notifications.deliveries import deliveries_send_due
from unionaid.notifications.models import Notification
from unionaid.org.models import OrgUnit, UnionProfile
from unionaid.portal.activation import login_codes_send_queued
from unionaid.portal.tests.helpers import pdf, photo
from unionaid.schedules.models import RunOutcome, ScheduleRun
from unionaid.web import demo as demo_package

pytestmark = pytest.mark.django_db

PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
GO_LIVE = dt.datetime(2026, 3, 2, 8, 40, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday morning
ADMIN_PASSWORD = "Admin-pass-2026"
WORKER_PASSWORD = "Worker-pass-2026"
APPROVER_PASSWORD = "Approver-pass-2026"
ITEM = "yl-zdjb"  # 重大疾病一次性救助 of the default catalog: one choice fact, two materials

ORG_CSV = """单位编码,单位名称,上级单位编码,层级
R-01,示例车务段,R,站段
R-01-01,示例运转车间,R-01,车间
R-01-01-01,示例运转一班,R-01-01,班组
R-02,示例机务段,R,站段
R-02-01,示例检修车间,R-02,车间
"""
# One row per person and post. The admins' posts exist (setup made them); the cadres' posts are
# new, with roles the security admin makes first. The 帮扶干事 posts of the 车间 and of the 站段
# above it are the flow's two steps (an overdue 车间 task goes to the same-named post one up).
ADMINS_CSV = """登录名,姓名,手机号,单位编码,岗位,角色,电子邮箱
sysadmin,系统员甲,,R,系统管理员,,
audit01,审计员戊,,R,审计管理员,,
"""
CADRES_CSV = """登录名,姓名,手机号,单位编码,岗位,角色,电子邮箱
ws_officer,车间干事乙,,R-01-01,帮扶干事,帮扶审批,
st_officer,站段干事丙,,R-01,帮扶干事,帮扶审批,
aid_head,帮扶部长丁,,R,帮扶部部长,帮扶管理,
"""
FLOW_STEPS = [
    {"name": "车间审核", "position_name": "帮扶干事", "unit_depth": 3, "due_days": 2},
    {"name": "站段审批", "position_name": "帮扶干事", "unit_depth": 2, "due_days": 3},
]


@dataclass
class Day:
    """What the steps of the day made, for the later steps."""

    tmp: Path
    clock: time_machine.Coordinates
    passwords: dict[str, str] = field(default_factory=dict)
    worker: dict = field(default_factory=dict)  # the roster row of the worker who activates
    worker_client: Client | None = None
    application: Application | None = None


@pytest.fixture
def day(tmp_path, monkeypatch, settings, sms_gateway):
    """An empty database on go-live morning; the demo builder fails if anything calls it."""

    def no_demo(*args, **kwargs):
        raise AssertionError("the demo builder must not be called")

    monkeypatch.setattr(demo_package, "build_demo", no_demo)
    monkeypatch.setattr("unionaid.web.demo.builder.build_demo", no_demo)
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.BACKUP_DIR = tmp_path / "backups"
    assert not User.objects.exists()
    assert not OrgUnit.objects.exists()
    assert not UnionProfile.objects.exists()
    with time_machine.travel(GO_LIVE, tick=True) as clock:
        yield Day(tmp=tmp_path, clock=clock)


def write(day: Day, name: str, text: str) -> str:
    path = day.tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def phone_client() -> Client:
    return Client(HTTP_USER_AGENT=PHONE)


# -- the steps ---------------------------------------------------------------------------------

def step_1_setup(day: Day) -> None:
    """deploy.md step 8: ``sudo ua setup`` with its flags."""
    run("setup", "--union-name", "示例铁路局工会", "--levels", "路局,站段,车间,班组",
        "--root-code", "R", "--root-name", "示例铁路局工会", "--admin-username", "secadmin",
        "--admin-name", "安全员甲", "--admin-password-file", write(day, "pw", ADMIN_PASSWORD),
        "--no-input")
    assert UnionProfile.objects.get().name == "示例铁路局工会"
    assert OrgUnit.objects.get().code == "R"
    secadmin = User.objects.get()
    assert secadmin.username == "secadmin"
    assert secadmin.access.has_perm("security.manage")
    # The password was chosen by the IT person (a file), so it is not a one-time one; the
    # first log-in asks for a second factor before anything else (deploy.md § 11).
    assert not secadmin.must_change_password
    client = Client()
    client.post(reverse("accounts:login"), {"username": "secadmin",
                                            "password": ADMIN_PASSWORD})
    assert client.get("/")["Location"] == reverse("accounts:otp-setup")
    assert client.get(reverse("accounts:admin-users"))["Location"] == reverse(
        "accounts:otp-setup")


def passwords_printed(out: str) -> dict[str, str]:
    """The one-time passwords ``import_staff`` prints once: login, name, password a line."""
    return {line.split("\t")[0]: line.split("\t")[2] for line in out.splitlines()
            if line.count("\t") == 2}


def step_2_org_and_admins(day: Day) -> None:
    """deploy.md step 8: the org tree and the admins, each checked with --dry-run first; then
    the services start (step 9): the scheduler's first tick sees the jobs and runs none."""
    org = write(day, "units.csv", ORG_CSV)
    assert "检查通过" in run("import_org", org, "--dry-run")
    assert OrgUnit.objects.count() == 1
    run("import_org", org)
    assert OrgUnit.objects.count() == 6
    assert OrgUnit.objects.get(code="R-01-01").path.startswith(
        OrgUnit.objects.get(code="R-01").path)
    admins = write(day, "staff.csv", ADMINS_CSV)
    assert "检查通过" in run("import_staff", admins, "--dry-run")
    assert User.objects.count() == 1
    day.passwords.update(passwords_printed(run("import_staff", admins)))
    sysadmin = User.objects.get(username="sysadmin")
    assert sysadmin.check_password(day.passwords["sysadmin"])
    assert sysadmin.must_change_password
    assert sysadmin.access.has_perm("system.config")
    assert not sysadmin.access.has_perm("security.manage")  # 三权分立

    run("scheduler", "--once")
    assert not ScheduleRun.objects.exists()  # the first tick only sees the jobs


def step_3_before_the_workers_come(day: Day) -> None:
    """deploy.md step 11, "Before the workers come": the roles, the cadres and their posts,
    the roster, the default catalog, the approval flow."""
    # 1. the roles the cadres' posts carry: made by the security admin, as the role editor does
    secadmin = User.objects.get(username="secadmin")
    account_services.role_save(actor=secadmin, code="aid_approver", name="帮扶审批",
                               permissions=["assistance.view", "members.view", "org.view"],
                               data_scope="unit_and_below")
    account_services.role_save(actor=secadmin, code="aid_manager", name="帮扶管理",
                               permissions=["assistance.catalog", "assistance.view",
                                            "members.import", "members.view", "org.view"],
                               data_scope="unit_and_below")
    # 2. the cadres: a 车间 approver, a 站段 approver, the 帮扶部 head at the root
    cadres = write(day, "cadres.csv", CADRES_CSV)
    assert "检查通过" in run("import_staff", cadres, "--dry-run")
    day.passwords.update(passwords_printed(run("import_staff", cadres)))
    assert {"ws_officer", "st_officer", "aid_head"} <= set(day.passwords)
    workshop_post = Position.objects.get(org_unit__code="R-01-01", name="帮扶干事")
    station_post = Position.objects.get(org_unit__code="R-01", name="帮扶干事")
    assert workshop_post.assignments.get().user.username == "ws_officer"
    assert station_post.assignments.get().user.username == "st_officer"
    assert all(u.must_change_password for u in User.objects.exclude(username="secadmin"))
    # 3. the roster, synthetic people, with the doc's command (`ua import members … --as`)
    people = SyntheticPeople(seed=2026)
    header = ["姓名", "身份证号", "手机号", "单位编码", "用工形式", "会籍状态", "入会日期"]
    rows = []
    for unit in ("R-01-01-01", "R-01-01-01", "R-01-01", "R-02-01"):
        person = people.person()
        rows.append([person["name"], person["id_number"], person["phone"], unit,
                     "合同制职工", "在籍会员", "2015-03-01"])
    day.worker = dict(zip(header, rows[0], strict=True))
    roster = day.tmp / "roster.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    assert "检查通过" in run(*translate(["import", "members", str(roster), "--dry-run",
                                          "--as", "aid_head"]))
    assert not Member.objects.exists()
    assert "新增职工 4 人" in run(*translate(["import", "members", str(roster),
                                               "--as", "aid_head"]))
    assert Member.objects.filter(org_unit__code="R-01-01-01").count() == 2

    # 4. the default catalog
    assert "created" in run("load_catalog")
    item = AssistanceItem.objects.get(code=ITEM)
    assert item.is_active

    # 5. the flow of assistance applications for the whole union, published by the one who holds
    # the flow right at the root (as the flow editor page does, through the same service).
    flow_save(actor=User.objects.get(username="aid_head"), subject_kind=SUBJECT_KIND,
              subject_key="", org_unit=OrgUnit.objects.get(code="R"), name="帮扶申请审批",
              steps=FLOW_STEPS)
    flow = ApprovalFlow.objects.get(subject_kind=SUBJECT_KIND)
    assert [s.due_days for s in flow.versions.get().steps.order_by("order")] == [2, 3]


def step_4_activate(day: Day, sms_gateway) -> None:
    """The worker activates a login on their phone: roster details, the SMS code, a password."""
    client = phone_client()
    worker = day.worker
    page = client.get(reverse("activation:start"))
    assert page.status_code == 200
    response = client.post(reverse("activation:start"), {
        "name": worker["姓名"], "id_number": worker["身份证号"], "phone": worker["手机号"]})
    assert response["Location"] == reverse("activation:code")
    login_codes_send_queued()  # the task worker hands the code over to a text message
    deliveries_send_due()  # and sends it
    code = sms_gateway.last_code_for(worker["手机号"])
    assert code
    assert re.fullmatch(r"\d{6}", code)
    response = client.post(reverse("activation:code"), {"code": code})
    assert response["Location"] == reverse("activation:password")
    response = client.post(reverse("activation:password"), {
        "username": "worker01", "password1": WORKER_PASSWORD, "password2": WORKER_PASSWORD})
    assert response["Location"] == reverse("portal:home")
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert worker["姓名"] in home.content.decode()
    user = User.objects.get(username="worker01")
    assert user.member.name == worker["姓名"]
    assert user.check_password(WORKER_PASSWORD)
    day.worker_client = client


def step_5_file(day: Day) -> None:
    """From the phone: choose the item, the facts, a draft, photos of the materials, submit."""
    client = day.worker_client
    item = AssistanceItem.objects.get(code=ITEM)
    assert client.get(reverse("portal:apply", args=[item.pk])).status_code == 200
    response = client.post(reverse("portal:apply", args=[item.pk]),
                           {"fact_disease": "恶性肿瘤", "reason": "确诊后治疗费用高"})
    application = Application.objects.get(member__user__username="worker01")
    assert response["Location"] == reverse("portal:application-detail", args=[application.pk])
    assert application.status == ApplicationStatus.DRAFT
    for material, upload in (("身份证或社保卡", photo()), ("诊断证明", pdf())):
        response = client.post(reverse("portal:attachment-upload", args=[application.pk]),
                               {"material": material, "files": [upload]},
                               HTTP_HX_REQUEST="true")
        assert response.status_code == 200
    response = client.post(reverse("portal:application-submit", args=[application.pk]),
                           follow=True)
    assert "申请已提交" in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW
    task = application.case.tasks.get(status=TaskStatus.PENDING)
    assert task.step.name == "车间审核"
    assert task.assigned_position.org_unit.code == "R-01-01"
    assert task.due_at is not None
    day.application = application


def step_6_escalate(day: Day) -> None:
    """Past the 车间 step's due time, the scheduler escalates the task at its next hourly slot,
    by itself: ``unionaid scheduler`` (inside ``unionaid serve``) is all that runs."""
    task = day.application.case.tasks.get(status=TaskStatus.PENDING)
    # Two days on, a little before the due time: the hourly run finds nothing overdue.
    day.clock.move_to(task.due_at - dt.timedelta(minutes=10))
    run("scheduler", "--once")
    before = ScheduleRun.objects.filter(schedule__key="approvals.escalate").get()
    assert before.outcome == RunOutcome.OK
    assert before.summary == "已督办超期待办 0 条"
    day.clock.move_to(task.due_at + dt.timedelta(minutes=5))
    run("scheduler", "--once")
    task.refresh_from_db()
    assert task.escalated_at is None  # overdue, but the hourly slot since has not come yet
    day.clock.move_to(task.due_at + dt.timedelta(hours=1, minutes=2))
    run("scheduler", "--once")
    run_row = ScheduleRun.objects.filter(schedule__key="approvals.escalate").latest("slot")
    assert run_row.outcome == RunOutcome.OK, run_row.error
    assert run_row.summary == "已督办超期待办 1 条"
    assert run_row.slot > task.due_at
    task.refresh_from_db()
    assert task.escalated_at is not None
    assert task.status == TaskStatus.PENDING  # still the 车间's to decide
    # the same-named post one level up (the 站段's 帮扶干事) is asked to chase it up; the
    # 车间 officer is reminded
    up = Notification.objects.get(recipient__username="st_officer", title__contains="超期")
    assert "请督办" in up.body
    assert Notification.objects.filter(recipient__username="ws_officer",
                                       title__contains="您的待办已超期").exists()
    event = AuditEvent.objects.get(action="approval.task_escalate")
    assert event.changes["notified"] == [User.objects.get(username="st_officer").pk]
    # The other jobs ran at their slots too, the audit journal's check among them. (The nightly
    # backup cannot copy an in-memory SQLite test database inside the test's transaction; on
    # PostgreSQL it runs pg_dump like in production.)
    failed = {run.schedule.key: run.error for run in ScheduleRun.objects.select_related("schedule")
              if run.outcome != RunOutcome.OK and run.schedule.key != "audit.backup"}
    assert failed == {}
    assert ScheduleRun.objects.get(schedule__key="audit.verify").outcome == RunOutcome.OK


def step_7_approve(day: Day) -> None:
    """The 车间 officer logs in with the one-time password, sets their own, and approves."""
    client = Client()
    client.post(reverse("accounts:login"), {"username": "ws_officer",
                                            "password": day.passwords["ws_officer"]})
    assert client.get("/")["Location"] == reverse("accounts:password-first")
    client.post(reverse("accounts:password-first"),
                {"new_password1": APPROVER_PASSWORD, "new_password2": APPROVER_PASSWORD})
    task = day.application.case.tasks.get(status=TaskStatus.PENDING)
    todo = client.get(reverse("approvals:todo"))
    assert todo.status_code == 200
    assert f'id="task-{task.pk}"' in todo.content.decode()
    response = client.post(reverse("approvals:task-detail", args=[task.pk]),
                           {"decision": "approve", "comment": "情况属实"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.APPROVED
    following = day.application.case.tasks.get(status=TaskStatus.PENDING)
    assert following.step.name == "站段审批"
    assert following.assigned_position.org_unit.code == "R-01"


# -- the tests: each runs the steps before its own ------------------------------------------

def test_1_setup_makes_the_first_security_admin(day):
    step_1_setup(day)


def test_2_the_org_tree_and_the_admins_are_imported(day):
    step_1_setup(day)
    step_2_org_and_admins(day)


def test_3_roles_cadres_roster_catalog_and_flow_before_the_workers_come(day):
    step_1_setup(day)
    step_2_org_and_admins(day)
    step_3_before_the_workers_come(day)


def test_4_a_worker_activates_a_login_on_a_phone(day, sms_gateway):
    step_1_setup(day)
    step_2_org_and_admins(day)
    step_3_before_the_workers_come(day)
    step_4_activate(day, sms_gateway)


def test_5_the_worker_files_an_application(day, sms_gateway):
    step_1_setup(day)
    step_2_org_and_admins(day)
    step_3_before_the_workers_come(day)
    step_4_activate(day, sms_gateway)
    step_5_file(day)


def test_6_the_scheduler_escalates_the_overdue_task_by_itself(day, sms_gateway):
    step_1_setup(day)
    step_2_org_and_admins(day)
    step_3_before_the_workers_come(day)
    step_4_activate(day, sms_gateway)
    step_5_file(day)
    step_6_escalate(day)


def test_7_the_workshop_approver_approves(day, sms_gateway):
    step_1_setup(day)
    step_2_org_and_admins(day)
    step_3_before_the_workers_come(day)
    step_4_activate(day, sms_gateway)
    step_5_file(day)
    step_6_escalate(day)
    step_7_approve(day)


def test_every_command_deploy_md_gives_the_it_person_exists():
    """The walk-through's ``sudo ua …`` commands are the program's (aliases translated)."""
    doc = (Path(__file__).resolve().parents[4] / "docs" / "deploy.md").read_text()
    found = {tuple(x for x in match if x)
             for match in re.findall(r"sudo ua ([a-z_]+)(?: ([a-z_]+))?", doc)}
    commands = get_commands()
    missing = sorted(" ".join(words) for words in found
                     if translate(list(words))[0] not in commands)
    assert missing == []
    # (the scheduler needs no command of its own: `unionaid serve`, the systemd unit, starts it;
    # core/tests/test_deploy.py checks the units)
    for needed in ("setup", "import_org", "import_staff", "import_members", "load_catalog",
                   "migrate", "backup", "restore"):
        assert any(translate(list(words))[0] == needed for words in found), needed
