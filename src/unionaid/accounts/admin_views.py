"""The security admin's pages (安全管理员): users, roles, posts, assignments.

Every page needs ``security.manage`` and a verified second factor, and shows only what the
admin's grants of it cover (accounts.selectors). Writes go through accounts.services, whose
rules (separation of duties, no self-grant, no wider scope than one's own) and Chinese messages
are the ones shown here.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts import selectors, services, twofactor
from unionaid.accounts.forms import (
    AssignmentGrantForm,
    AssignmentMoveForm,
    PositionForm,
    RoleForm,
    TokenSearchForm,
    UnitFilterForm,
    UserCreateForm,
    UserSearchForm,
)
from unionaid.accounts.models import Assignment
from unionaid.accounts.views import perm_required
from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404

MANAGE = "security.manage"


def _fail(request, exc: ServiceError) -> None:
    messages.error(request, exc.message)


# -- users -----------------------------------------------------------------------------------

@perm_required(MANAGE)
def user_list(request):
    form = UserSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = cheap_page(selectors.user_search(user=request.user, query=query), request.GET.get("page"))
    return render(request, "accounts/admin_user_list.html", {"form": form, "page": page})


@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def user_create(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=request.user, username=data["username"], password=data["password"],
                full_name=data["full_name"],
            )
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("用户“%(name)s”已创建，请为其分配岗位。")
                             % {"name": user.username})
            return redirect("accounts:admin-user-detail", pk=user.pk)
    return render(request, "accounts/admin_user_form.html", {"form": form})


@perm_required(MANAGE)
def user_detail(request, pk):
    subject = or_404(selectors.user_get_for_admin, user=request.user, pk=pk)
    positions = selectors.positions_grantable_by(user=request.user)
    assignments = list(selectors.assignments_of(user=request.user, subject=subject))
    current_ids = set(
        Assignment.objects.current().filter(pk__in=[a.pk for a in assignments])
        .values_list("pk", flat=True)
    )
    for assignment in assignments:
        assignment.is_current = assignment.pk in current_ids
    return render(request, "accounts/admin_user_detail.html", {
        "subject": subject,
        "assignments": assignments,
        "grant_form": AssignmentGrantForm(positions=positions,
                                          initial={"username": subject.username}),
        "move_form": AssignmentMoveForm(positions=positions),
        "otp_enabled": twofactor.has_confirmed_device(subject),
    })


@perm_required(MANAGE)
@require_POST
def user_set_active(request, pk):
    subject = or_404(selectors.user_get_for_admin, user=request.user, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(actor=request.user, user=subject, active=active)
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("账号已启用。") if active
                         else _("账号已停用，其登录会话和接口令牌已失效。"))
    return redirect("accounts:admin-user-detail", pk=subject.pk)


@perm_required(MANAGE)
@require_POST
def user_otp_reset(request, pk):
    subject = or_404(selectors.user_get_for_admin, user=request.user, pk=pk)
    try:
        twofactor.otp_reset_for_user(actor=request.user, user=subject)
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("已重置该用户的双因素认证，其下次登录时需重新绑定。"))
    return redirect("accounts:admin-user-detail", pk=subject.pk)


# -- roles -----------------------------------------------------------------------------------

@perm_required(MANAGE)
def role_list(request):
    return render(request, "accounts/admin_role_list.html",
                  {"roles": selectors.role_list(user=request.user)})


@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def role_edit(request, pk=None):
    role = or_404(selectors.role_get_for_admin, user=request.user, pk=pk) if pk else None
    form = RoleForm(request.POST or None, role=role)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            role = services.role_save(
                actor=request.user, code=role.code if role else data["code"], name=data["name"],
                permissions=data["permissions"], data_scope=data["data_scope"],
                description=data["description"], role=role,
            )
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("角色“%(name)s”已保存。") % {"name": role.name})
            return redirect("accounts:admin-roles")
    return render(request, "accounts/admin_role_form.html", {"form": form, "role": role})


# -- posts -----------------------------------------------------------------------------------

@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def position_list(request):
    units = selectors.units_managed_by(user=request.user)
    filter_form = UnitFilterForm(request.GET or None, units=units)
    unit = filter_form.cleaned_data.get("unit") if filter_form.is_valid() else None
    form = PositionForm(request.POST or None, units=units,
                        initial={"org_unit": unit.pk} if unit else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            position = services.position_create(
                actor=request.user, org_unit=data["org_unit"], name=data["name"],
                roles=list(data["roles"]),
            )
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("岗位“%(name)s”已创建。") % {"name": str(position)})
            return redirect(f"{reverse('accounts:admin-positions')}?unit={position.org_unit_id}")
    page = cheap_page(selectors.position_list(user=request.user, unit=unit),
                      request.GET.get("page"))
    return render(request, "accounts/admin_position_list.html",
                  {"filter_form": filter_form, "form": form, "page": page})


# -- assignments -----------------------------------------------------------------------------

@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def assignment_list(request):
    units = selectors.units_managed_by(user=request.user)
    positions = selectors.positions_grantable_by(user=request.user)
    filter_form = UnitFilterForm(request.GET or None, units=units)
    unit, username = None, ""
    if filter_form.is_valid():
        unit, username = filter_form.cleaned_data["unit"], filter_form.cleaned_data["username"]
    form = AssignmentGrantForm(request.POST or None, positions=positions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subject = selectors.user_get_by_username_for_admin(
                user=request.user, username=data["username"]
            )
            services.assignment_grant(actor=request.user, user=subject,
                                      position=data["position"], note=data["note"])
        except NotFound:
            form.add_error("username", _("找不到该用户，或不在您的管理范围内。"))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已为“%(user)s”任命岗位“%(post)s”。")
                             % {"user": subject.username, "post": str(data["position"])})
            return redirect(_back(request, "accounts:admin-assignments"))
    page = cheap_page(
        selectors.assignment_list(user=request.user, unit=unit, username=username),
        request.GET.get("page"),
    )
    return render(request, "accounts/admin_assignment_list.html",
                  {"filter_form": filter_form, "form": form, "page": page})


def _back(request, default_name: str) -> str:
    back = request.POST.get("back", "")
    if back.startswith("/accounts/admin/") and "//" not in back:
        return back
    return reverse(default_name)


@perm_required(MANAGE)
@require_POST
def assignment_end(request, pk):
    assignment = or_404(selectors.assignment_get_for_admin, user=request.user, pk=pk)
    try:
        services.assignment_end(actor=request.user, assignment=assignment)
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("已结束“%(user)s”在“%(post)s”的任职。")
                         % {"user": assignment.user.username, "post": str(assignment.position)})
    return redirect(_back(request, "accounts:admin-assignments"))


@perm_required(MANAGE)
@require_POST
def assignment_move(request, pk):
    assignment = or_404(selectors.assignment_get_for_admin, user=request.user, pk=pk)
    form = AssignmentMoveForm(request.POST,
                              positions=selectors.positions_grantable_by(user=request.user))
    if not form.is_valid():
        messages.error(request, _("请选择要调往的岗位。"))
        return redirect(_back(request, "accounts:admin-assignments"))
    try:
        services.assignment_move(actor=request.user, assignment=assignment,
                                 position=form.cleaned_data["position"])
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("“%(user)s”已调岗至“%(post)s”。")
                         % {"user": assignment.user.username,
                            "post": str(form.cleaned_data["position"])})
    return redirect(_back(request, "accounts:admin-assignments"))



# -- API tokens ------------------------------------------------------------------------------

@perm_required(MANAGE)
def token_list(request):
    """The live API tokens of the users in the admin's scope, to revoke a lost or misused one."""
    form = TokenSearchForm(request.GET or None)
    username = form.cleaned_data["q"] if form.is_valid() else ""
    page = cheap_page(selectors.tokens_visible_to(user=request.user, username=username),
                      request.GET.get("page"))
    return render(request, "accounts/admin_token_list.html", {"form": form, "page": page})


@perm_required(MANAGE)
@require_POST
def token_revoke(request, pk):
    token = or_404(selectors.token_get_for_admin, user=request.user, pk=pk)
    try:
        services.api_token_revoke_for_user(actor=request.user, token=token)
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("已吊销用户“%(name)s”的令牌“%(token)s”。")
                         % {"name": token.user.username, "token": token.name})
    return redirect("accounts:admin-tokens")
