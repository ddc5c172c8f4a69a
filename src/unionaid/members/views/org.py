"""Back-office pages for the org tree (组织机构, /org/, URL names ``org:…``). Thin: parse input,
call one org service or selector, render. A unit outside the user's scope is a 404, whatever
the page.

They live in members, not in org: the tree counts each unit's members and a unit's page lists
them, and org (below members) knows no member. org keeps the tree's model, services (with its
close guards), selectors, forms and API.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from unionaid.accounts.access import access_for
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.members.models import Member
from unionaid.members.selectors import member_search, tree_for_user
from unionaid.org import selectors, services
from unionaid.org.forms import OrgUnitCreateForm, OrgUnitMoveForm, OrgUnitRenameForm
from unionaid.org.models import OrgUnit

MAX_INDENT = 8
DEPTH_CHOICES = (2, 3, 4, 5)


def _decorate(units, levels: dict[int, str], base_depth: int = 1) -> None:
    for unit in units:
        unit.indent = min(unit.depth - base_depth + 1, MAX_INDENT)
        unit.level_name = levels.get(unit.depth, "")


@login_required
def tree(request):
    try:
        max_depth = int(request.GET.get("depth") or 0) or None
    except ValueError:
        max_depth = None
    units = tree_for_user(user=request.user, max_depth=max_depth)
    _decorate(units, selectors.level_names(), min((u.depth for u in units), default=1))
    return render(request, "org/tree.html", {
        "units": units, "max_depth": max_depth,
        "depth_choices": DEPTH_CHOICES,
    })


def _children(user, unit: OrgUnit) -> list[OrgUnit]:
    children = list(
        selectors.units_visible_to(user=user)
        .filter(path__startswith=unit.path, depth=unit.depth + 1).order_by("path")
    )
    counts = dict(
        Member.objects.filter(org_unit__in=[c.pk for c in children])
        .values_list("org_unit").annotate(n=Count("pk")).values_list("org_unit", "n")
    )
    for child in children:
        child.member_count = counts.get(child.pk, 0)
    return children


def _ancestors(user, unit: OrgUnit) -> list[OrgUnit]:
    steplen = OrgUnit.steplen
    paths = [unit.path[:i] for i in range(steplen, len(unit.path), steplen)]
    return list(selectors.units_visible_to(user=user).filter(path__in=paths).order_by("path"))


@login_required
def unit_detail(request, pk: int):
    unit = or_404(selectors.unit_get_for_user, user=request.user, pk=pk)
    access = access_for(request.user)
    levels = selectors.level_names()
    ancestors = _ancestors(request.user, unit)
    children = _children(request.user, unit)
    _decorate([unit, *ancestors, *children], levels)
    page = None
    if access.has_perm("members.view"):
        page = cheap_page(member_search(user=request.user, unit=unit), request.GET.get("page"))
    return render(request, "org/unit_detail.html", {
        "unit": unit,
        "ancestors": ancestors,
        "children": children,
        "page": page,
        "can_manage": access.covers_unit("org.manage", unit),
        "can_add_member": access.covers_unit("members.change", unit) and not unit.is_closed,
    })


def _manageable(request, pk) -> OrgUnit:
    return or_404(selectors.unit_get_for_user, user=request.user, pk=pk, perm="org.manage")


@login_required
@require_http_methods(["GET", "POST"])
def unit_create_child(request, pk: int):
    parent = _manageable(request, pk)
    form = OrgUnitCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.orgunit_create(actor=request.user, parent=parent, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已新建下级单位“%(name)s”。") % {"name": unit.name})
            return redirect("org:unit-detail", pk=unit.pk)
    return render(request, "org/unit_form.html", {
        "unit": parent, "form": form, "heading": _("新建下级单位"), "submit": _("新建"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def unit_rename(request, pk: int):
    unit = _manageable(request, pk)
    form = OrgUnitRenameForm(request.POST or None, initial={"name": unit.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.orgunit_rename(actor=request.user, unit=unit, name=form.cleaned_data["name"])
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已更名。"))
            return redirect("org:unit-detail", pk=unit.pk)
    return render(request, "org/unit_form.html", {
        "unit": unit, "form": form, "heading": _("单位更名"), "submit": _("保存"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def unit_move(request, pk: int):
    unit = _manageable(request, pk)
    parents = (
        selectors.units_visible_to(user=request.user, perm="org.manage")
        .filter(is_closed=False).exclude(path__startswith=unit.path).order_by("path")
    )
    current_parent = OrgUnit.objects.get_parent(unit)
    form = OrgUnitMoveForm(
        request.POST or None, parents=parents, levels=selectors.level_names(),
        initial={"new_parent": current_parent.pk if current_parent else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.orgunit_move(
                actor=request.user, unit=unit, new_parent=form.cleaned_data["new_parent"]
            )
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已将“%(name)s”及其下级单位移至新的上级单位。")
                             % {"name": unit.name})
            return redirect("org:unit-detail", pk=unit.pk)
    return render(request, "org/unit_form.html", {
        "unit": unit, "form": form, "heading": _("调整上级单位"), "submit": _("移动"),
        "hint": _("本单位的全部下级单位和职工随之移动。"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def unit_close(request, pk: int):
    unit = _manageable(request, pk)
    error = None
    if request.method == "POST":
        try:
            services.orgunit_close(actor=request.user, unit=unit)
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, _("已撤销“%(name)s”。") % {"name": unit.name})
            return redirect("org:unit-detail", pk=unit.pk)
    return render(request, "org/unit_close.html", {"unit": unit, "error": error})
