"""The ledgers page (/archive/ledgers/): export the visit or archive ledger for a unit subtree
and a period (directly, or as a background job for large ledgers); import an archive ledger
(upload → check → confirm, all or nothing).

The checked upload waits under the private media root; its token is kept in the uploader's
session, so nobody else can confirm it, and the file is deleted after the import, after a
check that found errors, and when a new file replaces it.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from unionaid.accounts.access import access_for
from unionaid.archive.export_kinds import ARCHIVE_LEDGER, VISITS_LEDGER
from unionaid.archive.forms import DATE_WIDGET  # ISO values: what <input type="date"> reads
from unionaid.archive.ledgers import archive_import
from unionaid.archive.ledgers.archive_ledger import REVEAL, export_archive_ledger
from unionaid.archive.ledgers.visit_ledger import export_visit_ledger
from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import apply_service_error
from unionaid.exports import services as export_services
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import level_names, units_visible_to

ARCHIVE_VIEW, VISITS_VIEW, MANAGE = "archive.view", "visits.view", "archive.manage"
SESSION_KEY = "archive_ledger_import"
KINDS = (("archive", gettext_lazy("困难职工档案台账")), ("visits", gettext_lazy("走访台账")))


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("台账"), choices=KINDS)
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=gettext_lazy("单位（含下级）"),
                           required=False, empty_label=gettext_lazy("我管辖的全部单位"))
    start = forms.DateField(label=gettext_lazy("开始日期"), widget=DATE_WIDGET)
    end = forms.DateField(label=gettext_lazy("结束日期"), widget=DATE_WIDGET)
    reveal = forms.BooleanField(label=gettext_lazy("导出完整身份证号和电话（记入审计）"),
                                required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        access = access_for(user)
        kinds = [(k, label) for k, label in KINDS
                 if access.has_perm(ARCHIVE_VIEW if k == "archive" else VISITS_VIEW)]
        self.fields["kind"].choices = kinds
        perm = ARCHIVE_VIEW if access.has_perm(ARCHIVE_VIEW) else VISITS_VIEW
        self.fields["unit"].queryset = units_visible_to(user=user, perm=perm).order_by("path")
        self.fields["unit"].levels = level_names()
        today = timezone.localdate()
        self.fields["start"].initial = dt.date(today.year, 1, 1)
        self.fields["end"].initial = today
        if not access.has_perm(REVEAL):
            del self.fields["reveal"]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("困难职工档案台账文件"),
        help_text=gettext_lazy("Excel（.xlsx）或 CSV；表头含身份证号、困难类别、家庭人口、家庭年收入、建档日期等列。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))


def _page(request, *, export_form=None, import_form=None, status=200, **extra):
    user = request.user
    access = access_for(user)
    return render(request, "archive/ledger_page.html", {
        "export_form": export_form or ExportForm(user=user),
        "import_form": (import_form or ImportForm()) if access.has_perm(MANAGE) else None,
        "headers": archive_import.HEADERS, **extra,
    }, status=status)


def _require_any(user) -> None:
    access = access_for(user)
    if not (access.has_perm(ARCHIVE_VIEW) or access.has_perm(VISITS_VIEW)):
        raise Http404()


@login_required
@require_GET
def ledgers(request):
    _require_any(request.user)
    return _page(request)


@login_required
@require_POST
def ledger_export(request):
    """Download a ledger. The form POSTs, so the period and unit never reach an access log
    with a reveal in it."""
    user = request.user
    _require_any(user)
    form = ExportForm(request.POST, user=user)
    if not form.is_valid():
        return _page(request, export_form=form, status=400)
    data = form.cleaned_data
    kind = data["kind"]
    unit = data.get("unit")
    if unit is not None:  # the form offered one perm's units; check the other's scope too
        perm = ARCHIVE_VIEW if kind == "archive" else VISITS_VIEW
        if not units_visible_to(user=user, perm=perm).filter(pk=unit.pk).exists():
            raise Http404()
    if request.POST.get("background") == "1":
        return _export_in_background(request, form)
    try:
        if kind == "archive":
            result = export_archive_ledger(actor=user, unit=unit, start=data["start"],
                                           end=data["end"], reveal=bool(data.get("reveal")))
        else:
            result = export_visit_ledger(actor=user, unit=unit, start=data["start"],
                                         end=data["end"])
    except NotFound:
        raise Http404() from None
    except ServiceError as exc:
        apply_service_error(form, exc)
        return _page(request, export_form=form, status=exc.status)
    handle = result.path.open("rb")
    result.path.unlink()  # the open handle keeps the data until the response is sent
    response = FileResponse(handle, as_attachment=True, filename=result.download_name)
    response["Cache-Control"] = "no-store"
    return response


def _export_in_background(request, form):
    """Queue the export as a background job and show its page (large ledgers)."""
    data = form.cleaned_data
    unit = data.get("unit")
    try:
        job = export_services.export_job_create(
            actor=request.user,
            kind=ARCHIVE_LEDGER if data["kind"] == "archive" else VISITS_LEDGER,
            params={"unit": unit.pk if unit else None, "start": data["start"],
                    "end": data["end"], "reveal": bool(data.get("reveal"))},
        )
    except NotFound:
        raise Http404() from None
    except ServiceError as exc:
        apply_service_error(form, exc)
        return _page(request, export_form=form, status=exc.status)
    return redirect("exports:job", pk=job.pk)


def _forget_upload(request) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        archive_import.upload_discard(pending.get("token", ""))


@login_required
@require_POST
def ledger_import(request):
    """Upload and check (dry run). A clean check keeps the file for the confirmation."""
    user = request.user
    if not access_for(user).has_perm(MANAGE):
        raise Http404()
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, import_form=form, status=400)
    _forget_upload(request)
    try:
        token, name = archive_import.upload_store(form.cleaned_data["file"])
    except ServiceError as exc:
        apply_service_error(form, exc)
        return _page(request, import_form=form, status=exc.status)
    try:
        result = archive_import.import_archive_ledger(
            actor=user, path=archive_import.upload_path(token), dry_run=True, file_name=name)
    except ServiceError as exc:
        archive_import.upload_discard(token)
        apply_service_error(form, exc)
        return _page(request, import_form=form, status=exc.status)
    if result.ok:
        request.session[SESSION_KEY] = {"token": token, "name": name}
    else:
        archive_import.upload_discard(token)
    return render(request, "archive/ledger_import_result.html", {
        "result": result, "token": token if result.ok else "",
        "more_errors": max(result.error_count - len(result.errors), 0)})


@login_required
@require_POST
def ledger_import_confirm(request):
    """Import for real the file of the last clean check in this session."""
    user = request.user
    if not access_for(user).has_perm(MANAGE):
        raise Http404()
    pending = request.session.get(SESSION_KEY) or {}
    path = archive_import.upload_path(pending.get("token", ""))
    if path is None or request.POST.get("token") != pending.get("token"):
        return _page(request, status=409,
                     import_error=_("没有待导入的文件（可能已导入或已过期），请重新上传并检查。"))
    try:
        result = archive_import.import_archive_ledger(actor=user, path=path, dry_run=False,
                                                      file_name=pending.get("name"))
    except ServiceError as exc:
        _forget_upload(request)
        return _page(request, status=exc.status, import_error=exc.message)
    _forget_upload(request)
    return render(request, "archive/ledger_import_result.html", {
        "result": result, "more_errors": max(result.error_count - len(result.errors), 0)})
