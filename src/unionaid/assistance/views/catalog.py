"""The catalog editor (帮扶项目, ``assistance.catalog``): the list by category, one item's rules,
and "试算" — sample facts → amount with its calculation and the eligibility result."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from unionaid.accounts.access import access_for
from unionaid.accounts.views import perm_required
from unionaid.assistance import facts as factlib
from unionaid.assistance import selectors, services
from unionaid.assistance.amounts import KINDS, yuan
from unionaid.assistance.forms import AnnualCapForm, CatalogFilterForm, ItemForm, TrialForm
from unionaid.core import rules
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, or_404
from unionaid.members.selectors import member_get_for_user

CATALOG = "assistance.catalog"
MAX_LISTED = 2000


@perm_required(CATALOG)
@require_GET
def catalog_list(request):
    form = CatalogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    items = list(selectors.catalog_items(
        include_inactive=bool(filters.get("inactive")), category=filters.get("category"),
        query=filters.get("q", ""))[: MAX_LISTED + 1])
    for item in items:
        item.rule_label = KINDS.get((item.amount_rule or {}).get("kind"), "—")
    return render(request, "assistance/catalog_list.html", {
        "form": form, "items": items[:MAX_LISTED], "truncated": len(items) > MAX_LISTED,
    })


def _names_help() -> list[tuple[str, str]]:
    return [(name, str(label)) for name, label in factlib.MEMBER_FACTS.items()]


def _item_page(request, form, item=None, trial=None, status=200):
    return render(request, "assistance/item_form.html", {
        "form": form, "item": item, "member_names": _names_help(), "trial": trial,
        "trial_form": trial["form"] if trial else (
            TrialForm(item=item, allow_member=_may_pick_member(request.user)) if item else None),
    }, status=status)


@perm_required(CATALOG)
@require_http_methods(["GET", "POST"])
def item_edit(request, pk: int | None = None):
    item = or_404(selectors.item_get, pk=pk) if pk is not None else None
    initial = ItemForm.initial_for(item) if item else {"period_kind": "year", "is_active": True}
    form = ItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.item_save(actor=request.user, item=item, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已保存帮扶项目“%(name)s”。") % {"name": saved.name})
            return redirect("assistance:item-edit", pk=saved.pk)
    return _item_page(request, form, item, status=400 if form.errors else 200)


def _may_pick_member(user) -> bool:
    return access_for(user).has_perm("members.view")


def _typical_refusals(item, facts: dict) -> list[str]:
    """Eligibility for a typical member (在籍会员, not in the archive, nothing granted this year):
    the same rules and messages ``check_eligibility`` uses, over sample member facts."""
    clean = factlib.clean_facts(item.facts, facts, require_all=False)
    values = {**factlib.sample_values([]), **factlib.rule_values(item.facts, clean)}
    refusals = []
    for entry in item.eligibility or []:
        try:
            if not rules.holds(entry["rule"], values):
                refusals.append(entry["message"])
        except rules.RuleError as exc:
            refusals.append(_("申请条件“%(rule)s”无法计算：%(error)s")
                            % {"rule": entry["rule"], "error": exc.message})
    return refusals


def _trial(request, item) -> dict:
    form = TrialForm(request.GET, item=item, allow_member=_may_pick_member(request.user))
    result = {"form": form, "done": False}
    if not form.is_valid():
        return result
    facts = form.facts()
    member = None
    if form.cleaned_data.get("member"):
        try:
            member = member_get_for_user(user=request.user, pk=form.cleaned_data["member"])
        except ServiceError:
            form.add_error("member", _("没有找到该职工，或不在您的查看范围内。"))
            return result
    try:
        amount, steps = services.calculate_amount(item=item, facts=facts)
        refusals = (services.check_eligibility(item=item, member=member, facts=facts)
                    if member is not None else _typical_refusals(item, facts))
    except ServiceError as exc:
        form.apply_error(exc)
        return result
    result.update(done=True, amount=yuan(amount), steps=steps, refusals=refusals,
                  member=member)
    return result


@perm_required(CATALOG)
@require_GET
def item_trial(request, pk: int):
    item = or_404(selectors.item_get, pk=pk)
    trial = _trial(request, item)
    if request.headers.get("HX-Request"):
        return render(request, "assistance/_item_trial.html",
                      {"trial": trial, "trial_form": trial["form"], "item": item})
    return _item_page(request, ItemForm(initial=ItemForm.initial_for(item)), item, trial)


@perm_required(CATALOG)
@require_http_methods(["GET", "POST"])
def annual_caps(request):
    """年度帮扶上限: the caps across items in force, the scheduled ones, the history, and a form
    for a new version (a change never edits a version already in force)."""
    form = AnnualCapForm(request.POST or None, initial={"effective_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.annual_cap_save(actor=request.user, category=data["scope"],
                                     per_person=data["per_person"],
                                     per_household=data["per_household"],
                                     effective_from=data["effective_from"])
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已保存年度帮扶上限，自 %(day)s 起生效。")
                             % {"day": data["effective_from"].isoformat()})
            return redirect("assistance:annual-caps")
    return render(request, "assistance/annual_caps.html", {
        "form": form, **selectors.annual_cap_overview(),
    }, status=400 if form.errors else 200)
