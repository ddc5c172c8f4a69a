"""First-run set-up pages: ``/setup/`` (only while no login exists) and the imports of the org
tree (holders of ``org.manage``) and of the staff (holders of ``security.manage``).

``/setup/`` asks for a one-time set-up token, so that a stranger on the intranet who reaches a
fresh installation first can't make themself its security admin: the first visit writes a
random token to a file readable only by the server's user (``setup-token`` in the var
directory, or ``settings.SETUP_TOKEN_FILE``) and names that file in the server log; whoever can
read it may set up. The file is removed once set-up succeeds, and the page is then a 404.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_texts
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from unionaid.accounts.models import User
from unionaid.accounts.setup import union_setup
from unionaid.accounts.staff_import import staff_import
from unionaid.accounts.views import perm_required
from unionaid.audit.services import audit_record
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error
from unionaid.org.importing import orgunits_import
from unionaid.org.selectors import level_names
from unionaid.web import setup_files

logger = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- the set-up token -------------------------------------------------------------------------

def token_path() -> Path:
    return Path(getattr(settings, "SETUP_TOKEN_FILE", "") or Path(settings.VAR_DIR) / "setup-token")


def setup_token() -> str:
    """The token of this installation's set-up, written to its file on first use."""
    path = token_path()
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(token + "\n")
    logger.warning("First-run set-up: open /setup/ and enter the token in %s", path)
    return token


def needs_setup() -> bool:
    return not User.objects.exists()


# -- /setup/ ----------------------------------------------------------------------------------

class SetupForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("初始化令牌"), max_length=100, strip=True,
        help_text=gettext_lazy("服务器上的文件 %(path)s 中的内容；只有能登录服务器的人才能看到。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    union_name = forms.CharField(label=gettext_lazy("工会名称"), max_length=100)
    levels = forms.CharField(
        label=gettext_lazy("层级名称"), max_length=300, initial="路局,站段,车间,班组",
        help_text=gettext_lazy("从上到下，用逗号分隔。"))
    root_code = forms.CharField(label=gettext_lazy("根单位编码"), max_length=40,
                                widget=forms.TextInput(attrs={"autocapitalize": "none"}))
    root_name = forms.CharField(label=gettext_lazy("根单位名称"), max_length=100, required=False,
                                help_text=gettext_lazy("不填则与工会名称相同。"))
    admin_username = forms.CharField(
        label=gettext_lazy("安全管理员登录名"), max_length=150,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "autocomplete": "off"}))
    admin_name = forms.CharField(label=gettext_lazy("安全管理员姓名"), max_length=150)
    password1 = forms.CharField(label=gettext_lazy("安全管理员密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=gettext_lazy("再次输入密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, token_file: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].help_text = self.fields["token"].help_text % {"path": token_file}
        self.fields["password1"].help_text = " ".join(password_validators_help_texts()[-1:])

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


FIELD_OF = {"union_name": "union_name", "levels": "levels", "code": "root_code",
            "name": "root_name", "username": "admin_username", "password": "password1"}


@never_cache
@require_http_methods(["GET", "POST"])
def setup(request):
    """The set-up page; a 404 as soon as any login exists."""
    if not needs_setup():
        raise Http404()
    token = setup_token()
    form = SetupForm(request.POST or None, token_file=str(token_path()))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not secrets.compare_digest(data["token"].encode(), token.encode()):
            with transaction.atomic():
                audit_record(actor=None, action="union.setup", outcome="denied",
                             target_type="org.unionprofile", target_label="setup",
                             changes={"reason": "bad_token"})
            form.add_error("token", _("初始化令牌不正确。"))
        else:
            try:
                result = union_setup(
                    union_name=data["union_name"], levels=data["levels"],
                    root_code=data["root_code"], root_name=data["root_name"],
                    admin_username=data["admin_username"], admin_full_name=data["admin_name"],
                    admin_password=data["password1"])
            except ServiceError as exc:
                exc.fields = {FIELD_OF.get(k, k): v for k, v in exc.fields.items()}
                apply_service_error(form, exc)
            else:
                token_path().unlink(missing_ok=True)
                return render(request, "web/setup_done.html", {"result": result})
    status = 400 if form.errors else 200
    return render(request, "web/setup.html", {"form": form}, status=status)


# -- imports ----------------------------------------------------------------------------------

class ImportForm(forms.Form):
    MODES = (("check", gettext_lazy("只检查，不导入")), ("import", gettext_lazy("检查并导入")))

    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy("Excel（.xlsx）或 CSV（.csv，UTF-8 或 GBK 编码）；第一行为列名。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    mode = forms.ChoiceField(label=gettext_lazy("方式"), choices=MODES, initial="check",
                             widget=forms.RadioSelect)


def _run_import(request, reader, service):
    """(form, result, file problems) of an import page's request."""
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    result, problems = None, []
    if request.method == "POST" and form.is_valid():
        try:
            rows, problems = setup_files.with_upload(form.cleaned_data["file"], reader)
            if not problems:
                result = service(actor=request.user, rows=rows,
                                 dry_run=form.cleaned_data["mode"] == "check")
        except ServiceError as exc:
            apply_service_error(form, exc)
    return form, result, problems


@perm_required("org.manage")
@require_http_methods(["GET", "POST"])
def org_import(request):
    form, result, problems = _run_import(request, setup_files.read_org_file, orgunits_import)
    status = 400 if form.errors or problems or (result and result.errors) else 200
    return render(request, "web/import_org.html", {
        "form": form, "result": result, "problems": problems or (result.errors if result else []),
        "levels": level_names(), "headers": setup_files.ORG_HEADERS,
    }, status=status)


@perm_required("security.manage")
@never_cache
@require_http_methods(["GET", "POST"])
def staff_import_page(request):
    form, result, problems = _run_import(request, setup_files.read_staff_file, staff_import)
    status = 400 if form.errors or problems or (result and result.errors) else 200
    sheet = ""
    if result is not None and result.credentials:
        # Shown once: the passwords live only in this response (not stored, not cached).
        content = base64.b64encode(setup_files.credentials_sheet(result.credentials)).decode()
        sheet = f"data:{XLSX};base64,{content}"
    return render(request, "web/import_staff.html", {
        "form": form, "result": result, "problems": problems or (result.errors if result else []),
        "sheet": sheet, "headers": setup_files.STAFF_HEADERS,
    }, status=status)


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@perm_required("org.manage")
@require_GET
def org_template(request):
    return _xlsx(setup_files.org_template(), "org-template.xlsx")


@perm_required("security.manage")
@require_GET
def staff_template(request):
    return _xlsx(setup_files.staff_template(), "staff-template.xlsx")
