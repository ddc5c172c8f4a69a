"""First-run set-up end to end: a real union from an empty database, without the demo; the
/setup/ page's life; the org and staff import files, commands and pages."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from conftest import verified_login
from unionaid.accounts import services
from unionaid.accounts.models import User
from unionaid.audit.models import AuditEvent
from unionaid.cli import translate
from unionaid.org.models import OrgUnit, UnionProfile
from unionaid.web import demo as demo_package
from unionaid.web import setup_views
from unionaid.web.setup_files import read_org_file, read_staff_file

pytestmark = pytest.mark.django_db
ADMIN_PASSWORD = "Admin-pass-2026"

ORG_CSV = """单位编码,单位名称,上级单位编码,层级
R-01,示例车务段,R,站段
R-01-01,示例车间,R-01,车间
R-01-01-01,示例一班,R-01-01,班组
R-02,示例机务段,R,站段
"""
STAFF_CSV = """登录名,姓名,手机号,单位编码,岗位,角色,电子邮箱
sysadmin,系统员甲,,R,系统管理员,,
cadre01,干事乙,13800138000,R-01,站段干事,站段干事,
"""


@pytest.fixture
def token_file(tmp_path, settings):
    settings.SETUP_TOKEN_FILE = str(tmp_path / "setup-token")
    return tmp_path / "setup-token"


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def setup_by_command(tmp_path):
    secret = write(tmp_path, "pw", ADMIN_PASSWORD)
    call_command("setup", "--union-name", "示例市总工会", "--levels", "路局,站段,车间,班组",
                 "--root-code", "R", "--admin-username", "secadmin", "--admin-name", "安全员甲",
                 "--admin-password-file", str(secret), "--no-input")


# -- the whole way, from nothing --------------------------------------------------------------

def test_a_real_union_starts_from_nothing_without_the_demo(tmp_path, monkeypatch, capsys):
    def no_demo(*args, **kwargs):
        raise AssertionError("the demo builder must not be called")

    monkeypatch.setattr(demo_package, "build_demo", no_demo)
    monkeypatch.setattr("unionaid.web.demo.builder.build_demo", no_demo)
    assert not User.objects.exists()
    assert not OrgUnit.objects.exists()

    setup_by_command(tmp_path)
    call_command("import_org", str(write(tmp_path, "org.csv", ORG_CSV)))
    # a role for the cadres: the security admin's role editor (accounts services), not the demo
    secadmin = User.objects.get(username="secadmin")
    services.role_save(actor=secadmin, code="station_cadre", name="站段干事",
                       permissions=["org.view", "members.view"], data_scope="unit_and_below")
    out_file = tmp_path / "passwords.xlsx"
    call_command("import_staff", str(write(tmp_path, "staff.csv", STAFF_CSV)),
                 "--as", "secadmin", "--passwords-out", str(out_file))
    capsys.readouterr()
    sheet = {row[0]: row for row in load_workbook(out_file).active.iter_rows(values_only=True)}
    password = sheet["cadre01"][4]

    client = Client()
    client.post(reverse("accounts:login"), {"username": "cadre01", "password": password})
    assert client.get("/")["Location"] == reverse("accounts:password-first")
    client.post(reverse("accounts:password-first"),
                {"new_password1": "Cadre-pass-2026", "new_password2": "Cadre-pass-2026"})
    page = client.get("/org/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "示例车务段" in html
    assert "示例一班" in html
    assert "示例机务段" not in html  # not another station
    assert "示例市总工会" in html  # the union's name titles the page
    # the system admin imported with the staff holds the set-up's system-admin post
    assert User.objects.get(username="sysadmin").access.has_perm("org.manage")


def test_the_whole_staff_file_goes_in_straight_after_setup_with_the_starter_roles(
        tmp_path, capsys):
    """Set-up leaves the work roles a union starts with, so cadres, finance and auditors are
    imported at once, without waiting for the security admin's first log-in."""
    setup_by_command(tmp_path)
    call_command("import_org", str(write(tmp_path, "org.csv", ORG_CSV)))
    staff = """登录名,姓名,手机号,单位编码,岗位,角色,电子邮箱
sysadmin,系统员甲,,R,系统管理员,,
cadre01,干事乙,13800138000,R-01,站段工会干事,工会干事,
money01,财务丙,,R,工会财务,工会财务,
audit01,审计丁,,R,审计,审计人员,
"""
    call_command("import_staff", str(write(tmp_path, "staff.csv", staff)))
    capsys.readouterr()
    station = OrgUnit.objects.get(code="R-01")
    cadre = User.objects.get(username="cadre01").access
    assert cadre.covers_unit("assistance.apply", station)
    assert not cadre.covers_unit("assistance.apply", OrgUnit.objects.get(code="R-02"))
    assert not cadre.duties
    assert User.objects.get(username="money01").access.has_perm("funds.manage")
    assert User.objects.get(username="audit01").access.has_perm("trace.view")


# -- the set-up page --------------------------------------------------------------------------

def form_data(token, **overrides):
    data = {"token": token, "union_name": "示例市总工会", "levels": "路局,站段,车间,班组",
            "root_code": "R", "root_name": "", "admin_username": "secadmin",
            "admin_name": "安全员甲", "password1": ADMIN_PASSWORD, "password2": ADMIN_PASSWORD}
    data.update(overrides)
    return data


def test_the_setup_page_asks_for_the_token_written_to_a_private_file(client, token_file):
    page = client.get("/setup/")
    assert page.status_code == 200
    assert token_file.exists()
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    token = token_file.read_text().strip()
    assert str(token_file) in page.content.decode()
    assert token not in page.content.decode()
    assert client.get("/setup/").status_code == 200
    assert token_file.read_text().strip() == token  # the same token until set-up is done


def test_a_wrong_token_sets_up_nothing_and_is_journaled(client, token_file):
    client.get("/setup/")
    response = client.post("/setup/", form_data("guess"))
    assert response.status_code == 400
    assert "初始化令牌不正确" in response.content.decode()
    assert not User.objects.exists()
    assert AuditEvent.objects.filter(action="union.setup", outcome="denied").exists()


def test_the_setup_page_sets_up_and_is_gone_afterwards(client, token_file):
    client.get("/setup/")
    token = token_file.read_text().strip()
    response = client.post("/setup/", form_data(token))
    assert response.status_code == 200
    assert "初始化完成" in response.content.decode()
    assert UnionProfile.objects.get().name == "示例市总工会"
    admin = User.objects.get(username="secadmin")
    assert admin.check_password(ADMIN_PASSWORD)
    assert not token_file.exists()
    assert client.get("/setup/").status_code == 404
    assert client.post("/setup/", form_data(token, admin_username="x")).status_code == 404
    assert User.objects.count() == 1


def test_the_setup_page_shows_the_services_chinese_errors(client, token_file):
    client.get("/setup/")
    token = token_file.read_text().strip()
    response = client.post("/setup/", form_data(token, levels="甲,甲", password1="short",
                                                password2="short"))
    assert response.status_code == 400
    assert "层级名称不能重复" in response.content.decode()
    assert not User.objects.exists()


def test_the_setup_page_is_a_404_once_any_login_exists(client, token_file):
    User.objects.create_user(username="someone", password=ADMIN_PASSWORD)
    assert client.get("/setup/").status_code == 404
    assert not token_file.exists()


def test_the_login_page_points_a_fresh_installation_to_setup(client, token_file):
    assert "/setup/" in client.get(reverse("accounts:login")).content.decode()
    User.objects.create_user(username="someone", password=ADMIN_PASSWORD)
    assert "/setup/" not in client.get(reverse("accounts:login")).content.decode()


def test_the_setup_token_file_defaults_to_the_var_directory(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.SETUP_TOKEN_FILE = ""
    assert setup_views.token_path() == tmp_path / "setup-token"


# -- reading the files ------------------------------------------------------------------------

def test_an_org_file_is_read_with_synonym_headers_in_gbk(tmp_path):
    text = "组织编码,名称,上级编码,级别\nR-01,示例车务段,R,站段\n"
    rows, problems = read_org_file(write(tmp_path, "org.csv", text, "gb18030"))
    assert problems == []
    assert (rows[0].row_number, rows[0].code, rows[0].parent_code, rows[0].level) == (
        2, "R-01", "R", "站段")


def test_an_org_xlsx_keeps_numeric_codes_as_text(tmp_path):
    path = tmp_path / "org.xlsx"
    path.write_bytes(xlsx([["单位编码", "单位名称", "上级单位编码", "层级"],
                           [1001, "示例车务段", 1, "站段"]]))
    rows, problems = read_org_file(path)
    assert problems == []
    assert (rows[0].code, rows[0].parent_code) == ("1001", "1")


def test_a_missing_column_is_named(tmp_path):
    rows, problems = read_org_file(write(tmp_path, "org.csv", "单位编码,单位名称\nA,甲\n"))
    assert rows == []
    assert {p.column for p in problems} == {"上级单位编码", "层级"}


def test_a_staff_file_is_read(tmp_path):
    rows, problems = read_staff_file(write(tmp_path, "staff.csv", STAFF_CSV))
    assert problems == []
    assert [(r.username, r.unit_code, r.post, r.role) for r in rows] == [
        ("sysadmin", "R", "系统管理员", ""), ("cadre01", "R-01", "站段干事", "站段干事")]


# -- the commands -----------------------------------------------------------------------------

def test_the_cli_has_aliases_for_setup_imports():
    assert translate(["import", "org", "f.csv", "--dry-run"]) == ["import_org", "f.csv",
                                                                    "--dry-run"]
    assert translate(["import", "staff", "f.csv"]) == ["import_staff", "f.csv"]


def test_import_org_names_every_bad_row_and_exits_non_zero(tmp_path, capsys):
    setup_by_command(tmp_path)
    bad = ORG_CSV + "R-09,,R,站段\nR-10,孤儿,NOPE,车间\n"
    with pytest.raises(CommandError, match="没有导入任何数据"):
        call_command("import_org", str(write(tmp_path, "org.csv", bad)))
    out = capsys.readouterr().out
    assert "第 6 行 [单位名称] 请填写单位名称。" in out
    assert "第 7 行" in out
    assert "NOPE" in out
    assert OrgUnit.objects.count() == 1


def test_import_org_dry_run_writes_nothing(tmp_path, capsys):
    setup_by_command(tmp_path)
    call_command("import_org", str(write(tmp_path, "org.csv", ORG_CSV)), "--dry-run")
    assert "检查通过" in capsys.readouterr().out
    assert OrgUnit.objects.count() == 1


def test_import_staff_prints_the_passwords_once_without_a_file(tmp_path, capsys):
    setup_by_command(tmp_path)
    call_command("import_org", str(write(tmp_path, "org.csv", ORG_CSV)))
    text = "登录名,姓名,单位编码,岗位\nsysadmin,系统员甲,R,系统管理员\n"
    call_command("import_staff", str(write(tmp_path, "staff.csv", text)))
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("sysadmin\t"))
    assert User.objects.get(username="sysadmin").check_password(line.split("\t")[2])


def test_import_staff_reports_a_duty_clash_without_crashing(tmp_path, capsys):
    setup_by_command(tmp_path)
    text = ("登录名,姓名,单位编码,岗位\nboth,两职,R,系统管理员\nboth,两职,R,审计管理员\n")
    with pytest.raises(CommandError):
        call_command("import_staff", str(write(tmp_path, "staff.csv", text)), "--dry-run")
    assert "三权分立" in capsys.readouterr().out


# -- the import pages -------------------------------------------------------------------------

@pytest.fixture
def admins(tmp_path):
    setup_by_command(tmp_path)
    call_command("import_staff", str(write(tmp_path, "s.csv",
                                           "登录名,姓名,单位编码,岗位\nsysadmin,系统员甲,R,系统管理员\n")),
                 "--passwords-out", str(tmp_path / "p.xlsx"))
    User.objects.filter(username="sysadmin").update(must_change_password=False)
    return User.objects.get(username="secadmin"), User.objects.get(username="sysadmin")


def upload(client, url, name, content, mode):
    return client.post(url, {"file": SimpleUploadedFile(name, content), "mode": mode})


def test_the_org_import_page_checks_then_imports(client, admins):
    _secadmin, sysadmin = admins
    verified_login(client, sysadmin)
    assert client.get(reverse("web:import-org")).status_code == 200
    template = client.get(reverse("web:import-org-template"))
    header = next(load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True))
    assert header[:4] == ("单位编码", "单位名称", "上级单位编码", "层级")
    bad = upload(client, reverse("web:import-org"), "org.csv",
                 (ORG_CSV + "R-03,丙段,R,大队\n").encode(), "import")
    assert bad.status_code == 400
    assert "层级“大队”不存在" in bad.content.decode()
    assert OrgUnit.objects.count() == 1
    check = upload(client, reverse("web:import-org"), "org.csv", ORG_CSV.encode(), "check")
    assert "检查通过" in check.content.decode()
    assert OrgUnit.objects.count() == 1
    done = upload(client, reverse("web:import-org"), "org.xlsx",
                  xlsx([line.split(",") for line in ORG_CSV.strip().splitlines()]), "import")
    assert "新增单位 4 个" in done.content.decode()
    assert OrgUnit.objects.count() == 5


def test_the_org_import_page_is_not_there_for_the_security_admin(client, admins):
    secadmin, _sysadmin = admins
    verified_login(client, secadmin)
    assert client.get(reverse("web:import-org")).status_code == 404


def test_the_staff_import_page_shows_the_passwords_once_and_offers_the_sheet(client, admins,
                                                                             tmp_path):
    secadmin, _sysadmin = admins
    call_command("import_org", str(write(tmp_path, "org.csv", ORG_CSV)))
    verified_login(client, secadmin)
    assert client.get(reverse("web:import-staff")).status_code == 200
    assert client.get(reverse("web:import-staff-template")).status_code == 200
    text = "登录名,姓名,单位编码,岗位\naudit01,审计员丙,R,审计管理员\n"
    response = upload(client, reverse("web:import-staff"), "staff.csv", text.encode(), "import")
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert 'download="initial-passwords.xlsx"' in html
    user = User.objects.get(username="audit01")
    assert user.must_change_password
    password = html.split('<code class="user-select-all">')[1].split("</code>")[0]
    assert user.check_password(password)


def test_the_staff_import_page_is_not_there_for_the_system_admin(client, admins):
    _secadmin, sysadmin = admins
    verified_login(client, sysadmin)
    assert client.get(reverse("web:import-staff")).status_code == 404


def test_the_unions_name_titles_every_page(client, tmp_path):
    secret = write(tmp_path, "pw", ADMIN_PASSWORD)
    call_command("setup", "--union-name", "示例市总工会", "--root-name", "示例市总工会机关",
                 "--levels", "市,区", "--root-code", "R", "--admin-username", "secadmin",
                 "--admin-password-file", str(secret), "--no-input")
    html = client.get(reverse("accounts:login")).content.decode()
    assert "<title>登录 · 示例市总工会</title>" in html
    assert 'class="navbar-brand text-wrap" href="/"><i class="bi bi-heart-pulse"></i> 示例市总工会<' in html


def test_without_a_union_name_the_product_name_stays(client, db):
    html = client.get(reverse("accounts:login")).content.decode()
    assert "<title>登录 · 工会帮扶系统</title>" in html
