"""Pages for watch lists (动态管理清单), difficult units, and the re-checks and follow-ups due.

Reading needs ``archive.view`` (out of scope = 404); changing needs ``archive.manage`` over the
member's (or unit's) unit, checked by the services.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.archive.forms import DATE_WIDGET  # ISO values: what <input type="date"> reads
from unionaid.archive.models import HardshipRecord, WatchKind
from unionaid.archive.selectors import lists as selectors
from unionaid.archive.services import watch as services
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.members.selectors import member_get_for_user, member_search
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import level_names, units_visible_to

VIEW = "archive.view"
MANAGE = "archive.manage"


def _require(user, perm: str) -> None:
    if not access_for(user).has_perm(perm):
        raise Http404()


class UnitFilterForm(forms.Form):
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=gettext_lazy("单位（含下级）"),
                           required=False, empty_label=gettext_lazy("全部单位"))

    def __init__(self, *args, user, perm: str = VIEW, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_visible_to(user=user, perm=perm).order_by("path")
        self.fields["unit"].levels = level_names()


class WatchAddForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("清单"), choices=WatchKind.choices)
    reason = forms.CharField(label=gettext_lazy("列入原因"), max_length=300,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=300)


class DifficultUnitForm(forms.Form):
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=gettext_lazy("单位（企业）"))
    since = forms.DateField(label=gettext_lazy("认定日期"), widget=DATE_WIDGET)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_visible_to(user=user, perm=MANAGE).order_by("path")
        self.fields["unit"].levels = level_names()
        self.fields["since"].initial = timezone.localdate()


# -- watch lists ---------------------------------------------------------------------------------

@login_required
@require_GET
def watch_list(request):
    user = request.user
    _require(user, VIEW)
    kind = request.GET.get("kind") or WatchKind.EDGE.value
    if kind not in WatchKind.values:
        raise Http404()
    form = UnitFilterForm(request.GET or None, user=user)
    unit = form.cleaned_data.get("unit") if form.is_bound and form.is_valid() else None
    entries = selectors.watch_entries_visible_to(user=user, kind=kind, unit=unit)
    page = cheap_page(entries, request.GET.get("page"))
    counts = selectors.watch_counts(user=user, unit=unit)
    access = access_for(user)
    covered = {e.org_unit_id for e in page.rows if access.covers_unit(MANAGE, e.org_unit)}
    carried = {k: v for k, v in request.GET.items() if k != "page" and v}
    unit_query = urlencode({"unit": unit.pk}) if unit else ""
    return render(request, "archive/watch_list.html", {
        "form": form, "page": page, "page_base": urlencode(carried), "kind": kind,
        "kind_label": WatchKind(kind).label, "unit_query": unit_query,
        "tabs": [(k.value, k.label, counts[k.value]) for k in WatchKind],
        "covered": covered, "can_manage": access.has_perm(MANAGE),
        "can_refresh": services.may_refresh_watchlists(user),
        "rule_kind": kind in services.RULE_KINDS,
        "due_count": selectors.records_due_for_recheck(user=user).count(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def watch_add(request):
    """Without ?member: find the worker by a POSTed ``q`` (name prefix, ID number or phone —
    a POST, so those stay out of URLs and logs; a ``q`` in the URL is ignored). With
    ?member=<pk>: the list and the reason."""
    user = request.user
    _require(user, MANAGE)
    kind = request.GET.get("kind", "") if request.GET.get("kind") in WatchKind.values else ""
    if not request.GET.get("member"):
        query = request.POST.get("q", "").strip()[:50] if request.method == "POST" else ""
        members = member_search(user=user, query=query, perm=MANAGE)[:20] if query else []
        return render(request, "archive/watch_add.html", {
            "query": query, "members": members,
            "kind_query": urlencode({"kind": kind}) if kind else ""})
    member = or_404(member_get_for_user, user=user, pk=request.GET["member"], perm=MANAGE)
    form = WatchAddForm(request.POST or None, initial={"kind": kind})
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.watch_add(actor=user, member=member, kind=form.cleaned_data["kind"],
                                       reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已将 %(name)s 列入“%(list)s”。") % {
                "name": member.name, "list": WatchKind(entry.kind).label})
            return redirect(f"{reverse('archive:watch')}?kind={entry.kind}")
    return render(request, "archive/watch_add.html", {"member": member, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def watch_refresh(request):
    """Recompute the rule lists now: only for whoever manages the archive of every unit (the
    lists are refreshed nightly anyway); for anyone else the action does not exist."""
    if not services.may_refresh_watchlists(request.user):
        raise Http404()
    try:
        result = services.watchlists_refresh(actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        added = sum(v["added"] for v in result.values() if isinstance(v, dict))
        removed = sum(v["removed"] for v in result.values() if isinstance(v, dict))
        text = _("清单已按规则刷新：新增 %(added)d 人，移出 %(removed)d 人。") % {
            "added": added, "removed": removed}
        if result.get("edge_skipped_no_line"):
            text += _("另有 %(n)d 人所在单位未设置本年度低保标准，未纳入边缘困难清单。") % {
                "n": result["edge_skipped_no_line"]}
        messages.success(request, text)
    return redirect("archive:watch")


@login_required
@require_POST
def watch_remove(request, pk: int):
    entry = or_404(selectors.watch_entry_get_for_user, user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写移出清单的原因。"))
    else:
        try:
            services.watch_remove(actor=request.user, entry=entry,
                                  reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已将 %(name)s 移出清单。") % {"name": entry.member.name})
    return redirect(f"{reverse('archive:watch')}?kind={entry.kind}")


# -- difficult units -----------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def difficult_units(request):
    user = request.user
    _require(user, VIEW)
    can_manage = access_for(user).has_perm(MANAGE)
    form = DifficultUnitForm(request.POST or None, user=user) if can_manage else None
    if request.method == "POST":
        if form is None:
            raise Http404()
        if form.is_valid():
            try:
                services.difficult_unit_add(actor=user, unit=form.cleaned_data["unit"],
                                            since=form.cleaned_data["since"],
                                            note=form.cleaned_data["note"])
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, _("已认定“%(unit)s”为困难企业，其职工已列入困难企业职工清单。")
                                 % {"unit": form.cleaned_data["unit"].name})
                return redirect("archive:difficult-units")
    access = access_for(user)
    marked = list(selectors.difficult_units_visible_to(user=user))
    for row in marked:
        row.can_remove = access.covers_unit(MANAGE, row.org_unit)
    return render(request, "archive/watch_difficult_units.html",
                  {"form": form, "marked": marked},
                  status=400 if form is not None and form.errors else 200)


@login_required
@require_POST
def difficult_unit_remove(request, pk: int):
    marked = or_404(selectors.difficult_unit_get_for_user, user=request.user, pk=pk)
    try:
        services.difficult_unit_remove(actor=request.user, marked=marked,
                                       reason=request.POST.get("reason", "")[:200])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已取消“%(unit)s”的困难企业认定。") % {
            "unit": marked.org_unit.name})
    return redirect("archive:difficult-units")


# -- re-checks and follow-ups due ----------------------------------------------------------------

@login_required
@require_GET
def recheck_due(request):
    user = request.user
    access = access_for(user)
    follow_ups = list(selectors.follow_ups_due_for(user=user, within_days=7)[:100])
    if not access.has_perm(VIEW) and not follow_ups:
        raise Http404()
    today = timezone.localdate()
    records = (selectors.records_due_for_recheck(user=user, today=today)
               if access.has_perm(VIEW) else HardshipRecord.objects.none())
    page = cheap_page(records, request.GET.get("page"))
    for record in page.rows:
        record.detail_url = _record_url(record.pk)
    return render(request, "archive/watch_recheck.html", {
        "page": page, "follow_ups": follow_ups, "today": today,
    })


def _record_url(pk: int) -> str:
    """The record's page, or "" while that page does not exist."""
    try:
        return reverse("archive:record-detail", args=[pk])
    except NoReverseMatch:
        return ""


@login_required
@require_GET
def reminder_open(request):
    """Where a reminder's link leads: the record (or the follow-up) if the reader may see it,
    else the list of what is due."""
    target = reverse("archive:recheck-due")
    record_id = request.GET.get("record", "")
    if record_id.isdigit():
        visible = HardshipRecord.objects.filter(
            access_for(request.user).scope_q(VIEW, unit_field="org_unit"), pk=int(record_id))
        if visible.exists():
            return redirect(_record_url(int(record_id)) or f"{target}#record-{int(record_id)}")
    follow_up_id = request.GET.get("follow_up", "")
    if follow_up_id.isdigit():
        try:
            base = reverse("visits:follow-up-list")
        except NoReverseMatch:
            base = target
        return redirect(f"{base}#follow-up-{int(follow_up_id)}")
    return redirect(target)
