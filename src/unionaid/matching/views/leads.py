"""Pages for leads (线索): the cadre's list with the conversion figures, one lead with its
evidence and the accept / dismiss forms, and (``matching.config``) the lead rules. Thin: parse
input, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.matching.forms import LeadAcceptForm, LeadDismissForm, LeadRuleForm
from unionaid.matching.leads import facts as factlib
from unionaid.matching.leads import selectors, services
from unionaid.matching.models import LeadAction, LeadStatus, ReviewKind
from unionaid.matching.selectors import CONFIG, MANAGE, VIEW

PAGE = 30
TARGET_URLS = {services.TARGET_APPLICATION: "assistance:application-detail",
               services.TARGET_RECORD: "archive:record-detail"}


def _require(user, perm: str) -> None:
    if not access_for(user).has_perm(perm):
        raise Http404()


def target_url(lead) -> str:
    if lead.target_kind == services.TARGET_FOLLOW_UP:
        return reverse("visits:follow-up-list")
    name = TARGET_URLS.get(lead.target_kind)
    return reverse(name, args=[lead.target_id]) if name and lead.target_id else ""


@login_required
@require_GET
def lead_list(request):
    user = request.user
    _require(user, VIEW)
    status = request.GET.get("status", LeadStatus.RAISED)
    if status not in LeadStatus.values:
        status = ""
    page = cheap_page(selectors.leads_visible_to(user=user, status=status or None),
                      request.GET.get("page"), size=PAGE)
    return render(request, "matching/lead_list.html", {
        "page": page, "status": status, "statuses": LeadStatus.choices,
        "figures": selectors.conversion(user=user),
        "can_config": services.may_edit_rules(user),
    })


def _shown_facts(evidence: dict) -> list[tuple[str, object]]:
    facts = evidence.get("facts") or {}
    shown = [(str(factlib.RECORD_FACTS[name]).split("（")[0], facts[name])
             for name in ("amount", "date", "school", "education_level", "event", "homes")
             if facts.get(name)]
    return shown + list((facts.get("extra") or {}).items())


def _detail(request, lead, *, accept_form=None, dismiss_form=None, status=200):
    access = access_for(request.user)
    can_manage = access.covers_unit(MANAGE, lead.member.org_unit)
    needs_owner = lead.rule.action == LeadAction.VISIT or (
        lead.rule.action == LeadAction.REVIEW and lead.rule.review_kind == ReviewKind.RECHECK)
    return render(request, "matching/lead_detail.html", {
        "lead": lead, "evidence": lead.evidence_data, "note": services.evidence_note(lead),
        "shown_facts": _shown_facts(lead.evidence_data), "can_manage": can_manage and
        lead.status == LeadStatus.RAISED, "needs_due": needs_owner,
        "accept_form": accept_form or LeadAcceptForm(),
        "dismiss_form": dismiss_form or LeadDismissForm(), "target_url": target_url(lead),
    }, status=status)


@login_required
@require_GET
def lead_detail(request, pk: int):
    return _detail(request, or_404(selectors.lead_get_for_user, user=request.user, pk=pk))


@login_required
@require_POST
def lead_accept(request, pk: int):
    lead = or_404(selectors.lead_get_for_user, user=request.user, pk=pk, perm=MANAGE)
    form = LeadAcceptForm(request.POST)
    if form.is_valid():
        try:
            lead = services.lead_accept(actor=request.user, lead=lead,
                                        due_on=form.cleaned_data["due_on"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("线索已采纳：%(what)s已创建。") % {
                "what": lead.rule.action_label})
            url = target_url(lead)
            return redirect(url or reverse("matching:lead-detail", args=[lead.pk]))
    return _detail(request, lead, accept_form=form, status=400 if form.errors else 200)


@login_required
@require_POST
def lead_dismiss(request, pk: int):
    lead = or_404(selectors.lead_get_for_user, user=request.user, pk=pk, perm=MANAGE)
    form = LeadDismissForm(request.POST)
    if form.is_valid():
        try:
            services.lead_dismiss(actor=request.user, lead=lead,
                                  reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("线索已排除。"))
            return redirect("matching:lead-list")
    return _detail(request, lead, dismiss_form=form, status=400)


# -- rules -----------------------------------------------------------------------------------------

@login_required
@require_GET
def rule_list(request):
    _require(request.user, VIEW)
    return render(request, "matching/leadrule_list.html", {
        "rules": selectors.lead_rules(),
        "can_config": services.may_edit_rules(request.user),
        "facts": factlib.RECORD_FACTS,
    })


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int | None = None):
    _require(request.user, CONFIG)
    if not services.may_edit_rules(request.user):  # the rules apply to the whole federation
        raise Http404()
    rule = None
    if pk is not None:
        rule = selectors.lead_rule_get(pk=pk)
        if rule is None:
            raise Http404()
    form = LeadRuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_rule_save(actor=request.user, rule=rule, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("线索规则已保存。"))
            return redirect("matching:lead-rule-list")
    return render(request, "matching/leadrule_form.html", {
        "form": form, "rule": rule, "facts": factlib.RECORD_FACTS,
    }, status=400 if form.errors else 200)
