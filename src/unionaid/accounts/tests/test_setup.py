"""First-run set-up: ``union_setup`` and ``unionaid setup`` on an empty database."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.urls import reverse

from unionaid.accounts import services as account_services
from unionaid.accounts.access import access_for
from unionaid.accounts.models import Assignment, Position, Role, User
from unionaid.accounts.passwords import generate_password
from unionaid.accounts.setup import union_setup
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, ServiceError
from unionaid.org.models import OrgLevel, OrgUnit, UnionProfile

pytestmark = pytest.mark.django_db
ADMIN_PASSWORD = "Admin-pass-2026"


def _setup(**overrides):
    fields = {"union_name": "示例市总工会", "levels": "路局,站段,车间,班组", "root_code": "R",
              "admin_username": "secadmin", "admin_full_name": "安全员甲",
              "admin_password": ADMIN_PASSWORD}
    fields.update(overrides)
    return union_setup(**fields)


def _nothing_written():
    return not (UnionProfile.objects.exists() or OrgUnit.objects.exists()
                or OrgLevel.objects.exists() or User.objects.exists() or Role.objects.exists())


def test_it_creates_the_union_its_levels_root_and_first_security_admin():
    result = _setup(root_name="示例市总工会本级")
    assert UnionProfile.objects.get().name == "示例市总工会"
    assert list(OrgLevel.objects.values_list("depth", "name")) == [
        (1, "路局"), (2, "站段"), (3, "车间"), (4, "班组")]
    root = OrgUnit.objects.get()
    assert (root.code, root.name, root.depth) == ("R", "示例市总工会本级", 1)
    assert result.generated_password == ""
    admin = User.objects.get(username="secadmin")
    assert admin.check_password(ADMIN_PASSWORD)
    assert not admin.must_change_password
    access = access_for(admin)
    assert access.duties == {"security"}
    assert access.covers_unit("security.manage", root)
    # the other two duties' posts wait at the root for the security admin to fill
    assert set(Position.objects.values_list("name", flat=True)) == {
        "系统管理员", "安全管理员", "审计管理员"}
    assert Assignment.objects.count() == 1


def test_the_root_is_named_after_the_union_by_default():
    _setup(root_name="")
    assert OrgUnit.objects.get().name == "示例市总工会"


def test_a_generated_password_is_returned_once_and_must_be_changed():
    result = _setup(admin_password="")
    admin = User.objects.get(username="secadmin")
    assert len(result.generated_password) >= 12
    assert admin.check_password(result.generated_password)
    assert admin.must_change_password


def test_every_step_is_journaled():
    _setup()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"union.setup", "org.levels_define", "org.create", "role.save", "position.create",
            "user.create", "assignment.grant"} <= actions


MATCHING = ("matching.view", "matching.review", "matching.manage", "matching.config")


@pytest.mark.parametrize(("code", "granted"), [
    # a 工会干事 sees the leads and matches of their units and reviews the uncertain ones
    ("work_cadre", {"matching.view", "matching.review"}),
    # the 帮扶工作管理员 also imports and matches lists, handles leads, keeps sources and rules
    ("work_aid_admin", set(MATCHING)),
    ("work_finance", set()),
])
def test_the_starter_work_roles_carry_the_fitting_matching_rights(code, granted):
    _setup()
    root = OrgUnit.objects.get()
    role = Role.objects.get(code=code)
    post = account_services.position_create(actor=None, org_unit=root, name=role.name,
                                            roles=[role])
    holder = account_services.user_create(actor=None, username=f"{code}_holder",
                                          password=ADMIN_PASSWORD)
    account_services.assignment_grant(actor=None, user=holder, position=post)
    access = access_for(User.objects.get(pk=holder.pk))
    assert {perm for perm in MATCHING if access.covers_unit(perm, root)} == granted


@pytest.mark.parametrize("existing", ["user", "unit"])
def test_it_refuses_a_database_that_has_a_user_or_a_unit(existing):
    if existing == "user":
        User.objects.create_user(username="someone", password=ADMIN_PASSWORD)
    else:
        OrgUnit.objects.add_root(create_kwargs={"name": "别的工会", "code": "X"})
    with pytest.raises(Conflict) as info:
        _setup()
    assert info.value.code == "already_set_up"
    assert not UnionProfile.objects.exists()
    assert not OrgLevel.objects.exists()


def test_setting_up_twice_is_refused_and_changes_nothing():
    _setup()
    before = (User.objects.count(), OrgUnit.objects.count(), AuditEvent.objects.count())
    with pytest.raises(Conflict):
        _setup(union_name="另一个工会", root_code="R2", admin_username="other")
    after = (User.objects.count(), OrgUnit.objects.count(), AuditEvent.objects.count())
    assert before == after
    assert UnionProfile.objects.get().name == "示例市总工会"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"union_name": " "}, "union_name"),
    ({"levels": " , "}, "levels"),
    ({"levels": "路局,站段,路局"}, "levels"),
    ({"root_code": ""}, "code"),
    ({"admin_username": ""}, "username"),
    ({"admin_password": "short"}, "password"),
])
def test_bad_input_writes_nothing(overrides, field):
    with pytest.raises(ServiceError) as info:
        _setup(**overrides)
    assert field in info.value.fields
    assert _nothing_written()


def test_levels_accept_chinese_commas():
    _setup(levels="市总工会，区县工会、基层工会")
    assert list(OrgLevel.objects.values_list("name", flat=True)) == [
        "市总工会", "区县工会", "基层工会"]


# -- the command ------------------------------------------------------------------------------

def test_the_command_sets_up_from_flags_and_prints_a_generated_password_once(capsys):
    call_command("setup", "--union-name", "示例市总工会", "--levels", "市,区,基层",
                 "--root-code", "R", "--admin-username", "secadmin", "--admin-name", "安全员甲",
                 "--no-input")
    out = capsys.readouterr().out
    admin = User.objects.get(username="secadmin")
    password = next(line.split("：", 1)[1].strip() for line in out.splitlines()
                    if "一次性密码" in line)
    assert admin.check_password(password)
    assert admin.must_change_password


def test_the_command_reads_the_password_from_a_file(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(ADMIN_PASSWORD + "\n", encoding="utf-8")
    call_command("setup", "--union-name", "示例市总工会", "--levels", "市,区", "--root-code", "R",
                 "--admin-username", "secadmin", "--admin-password-file", str(secret),
                 "--no-input")
    admin = User.objects.get(username="secadmin")
    assert admin.check_password(ADMIN_PASSWORD)
    assert not admin.must_change_password


def test_the_command_refuses_a_second_run_with_a_non_zero_exit():
    args = ["--union-name", "示例市总工会", "--levels", "市,区", "--root-code", "R",
            "--admin-username", "secadmin", "--no-input"]
    call_command("setup", *args)
    with pytest.raises(CommandError, match="已经初始化"):
        call_command("setup", *args[:-3], "--admin-username", "other", "--no-input")
    assert User.objects.count() == 1


def test_the_command_without_input_names_the_missing_flags():
    with pytest.raises(CommandError, match="--root-code"):
        call_command("setup", "--union-name", "示例市总工会", "--levels", "市,区",
                     "--admin-username", "secadmin", "--no-input")
    assert _nothing_written()


def test_the_command_asks_for_what_it_lacks(monkeypatch):
    answers = iter(["示例市总工会", "", "R", "", "secadmin", "安全员甲"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    call_command("setup")
    assert OrgUnit.objects.get().name == "示例市总工会"  # the root's name defaulted
    assert OrgLevel.objects.count() == 4  # the default levels offered
    assert User.objects.get().username == "secadmin"


def test_the_command_speaks_english_when_language_says_so(monkeypatch, capsys):
    monkeypatch.setenv("LANGUAGE", "en_GB")
    call_command("setup", "--union-name", "示例市总工会", "--levels", "市,区", "--root-code", "R",
                 "--admin-username", "secadmin", "--no-input")
    assert "one-time password" in capsys.readouterr().out.lower()


# -- the first security admin's first login ---------------------------------------------------

def _login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


@pytest.mark.parametrize("path", ["/", "/accounts/admin/users/", "/org/", "/accounts/security/",
                                  "/members/"])
def test_the_first_security_admin_must_enrol_totp_before_anything_else(client, path):
    _setup()
    response = _login(client, "secadmin", ADMIN_PASSWORD)
    assert response.status_code == 302
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp-setup")
    page = client.get(reverse("accounts:otp-setup"))
    assert page.status_code == 200
    assert "必须先绑定手机验证器" in page.content.decode()


def test_a_generated_password_is_changed_first_then_totp_is_enrolled(client):
    result = _setup(admin_password="")
    _login(client, "secadmin", result.generated_password)
    for path in ("/", "/accounts/otp/setup/", "/accounts/admin/users/"):
        response = client.get(path)
        assert response["Location"] == reverse("accounts:password-first"), path
    same = client.post(reverse("accounts:password-first"), {
        "new_password1": result.generated_password, "new_password2": result.generated_password})
    assert same.status_code == 200
    assert "不能与初始密码相同" in same.content.decode()
    response = client.post(reverse("accounts:password-first"), {
        "new_password1": ADMIN_PASSWORD, "new_password2": ADMIN_PASSWORD})
    assert response.status_code == 302
    admin = User.objects.get(username="secadmin")
    assert not admin.must_change_password
    assert admin.check_password(ADMIN_PASSWORD)
    assert client.get("/")["Location"] == reverse("accounts:otp-setup")


def test_generated_passwords_pass_the_rules_and_start_with_a_letter():
    for _i in range(200):
        password = generate_password()
        validate_password(password)
        assert password[0].isalpha()
