"""Visit photos: added after the visit was sent (those taken offline travel with the visit,
kept encrypted on the device until then: js/device-vault.js), served only through this
permission-checked view; out of scope = 404, every read is journaled by the selector."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from unionaid.core.errors import ServiceError
from unionaid.core.http import or_404, private_file_response
from unionaid.visits.forms.records import PhotoForm
from unionaid.visits.selectors.records import photo_open_for_user, visit_get_for_user
from unionaid.visits.services.photos import visit_photo_add


@login_required
@require_POST
def photo_upload(request, pk: int):
    visit = or_404(visit_get_for_user, user=request.user, pk=pk)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的照片。"))
        return redirect("visits:visit-detail", pk=visit.pk)
    try:
        visit_photo_add(actor=request.user, visit=visit, uploaded_file=form.cleaned_data["photo"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("照片已上传（拍摄位置等信息已去除）。"))
    return redirect("visits:visit-detail", pk=visit.pk)


@login_required
@require_GET
def photo_view(request, pk: int):
    handle, content_type, filename = or_404(photo_open_for_user, user=request.user, pk=pk,
                                            thumbnail=request.GET.get("thumb") == "1")
    return private_file_response(handle, content_type=content_type, filename=filename)
