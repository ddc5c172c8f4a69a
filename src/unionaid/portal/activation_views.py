"""Pages where workers get in (/logins/): phone-first activation, activation with a printed
code, login with an SMS code; and the staff pages around them: printing activation codes for a
班组, linking a staff login to its member record.

What a worker typed never travels in a URL: each step keeps its state in the session (code row
id, keyed hashes, the verified member's id) and redirects to the next step's fixed address."""

from __future__ import annotations

import base64
import datetime as dt
from functools import wraps

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from unionaid.accounts.access import access_for
from unionaid.accounts.views import perm_required
from unionaid.core.context import client_ip
from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import apply_service_error
from unionaid.portal import activation, links
from unionaid.portal.activation_forms import (
    ActivationForm,
    CodeForm,
    LinkForm,
    LoginPasswordForm,
    PhoneForm,
    PrintedCodeForm,
)

STATE = "unionaid_activation"
CODE_LOGIN = "unionaid_code_login"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _form_page(request, form, *, title, intro="", submit, template="portal/activation_form.html",
               status=200, **extra):
    return render(request, template, {"form": form, "title": title, "intro": intro,
                                      "submit": submit, **extra}, status=status)


def _service_error(form, exc: ServiceError) -> int:
    if exc.fields:
        apply_service_error(form, exc)
    else:
        form.add_error(None, exc.message)
    return 429 if isinstance(exc, activation.RateLimited) else 200


def _anonymous_only(view):
    """Pages for people not logged in; a logged-in user goes home."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("web:home")
        return view(request, *args, **kwargs)

    return wrapper


# -- activation with the phone on the roster ------------------------------------------------

@_anonymous_only
@require_http_methods(["GET", "POST"])
def activate(request):
    """Step 1: name, ID number, phone. The same answer whether they match the roster or not."""
    form = ActivationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            challenge = activation.activation_code_send(ip=client_ip(request), **form.cleaned_data)
        except ServiceError as exc:
            status = _service_error(form, exc)
        else:
            request.session[STATE] = {"step": "code", "challenge": challenge.as_session()}
            return redirect("activation:code")
    return _form_page(request, form, title=_("开通职工账号"), status=status,
                      intro=_("请填写姓名、身份证号和工会名册上登记的手机号。信息一致时，我们会向该手机发送短信验证码。"),
                      submit=_("获取验证码"), template="portal/activate_start.html")


@_anonymous_only
@require_http_methods(["GET", "POST"])
def activate_code(request):
    """Step 2: the code from the SMS."""
    state = request.session.get(STATE) or {}
    challenge = activation.Challenge.from_session(state.get("challenge"))
    if state.get("step") != "code" or challenge is None:
        return redirect("activation:start")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            member = activation.activation_code_check(
                challenge=challenge, code=form.cleaned_data["code"], ip=client_ip(request))
        except ServiceError as exc:
            status = _service_error(form, exc)
        else:
            request.session[STATE] = {"step": "password", "member": member.pk,
                                      "verified_at": timezone.now().isoformat(),
                                      "own_phone": True}
            return redirect("activation:password")
    return _form_page(request, form, title=_("输入短信验证码"), status=status,
                      intro=_("如果您填写的信息与工会名册一致，验证码已发到名册上的手机，10分钟内有效。几分钟内没有收到，请核对信息后重新获取；没有本人手机号的职工，请向班组长领取打印的激活码。"),
                      submit=_("下一步"), again=reverse("activation:start"))


def _verified_member_id(request) -> int | None:
    state = request.session.get(STATE) or {}
    if state.get("step") != "password" or not isinstance(state.get("member"), int):
        return None
    try:
        verified_at = dt.datetime.fromisoformat(state["verified_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if timezone.now() - verified_at > activation.VERIFIED_TTL:
        return None
    return state["member"]


@_anonymous_only
@require_http_methods(["GET", "POST"])
def activate_password(request):
    """Step 3: user name and password (or SMS code at each login); then logged in."""
    member_id = _verified_member_id(request)
    if member_id is None:
        request.session.pop(STATE, None)
        messages.info(request, _("验证已过期，请重新开始。"))
        return redirect("activation:start")
    state = request.session[STATE]
    form = LoginPasswordForm(request.POST or None, allow_sms_only=bool(state.get("own_phone")))
    if request.method == "POST" and form.is_valid():
        try:
            user = activation.activation_complete(
                member_id=member_id, username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"], printed_code_id=state.get("printed"))
        except ServiceError as exc:
            if exc.code == "weak_password":
                form.add_error("password1", exc.message)
            elif exc.code == "duplicate_username":
                form.add_error("username", exc.message)
            else:
                _service_error(form, exc)
        else:
            request.session.pop(STATE, None)
            login(request, user, backend=BACKEND)
            messages.success(request, _("账号已开通，欢迎使用。"))
            return redirect("portal:home")
    return _form_page(request, form, title=_("设置登录方式"), submit=_("开通账号"),
                      intro=_("验证通过。请设置用户名和密码。"))


@_anonymous_only
@require_http_methods(["GET", "POST"])
def activate_printed(request):
    """Activation with a code printed by the 班组 cadre (the QR code fills it in from the
    address's #fragment, which never reaches the server)."""
    form = PrintedCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            member, code_id = activation.printed_code_check(ip=client_ip(request),
                                                            **form.cleaned_data)
        except ServiceError as exc:
            status = _service_error(form, exc)
        else:
            request.session[STATE] = {"step": "password", "member": member.pk,
                                      "printed": code_id, "own_phone": False,
                                      "verified_at": timezone.now().isoformat()}
            return redirect("activation:password")
    return _form_page(request, form, title=_("用激活码开通账号"), status=status,
                      intro=_("请输入班组长给您的激活码，以及您的姓名和身份证号。"),
                      submit=_("下一步"), prefill_code=True)


# -- login with an SMS code -----------------------------------------------------------------

@_anonymous_only
@require_http_methods(["GET", "POST"])
def code_login(request):
    form = PhoneForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            challenge = activation.login_code_send(phone=form.cleaned_data["phone"],
                                                   ip=client_ip(request))
        except ServiceError as exc:
            status = _service_error(form, exc)
        else:
            request.session[CODE_LOGIN] = challenge.as_session()
            return redirect("activation:code-login-check")
    return _form_page(request, form, title=_("职工短信验证码登录"), status=status,
                      intro=_("已开通账号、名册上有本人手机号的职工，可以用短信验证码登录。"),
                      submit=_("获取验证码"))


@_anonymous_only
@require_http_methods(["GET", "POST"])
def code_login_check(request):
    challenge = activation.Challenge.from_session(request.session.get(CODE_LOGIN))
    if challenge is None:
        return redirect("activation:code-login")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = activation.login_code_check(challenge=challenge,
                                               code=form.cleaned_data["code"],
                                               ip=client_ip(request))
        except ServiceError as exc:
            status = _service_error(form, exc)
        else:
            request.session.pop(CODE_LOGIN, None)
            login(request, user, backend=BACKEND)
            return redirect("portal:home")
    return _form_page(request, form, title=_("输入短信验证码"), status=status,
                      intro=_("如果该手机号已开通职工账号，验证码已发出，10分钟内有效。"),
                      submit=_("登录"), again=reverse("activation:code-login"))


# -- printing activation codes (cadres) -----------------------------------------------------

def _qr_data_uri(text: str) -> str:
    svg = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


@perm_required(activation.PRINT_PERMISSION)
@require_http_methods(["GET"])
def print_units(request):
    if not access_for(request.user).is_staff_member:  # a worker's own grant covers no unit
        raise Http404()
    return render(request, "portal/print_units.html",
                  {"units": activation.printing_units_for(user=request.user)[:500]})


@perm_required(activation.PRINT_PERMISSION)
@require_http_methods(["GET", "POST"])
def print_sheet(request, unit_pk: int):
    try:
        unit = activation.printing_unit_get(user=request.user, pk=unit_pk)
    except NotFound:
        raise Http404() from None
    if request.method == "POST":
        issued = activation.printed_codes_issue(actor=request.user, unit=unit)
        base = request.build_absolute_uri(reverse("activation:printed"))
        cards = []
        for member, code, expires in issued:
            target = f"{base}#code={code}"  # the code rides in the fragment: never sent
            cards.append({"member": member, "code": code, "expires": expires,
                          "qr_target": target, "qr": _qr_data_uri(target)})
        return render(request, "portal/print_sheet.html",
                      {"unit": unit, "cards": cards, "address": base})
    members = list(activation.members_without_own_phone(unit)[:501])
    return render(request, "portal/print_confirm.html",
                  {"unit": unit, "members": members[:500], "more": len(members) > 500})


# -- linking a staff login to its member (security admin) ----------------------------------

@perm_required(links.MANAGE)
@require_http_methods(["GET", "POST"])
def login_links(request):
    form = LinkForm(request.POST if request.POST.get("action") == "link" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "unlink":
                user_pk = request.POST.get("user", "")
                user = links.login_find_by_pk(pk=user_pk)
                links.login_unlink_member(actor=request.user, user=user)
                messages.success(request, _("已解除“%(user)s”与职工档案的关联。")
                                 % {"user": user.username})
                return redirect("activation:links")
            if form.is_valid():
                user = links.login_find(username=form.cleaned_data["username"])
                member = links.member_find_by_id_number(
                    actor=request.user, id_number=form.cleaned_data["id_number"])
                links.login_link_member(actor=request.user, user=user, member=member)
                messages.success(request, _("已将“%(user)s”关联到职工%(name)s。")
                                 % {"user": user.username, "name": member.name})
                return redirect("activation:links")
        except ServiceError as exc:
            if request.POST.get("action") == "unlink":
                messages.error(request, exc.message)
                return redirect("activation:links")
            _service_error(form, exc)
    return render(request, "portal/login_links.html", {
        "form": form, "linked": links.linked_logins(actor=request.user)[:200],
    })
