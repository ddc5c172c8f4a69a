"""The worker's own pages (/me/): my applications and their progress, apply for an item,
upload materials from the phone, submit, resubmit after a return, withdraw.

Only users linked to a member record get here; anybody else, and anybody's record but one's
own, gets a plain 404. Views parse input, call one service or selector, and render."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from unionaid.assistance import services
from unionaid.assistance.models import ApplicationStatus
from unionaid.assistance.selectors import attachment_open_for_user
from unionaid.assistance.services.applications import EDITABLE, WITHDRAWABLE
from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import cheap_page, or_404, private_file_response
from unionaid.notifications.selectors import unread_count
from unionaid.portal import selectors
from unionaid.portal.forms import FactsForm, MaterialForm, ResubmitForm

HOME_APPLICATIONS = 10
FILE_FIELDS = ("camera", "files")


def worker_required(view):
    """Logged in and linked to a member record; otherwise the page does not exist."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.member_id:
            raise Http404()
        return view(request, *args, **kwargs)

    return wrapper


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# -- home and lists ---------------------------------------------------------------------------

@worker_required
@require_GET
def home(request):
    applications = list(selectors.my_applications(user=request.user)[: HOME_APPLICATIONS + 1])
    return render(request, "portal/home.html", {
        "member": request.user.member,
        "applications": applications[:HOME_APPLICATIONS],
        "more_applications": len(applications) > HOME_APPLICATIONS,
        "unread": unread_count(user=request.user),
        "items": selectors.my_items(user=request.user),
    })


@worker_required
@require_GET
def application_list(request):
    page = cheap_page(selectors.my_applications(user=request.user), request.GET.get("page"),
                      size=20)
    return render(request, "portal/application_list.html", {"page": page})


# -- apply ------------------------------------------------------------------------------------

@worker_required
@require_http_methods(["GET", "POST"])
def apply(request, item_pk: int):
    item = or_404(selectors.my_item_get, user=request.user, pk=item_pk)
    form = FactsForm(request.POST or None, item=item)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                application = services.application_create_draft(
                    actor=request.user, member=request.user.member, item=item,
                    facts=form.facts(), reason=form.cleaned_data["reason"])
            except ServiceError as exc:
                form.apply_service_error(exc)
            else:
                messages.success(request, _("申请草稿已保存。请上传所需材料，然后提交申请。"))
                return redirect("portal:application-detail", pk=application.pk)
        status = 400
    return render(request, "portal/apply.html", {
        "item": item, "form": form, "materials": selectors.materials(item),
    }, status=status)


@worker_required
@require_http_methods(["GET", "POST"])
def application_edit(request, pk: int):
    application = or_404(selectors.my_application_get, user=request.user, pk=pk)
    if application.status not in EDITABLE:
        raise Http404()
    form = FactsForm(request.POST or None, item=application.item,
                     initial=FactsForm.initial_from(application))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.application_update_draft(actor=request.user, application=application,
                                                  facts=form.facts(),
                                                  reason=form.cleaned_data["reason"])
            except ServiceError as exc:
                form.apply_service_error(exc)
            else:
                messages.success(request, _("申请内容已保存。"))
                return redirect("portal:application-detail", pk=application.pk)
        status = 400
    return render(request, "portal/apply.html", {
        "item": application.item, "form": form, "application": application,
        "materials": selectors.materials(application.item),
    }, status=status)


# -- one application --------------------------------------------------------------------------

def _detail_context(request, application, **extra) -> dict:
    is_draft = application.status == ApplicationStatus.DRAFT
    returned = application.status == ApplicationStatus.RETURNED
    checklist = selectors.material_checklist(application)
    context = {
        "application": application,
        "rounds": selectors.application_rounds(application),
        "facts": selectors.facts_display(application),
        "checklist": checklist,
        "can_upload": application.status in EDITABLE,
        "can_remove": is_draft,
        "can_withdraw": application.status in WITHDRAWABLE,
        "precheck": services.application_precheck(application=application) if is_draft else None,
        "return_comment": selectors.return_comment(application) if returned else "",
        "payment": selectors.payment(application),
        "material_form": MaterialForm(
            names=selectors.material_choices(application.item),
            initial={"material": selectors.next_material(checklist, extra.pop("last", ""))}),
        "upload_errors": [],
    }
    if returned and "resubmit_form" not in extra:
        context["resubmit_form"] = ResubmitForm(initial={"reason": application.reason})
    context.update(extra)
    return context


def _reload(request, pk):
    return or_404(selectors.my_application_get, user=request.user, pk=pk)


@worker_required
@require_GET
def application_detail(request, pk: int):
    application = _reload(request, pk)
    return render(request, "portal/application_detail.html",
                  _detail_context(request, application))


@worker_required
@require_POST
def attachment_upload(request, pk: int):
    """One or several files (camera or gallery) for one material; each file on its own, so one
    refused photo does not lose the others. htmx gets the work area back, with progress."""
    application = _reload(request, pk)
    form = MaterialForm(request.POST, names=selectors.material_choices(application.item))
    uploads = [f for name in FILE_FIELDS for f in request.FILES.getlist(name)]
    errors: list[str] = []
    added = 0
    if not form.is_valid():
        errors.append(_("请选择材料类别。"))
    elif not uploads:
        errors.append(_("请先拍照或选择要上传的文件。"))
    else:
        for uploaded in uploads:
            try:
                services.attachment_add(actor=request.user, application=application,
                                        material=form.cleaned_data["material"],
                                        uploaded_file=uploaded)
            except ServiceError as exc:
                errors.append(f"{uploaded.name}：{exc.message}")
            else:
                added += 1
    status = 400 if errors else 200
    if _is_htmx(request):
        application = _reload(request, pk)
        extra = {"material_form": form} if errors else {
            "last": form.cleaned_data.get("material", "")}
        context = _detail_context(request, application, upload_errors=errors, uploaded=added,
                                  **extra)
        return render(request, "portal/_work.html", context, status=status)
    if added:
        messages.success(request, _("已上传 %(n)s 个文件。") % {"n": added})
    for error in errors:
        messages.error(request, error)
    return redirect("portal:application-detail", pk=application.pk)


@worker_required
@require_POST
def attachment_remove(request, pk: int):
    attachment = or_404(selectors.my_attachment_get, user=request.user, pk=pk)
    application_pk = attachment.application_id
    try:
        services.attachment_remove(actor=request.user, attachment=attachment)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除材料“%(name)s”。") % {"name": attachment.material})
    return redirect("portal:application-detail", pk=application_pk)


def _refused(request, application, exc: ServiceError, **extra):
    """Show the detail page again with the service's Chinese reason on top."""
    if isinstance(exc, NotFound):
        raise Http404()
    application = _reload(request, application.pk)
    return render(request, "portal/application_detail.html",
                  _detail_context(request, application, error=exc.message, **extra),
                  status=exc.status)


@worker_required
@require_POST
def application_submit(request, pk: int):
    application = _reload(request, pk)
    try:
        application = services.application_submit(actor=request.user, application=application)
    except ServiceError as exc:
        return _refused(request, application, exc)
    if application.status == ApplicationStatus.APPROVED:
        messages.success(request, _("申请已提交并核准，等待发放。"))
    else:
        messages.success(request, _("申请已提交，可在本页查看审批进度。"))
    return redirect("portal:application-detail", pk=application.pk)


@worker_required
@require_POST
def application_resubmit(request, pk: int):
    application = _reload(request, pk)
    form = ResubmitForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/application_detail.html",
                      _detail_context(request, application, resubmit_form=form), status=400)
    try:
        application = services.application_resubmit(actor=request.user, application=application,
                                                    reason=form.cleaned_data["reason"])
    except ServiceError as exc:
        return _refused(request, application, exc, resubmit_form=form)
    messages.success(request, _("申请已重新提交，可在本页查看审批进度。"))
    return redirect("portal:application-detail", pk=application.pk)


@worker_required
@require_POST
def application_withdraw(request, pk: int):
    application = _reload(request, pk)
    try:
        services.application_withdraw(actor=request.user, application=application,
                                      reason=_("本人撤回"))
    except ServiceError as exc:
        return _refused(request, application, exc)
    messages.success(request, _("申请已撤回。"))
    return redirect("portal:application-detail", pk=application.pk)


# -- materials (files) ------------------------------------------------------------------------

def _serve(request, pk: int, *, thumbnail: bool):
    attachment = or_404(selectors.my_attachment_get, user=request.user, pk=pk)
    try:
        handle, content_type, filename = attachment_open_for_user(
            user=request.user, pk=attachment.pk, thumbnail=thumbnail)
    except NotFound:
        raise Http404() from None
    return private_file_response(handle, content_type=content_type, filename=filename)


@worker_required
@require_GET
def attachment_file(request, pk: int):
    return _serve(request, pk, thumbnail=False)


@worker_required
@require_GET
def attachment_thumbnail(request, pk: int):
    return _serve(request, pk, thumbnail=True)
