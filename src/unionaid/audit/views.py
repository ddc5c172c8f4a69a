"""The audit journal pages (审计日志): list with filters, one event, .xlsx export.

Holders of ``audit.view`` only (anyone else gets 404); every read is journaled by the
selectors as ``audit.read``. The second factor that the auditor's duty requires is enforced
before any of these pages by accounts' ``AccessMiddleware`` (every path outside /accounts/),
so audit, below accounts, only asks the user's rights (``core.access``).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from unionaid.audit import selectors
from unionaid.audit.forms import AuditFilterForm, ReadFilterForm
from unionaid.core.http import or_404, perm_required

AUDIT = "audit.view"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _before(raw: str | None) -> int | None:
    try:
        value = int(raw or 0)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


@perm_required(AUDIT)
def event_list(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else selectors.AuditFilters()
    page = selectors.audit_event_page(user=request.user, filters=filters,
                                      before=_before(request.GET.get("before")))
    return render(request, "audit/event_list.html", {
        "form": form, "page": page, "filtered": bool(filters.as_dict()),
        "is_first_page": not _before(request.GET.get("before")),
    })


@perm_required(AUDIT)
def event_detail(request, pk):
    event = or_404(selectors.audit_event_get, user=request.user, pk=pk)
    return render(request, "audit/event_detail.html", {
        "event": event,
        "rows": selectors.change_rows(event.changes),
        "hash_ok": selectors.event_hash_ok(event),
    })


@perm_required(AUDIT)
def event_export(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else selectors.AuditFilters()
    content, _rows = selectors.audit_export_xlsx(user=request.user, filters=filters)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.xlsx"'
    return response


@perm_required(AUDIT)
def read_list(request):
    """The read log (查阅记录): who looked at whose personal data, when, through what."""
    form = ReadFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else selectors.ReadFilters()
    page = selectors.read_event_page(user=request.user, filters=filters,
                                     before=_before(request.GET.get("before")))
    return render(request, "audit/read_list.html", {
        "form": form, "page": page, "filtered": bool(filters.as_dict()),
        "is_first_page": not _before(request.GET.get("before")),
    })
