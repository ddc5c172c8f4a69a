"""Staff import: logins with their posts, every bad row named, all or nothing."""

from __future__ import annotations

import pytest

from conftest import make_role, make_staff
from unionaid.accounts import services
from unionaid.accounts.access import access_for
from unionaid.accounts.models import Assignment, DataScope, Position, User
from unionaid.accounts.staff_import import StaffRow, staff_import
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def row(n, username, name, unit, post, role="", phone="", email=""):
    return StaffRow(row_number=n, username=username, full_name=name, unit_code=unit, post=post,
                    role=role, phone=phone, email=email)


@pytest.fixture
def cadre_role(db):
    return make_role("cadre_std", ["org.view", "members.view"], name="帮扶干事")


@pytest.fixture
def posts(union, roles, cadre_role):
    return {
        "cadre": services.position_create(actor=None, org_unit=union.station_a, name="站段干事",
                                          roles=[cadre_role]),
        "audit": services.position_create(actor=None, org_unit=union.bureau, name="审计管理员",
                                          roles=[roles["audit"]]),
        "security": services.position_create(actor=None, org_unit=union.bureau, name="安全管理员",
                                             roles=[roles["security"]]),
    }


def messages(result) -> dict[int, str]:
    out: dict[int, str] = {}
    for error in result.errors:
        out[error.row_number] = out.get(error.row_number, "") + error.message
    return out


GOOD = [
    row(2, "zhang_a", "张甲", "SA", "站段干事", phone="13800138000", email="a@example.org"),
    row(3, "li_b", "李乙", "SA-W1", "车间干事", role="帮扶干事"),  # a new post, with its role
    row(4, "zhang_a", "张甲", "SA-W1", "车间干事"),  # the same person's second post (兼职)
]


def test_a_dry_run_checks_and_writes_nothing(posts):
    users = User.objects.count()
    result = staff_import(actor=None, rows=GOOD, dry_run=True)
    assert result.ok, result.errors
    assert User.objects.count() == users
    assert not result.credentials


def test_a_real_run_creates_posts_logins_and_assignments_with_one_time_passwords(posts, union):
    result = staff_import(actor=None, rows=GOOD, dry_run=False)
    assert result.ok, result.errors
    assert (result.users_created, result.posts_created, result.assignments) == (2, 1, 3)
    zhang = User.objects.get(username="zhang_a")
    assert zhang.must_change_password
    assert zhang.first_name == "张甲"
    assert zhang.phone == "13800138000"
    assert zhang.email == "a@example.org"
    new_post = Position.objects.get(org_unit=union.workshop_a, name="车间干事")
    assert [r.name for r in new_post.roles.all()] == ["帮扶干事"]
    assert Assignment.objects.current().filter(user=zhang).count() == 2
    assert access_for(zhang).covers_unit("org.view", union.team_a)
    sheet = {c.username: c for c in result.credentials}
    assert set(sheet) == {"zhang_a", "li_b"}
    assert zhang.check_password(sheet["zhang_a"].password)
    assert "甲车间·车间干事" in sheet["zhang_a"].posts
    assert AuditEvent.objects.get(action="staff.import").changes == {
        "users": 2, "posts": 1, "assignments": 3}
    assert AuditEvent.objects.filter(action="assignment.grant").count() >= 3


@pytest.mark.parametrize(("bad", "reason"), [
    (row(9, "wang", "王丙", "NOPE", "站段干事"), "找不到单位编码“NOPE”"),
    (row(9, "wang", "王丙", "SA", "不存在的岗位"), "没有岗位“不存在的岗位”"),
    (row(9, "wang", "王丙", "SA", "新岗位", role="不存在的角色"), "角色“不存在的角色”不存在"),
    (row(9, "ZHANG_A", "张丁", "SA", "站段干事"), "在第 2 行是另一个姓名"),
    (row(9, "zhang_a", "张甲", "SA", "站段干事"), "与第 2 行重复"),
    (row(9, "security_admin", "王丙", "SA", "站段干事"), "登录名“security_admin”已存在"),
    (row(9, "", "王丙", "SA", "站段干事"), "请填写登录名"),
    (row(9, "wang bing", "王丙", "SA", "站段干事"), "登录名只能包含"),
    (row(9, "wang", "", "SA", "站段干事"), "请填写姓名"),
    (row(9, "wang", "王丙", "", "站段干事"), "请填写单位编码"),
    (row(9, "wang", "王丙", "SA", ""), "请填写岗位"),
    (row(9, "wang", "王丙", "SA", "站段干事", phone="12345"), "手机号格式不正确"),
    (row(9, "wang", "王丙", "SA", "站段干事", email="not-an-email"), "电子邮箱格式不正确"),
])
def test_each_bad_row_is_named_with_its_reason_and_nothing_is_written(posts, personas, bad,
                                                                      reason):
    users = User.objects.count()
    result = staff_import(actor=None, rows=[*GOOD, bad], dry_run=False)
    assert reason in messages(result).get(9, ""), result.errors
    assert User.objects.count() == users  # all or nothing
    assert not Position.objects.filter(name="车间干事").exists()
    assert not AuditEvent.objects.filter(action="staff.import").exists()


def test_a_phone_never_appears_in_a_message(posts):
    result = staff_import(actor=None, rows=[row(2, "w", "王", "SA", "站段干事",
                                                 phone="1380013800")], dry_run=True)
    assert "1380013800" not in " ".join(e.message for e in result.errors)


def test_two_admin_duties_for_one_person_are_reported_not_raised(posts):
    rows = [row(2, "dual", "双职", "B", "安全管理员"), row(3, "dual", "双职", "B", "审计管理员")]
    result = staff_import(actor=None, rows=rows, dry_run=False)
    assert "三权分立" in messages(result)[3]
    assert 2 not in messages(result)
    assert not User.objects.filter(username="dual").exists()


def test_a_security_admin_imports_only_where_their_grant_reaches(union, roles, cadre_role):
    station_security = make_staff("station_sec", union.station_a, [
        make_role("station_security", ["security.manage", "org.view"], DataScope.UNIT_AND_BELOW)])
    services.position_create(actor=None, org_unit=union.station_b, name="乙干事",
                             roles=[cadre_role])
    wide = make_role("wide", ["org.view"], DataScope.ALL, name="全局查看")
    rows = [row(2, "in_a", "甲人", "SA-W1", "车间干事", role="帮扶干事"),
            row(3, "in_b", "乙人", "SB", "乙干事"),
            row(4, "too_wide", "丙人", "SA", "全局岗", role=wide.name)]
    result = staff_import(actor=station_security, rows=rows, dry_run=False)
    found = messages(result)
    assert set(found) == {3, 4}
    assert "无权管理“乙机务段”" in found[3]
    assert "数据范围超出" in found[4]
    assert not User.objects.filter(username="in_a").exists()


def test_someone_without_security_manage_is_refused(posts, personas):
    with pytest.raises(PermissionDenied):
        staff_import(actor=personas.bureau_admin, rows=GOOD, dry_run=True)


def test_an_imported_login_must_set_their_own_password_first(client, posts):
    result = staff_import(actor=None, rows=GOOD[:1], dry_run=False)
    password = result.credentials[0].password
    client.post("/accounts/login/", {"username": "zhang_a", "password": password})
    assert client.get("/members/")["Location"] == "/accounts/password/first/"
    response = client.post("/accounts/password/first/", {
        "new_password1": "Own-pass-2026x", "new_password2": "Own-pass-2026x"})
    assert response.status_code == 302
    assert client.get("/org/").status_code == 200


def test_the_api_is_closed_to_a_one_time_password(posts, as_session):
    staff_import(actor=None, rows=GOOD[:1], dry_run=False)
    api = as_session(User.objects.get(username="zhang_a"))
    assert api.get("/auth/me").status_code == 401
    User.objects.filter(username="zhang_a").update(must_change_password=False)
    assert api.get("/auth/me").status_code == 200


def test_one_time_passwords_are_hashed_cheaply_and_rehashed_at_first_login(posts, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "unionaid.accounts.passwords.OneTimePasswordHasher"]
    result = staff_import(actor=None, rows=GOOD[:1], dry_run=False)
    user = User.objects.get(username="zhang_a")
    assert user.password.startswith("pbkdf2_sha256_onetime$")
    assert user.check_password(result.credentials[0].password)  # and re-hashed with the first
    user.refresh_from_db()
    assert user.password.startswith("md5$")
