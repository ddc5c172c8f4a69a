"""Serving a material (ID card, diagnosis, payslip): only through this permission-checked view,
never from a public URL. Out of scope = 404; staff reads are journaled by the selector."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET

from unionaid.assistance.selectors import attachment_open_for_user
from unionaid.core.http import or_404, private_file_response


@login_required
@require_GET
def attachment_view(request, pk: int):
    thumbnail = request.GET.get("thumb") == "1"
    handle, content_type, filename = or_404(attachment_open_for_user, user=request.user, pk=pk,
                                            thumbnail=thumbnail)
    # Photos open in the browser; a PDF is downloaded and opened by the phone's own viewer.
    return private_file_response(handle, content_type=content_type, filename=filename,
                                 download=request.GET.get("download") == "1")
