"""The funds ledgers page (/assistance/ledgers/): export the payment ledger (帮扶资金发放台账) or
the budget execution ledger (预算执行台账) for a unit subtree and a period, directly or as a
background job for large ones (then downloaded from 我的导出), as the archive's ledgers page
does. For users holding funds.view; anyone else gets "not found"."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from unionaid.accounts.access import access_for
from unionaid.assistance.export_kinds import BUDGET_LEDGER, PAYMENT_LEDGER
from unionaid.assistance.forms import DATE_WIDGET
from unionaid.assistance.ledgers.budget_ledger import export_budget_ledger
from unionaid.assistance.ledgers.payment_ledger import PERM, REVEAL, export_payment_ledger
from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import apply_service_error
from unionaid.exports import services as export_services
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import level_names, units_visible_to

KINDS = (("payments", gettext_lazy("帮扶资金发放台账")), ("budgets", gettext_lazy("预算执行台账")))
EXPORT_KIND = {"payments": PAYMENT_LEDGER, "budgets": BUDGET_LEDGER}


class LedgerForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("台账"), choices=KINDS)
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=gettext_lazy("单位（含下级）"),
                           required=False, empty_label=gettext_lazy("我管辖的全部单位"))
    start = forms.DateField(label=gettext_lazy("开始日期"), widget=DATE_WIDGET)
    end = forms.DateField(label=gettext_lazy("结束日期"), widget=DATE_WIDGET)
    reveal = forms.BooleanField(
        label=gettext_lazy("发放台账导出完整身份证号和银行账号（记入审计）"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_visible_to(user=user, perm=PERM).order_by("path")
        self.fields["unit"].levels = level_names()
        today = timezone.localdate()
        self.fields["start"].initial = dt.date(today.year, 1, 1)
        self.fields["end"].initial = today
        if not access_for(user).has_perm(REVEAL):
            del self.fields["reveal"]


def _require_funds_view(user) -> None:
    if not access_for(user).has_perm(PERM):
        raise Http404()


def _page(request, *, form=None, status=200):
    initial = {}
    if request.method == "GET" and request.GET.get("kind") in EXPORT_KIND:
        initial["kind"] = request.GET["kind"]
    return render(request, "assistance/ledger_page.html", {
        "form": form or LedgerForm(user=request.user, initial=initial),
    }, status=status)


@login_required
@require_GET
def ledgers(request):
    _require_funds_view(request.user)
    return _page(request)


@login_required
@require_POST
def ledger_export(request):
    """Download a ledger (the form POSTs, so a reveal never reaches an access log), or queue it
    as a background job (``background=1``)."""
    user = request.user
    _require_funds_view(user)
    form = LedgerForm(request.POST, user=user)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    data = form.cleaned_data
    unit = data.get("unit")
    reveal = data["kind"] == "payments" and bool(data.get("reveal"))
    try:
        if request.POST.get("background") == "1":
            job = export_services.export_job_create(
                actor=user, kind=EXPORT_KIND[data["kind"]],
                params={"unit": unit.pk if unit else None, "start": data["start"],
                        "end": data["end"], "reveal": reveal})
            return redirect("exports:job", pk=job.pk)
        if data["kind"] == "payments":
            result = export_payment_ledger(actor=user, unit=unit, start=data["start"],
                                           end=data["end"], reveal=reveal)
        else:
            result = export_budget_ledger(actor=user, unit=unit, start=data["start"],
                                          end=data["end"])
    except NotFound:
        raise Http404() from None
    except ServiceError as exc:
        apply_service_error(form, exc)
        return _page(request, form=form, status=exc.status)
    handle = result.path.open("rb")
    result.path.unlink()  # the open handle keeps the data until the response is sent
    response = FileResponse(handle, as_attachment=True, filename=result.download_name)
    response["Cache-Control"] = "no-store"
    return response
