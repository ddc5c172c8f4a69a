"""Configuration pages of the archive (``archive.config``): the 低保 lines per unit and year,
the category rules per unit, the working-day calendar with admins' corrections (the next 60
days shown, so an admin can check a public notice's count), and the default flows."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts.views import perm_required
from unionaid.approvals.calendar import add_working_days, known_year
from unionaid.approvals.models import ApprovalFlow, WorkdayOverride
from unionaid.archive.category import rules_for
from unionaid.archive.flows import NOTICE_WORKING_DAYS, archive_flows_ensure
from unionaid.archive.forms import DibaoForm, FlowsForm, RulesForm, RulesUnitForm, WorkdayForm
from unionaid.archive.models import CategoryRules
from unionaid.archive.selectors.records import (
    calendar_days,
    category_rules_visible_to,
    dibao_standard_get_for_user,
    dibao_standards_visible_to,
    workday_overrides,
)
from unionaid.archive.services import config as services
from unionaid.archive.services.common import CONFIG, ENROLMENT_KIND, EXIT_KIND
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, or_404
from unionaid.org.selectors import level_names, unit_get_for_user, units_visible_to

CALENDAR_DAYS = 60


def _units(user):
    return units_visible_to(user=user, perm=CONFIG).filter(is_closed=False).order_by("path")


@perm_required(CONFIG)
def config_home(request):
    user = request.user
    units = _units(user)
    flows = (ApprovalFlow.objects.filter(subject_kind__in=[ENROLMENT_KIND, EXIT_KIND],
                                         org_unit__in=units)
             .select_related("org_unit").order_by("org_unit__path", "subject_kind"))
    return render(request, "archive/config_home.html", {
        "lines": dibao_standards_visible_to(user=user)[:200],
        "rules": category_rules_visible_to(user=user),
        "defaults": CategoryRules(),
        "rules_form": RulesUnitForm(units=units, levels=level_names()),
        "flows": flows,
        "flows_form": FlowsForm(units=units, levels=level_names()),
        "may_edit_calendar": services.may_edit_calendar(user),
    })


@perm_required(CONFIG)
@require_http_methods(["GET", "POST"])
def dibao_edit(request, pk: int | None = None):
    user = request.user
    line = or_404(dibao_standard_get_for_user, user=user, pk=pk) if pk else None
    initial = ({"org_unit": line.org_unit_id, "region": line.region, "year": line.year,
                "monthly_amount": line.monthly_amount} if line else {})
    form = DibaoForm(request.POST or None, initial=initial, units=_units(user),
                     levels=level_names())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.dibao_standard_save(actor=user, org_unit=data["org_unit"],
                                             year=data["year"],
                                             monthly_amount=data["monthly_amount"],
                                             region=data["region"], standard=line)
            except ServiceError as exc:
                apply_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已保存低保标准。"))
                return redirect("archive:config")
        else:
            status = 400
    return render(request, "archive/config_dibao_form.html", {"form": form, "line": line},
                  status=status)


@perm_required(CONFIG)
@require_POST
def dibao_delete(request, pk: int):
    line = or_404(dibao_standard_get_for_user, user=request.user, pk=pk)
    try:
        services.dibao_standard_delete(actor=request.user, standard=line)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除低保标准。"))
    return redirect("archive:config")


@perm_required(CONFIG)
@require_http_methods(["GET", "POST"])
def rules_edit(request):
    """?unit=<pk>: the unit's own rules, or a form prefilled with what it inherits."""
    user = request.user
    unit = or_404(unit_get_for_user, user=user, pk=request.GET.get("unit"), perm=CONFIG)
    own = CategoryRules.objects.filter(org_unit=unit).first()
    source = own or rules_for(unit)
    form = RulesForm(request.POST or None,
                     initial={name: getattr(source, name) for name in services.RULE_FIELDS})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.category_rules_save(actor=user, org_unit=unit, **form.cleaned_data)
            except ServiceError as exc:
                apply_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已保存“%(unit)s”的困难认定规则。") % {"unit": unit.name})
                return redirect("archive:config")
        else:
            status = 400
    return render(request, "archive/config_rules_form.html", {
        "form": form, "unit": unit, "own": own,
        "inherited_from": None if own else getattr(source, "org_unit", None),
    }, status=status)


@perm_required(CONFIG)
@require_POST
def rules_delete(request, pk: int):
    rules = category_rules_visible_to(user=request.user).filter(pk=pk).first()
    if rules is None:
        raise Http404()
    try:
        services.category_rules_delete(actor=request.user, rules=rules)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除该单位的规则，改为沿用上级单位或默认规则。"))
    return redirect("archive:config")


@perm_required(CONFIG)
@require_POST
def flows_ensure(request):
    units = _units(request.user)
    form = FlowsForm(request.POST, units=units, levels=level_names())
    if not form.is_valid():
        messages.error(request, _("请选择单位。"))
        return redirect("archive:config")
    try:
        created = archive_flows_ensure(actor=request.user, org_unit=form.cleaned_data["unit"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if created:
            messages.success(request, _("已创建 %(n)s 个默认流程，可在审批流程中调整节点。")
                             % {"n": len(created)})
        else:
            messages.info(request, _("该单位已有建档与脱困流程，未作改动。"))
    return redirect("archive:config")


# -- the working-day calendar ------------------------------------------------------------------

@perm_required(CONFIG)
@require_http_methods(["GET", "POST"])
def calendar_view(request):
    user = request.user
    editable = services.may_edit_calendar(user)
    form = WorkdayForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not editable:
            raise Http404()
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.workday_override_save(actor=user, day=data["day"],
                                               is_workday=data["is_workday"], note=data["note"])
            except ServiceError as exc:
                apply_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已保存 %(day)s 的工作日调整。")
                                 % {"day": data["day"].isoformat()})
                return redirect("archive:calendar")
        else:
            status = 400
    today = timezone.localdate()
    days = calendar_days(start=today, days=CALENDAR_DAYS)
    weeks: list[list[dict | None]] = []
    week: list[dict | None] = [None] * days[0]["weekday"]
    for day in days:
        week.append(day)
        if len(week) == 7:
            weeks.append(week)
            week = []
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    try:
        notice_end, unknown_year = add_working_days(today, NOTICE_WORKING_DAYS), None
    except ServiceError:
        notice_end, unknown_year = None, today.year + 1
    if unknown_year is None and not known_year(today.year + 1) and not WorkdayOverride.objects.filter(
            day__year=today.year + 1).exists():
        unknown_year = today.year + 1  # warn before notices start to run into that year
    return render(request, "archive/config_calendar.html", {
        "form": form if editable else None, "weeks": weeks, "today": today,
        "overrides": workday_overrides(start=today - dt.timedelta(days=30)),
        "notice_days": NOTICE_WORKING_DAYS,
        "notice_end": notice_end, "unknown_year": unknown_year,
        "weekday_names": [_("一"), _("二"), _("三"), _("四"), _("五"), _("六"), _("日")],
    }, status=status)


@perm_required(CONFIG)
@require_POST
def workday_delete(request, pk: int):
    override = WorkdayOverride.objects.filter(pk=pk).first()
    if override is None or not services.may_edit_calendar(request.user):
        raise Http404()
    services.workday_override_delete(actor=request.user, override=override)
    messages.success(request, _("已删除 %(day)s 的工作日调整。") % {"day": override.day.isoformat()})
    return redirect("archive:calendar")
