"""Back-office pages for visit campaigns (走访行动): the list, the create/edit form, the
dashboard with its pairings, and pairing a cadre with a unit or a household.

Campaigns and pairings are loaded through ``visits.selectors.campaigns`` only: out of scope is a
404, and a cadre sees only the pairings and figures of their own scope (and their own pairings).
Organising (create, edit, close, pair) needs ``visits.campaign`` over the campaign's unit.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.members.selectors import member_get_for_user
from unionaid.org.selectors import level_names, units_visible_to
from unionaid.visits.forms.campaigns import (
    CADRE_CHOICES_SHOWN,
    CampaignFilterForm,
    CampaignForm,
    PairingForm,
)
from unionaid.visits.models import CampaignStatus
from unionaid.visits.selectors import campaigns as selectors
from unionaid.visits.services import campaigns as services

VIEW = "visits.view"
CAMPAIGN_PERM = "visits.campaign"
CADRE_ROWS_SHOWN = 100


def _require(request, perm: str) -> None:
    if not access_for(request.user).has_perm(perm):
        raise Http404()


def _get(request, pk):
    return or_404(selectors.campaign_get_for_user, user=request.user, pk=pk)


def _get_managed(request, pk):
    campaign = _get(request, pk)
    if not selectors.can_manage(request.user, campaign):
        raise Http404()
    return campaign


def _unit_choices(user):
    return units_visible_to(user=user, perm=CAMPAIGN_PERM).filter(is_closed=False).order_by("path")


@login_required
def campaign_list(request):
    user = request.user
    _require(request, VIEW)
    form = CampaignFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    campaigns = selectors.campaign_list(user=user, status=filters.get("status", ""),
                                        query=filters.get("q", ""))
    page = cheap_page(campaigns, request.GET.get("page"))
    carried = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "visits/campaign_list.html", {
        "form": form, "page": page, "page_base": urlencode(carried),
        "can_create": access_for(user).has_perm(CAMPAIGN_PERM),
    })


def _campaign_fields(data) -> dict:
    return {k: data[k] for k in ("name", "starts_on", "ends_on", "target_units",
                                 "target_workers", "description")} | {
        "covered_units": list(data["covered_units"])}


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request):
    _require(request, CAMPAIGN_PERM)
    user = request.user
    form = CampaignForm(request.POST or None, units=_unit_choices(user), levels=level_names())
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(actor=user, org_unit=form.cleaned_data["org_unit"],
                                                **_campaign_fields(form.cleaned_data))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已创建走访行动，请添加结对。"))
            return redirect("visits:campaign-detail", pk=campaign.pk)
    return render(request, "visits/campaign_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request, pk: int):
    campaign = _get_managed(request, pk)
    if campaign.status == CampaignStatus.CLOSED:
        messages.error(request, _("走访行动已结束，不能再修改。"))
        return redirect("visits:campaign-detail", pk=campaign.pk)
    initial = {"name": campaign.name, "starts_on": campaign.starts_on,
               "ends_on": campaign.ends_on, "target_units": campaign.target_units,
               "target_workers": campaign.target_workers, "description": campaign.description,
               "covered_units": list(campaign.covered_units.all())}
    form = CampaignForm(request.POST or None, units=_unit_choices(request.user),
                        levels=level_names(), editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(actor=request.user, campaign=campaign,
                                     **_campaign_fields(form.cleaned_data))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("visits:campaign-detail", pk=campaign.pk)
    return render(request, "visits/campaign_form.html", {"form": form, "campaign": campaign})


@login_required
def campaign_detail(request, pk: int):
    user = request.user
    campaign = _get(request, pk)
    board = selectors.campaign_dashboard(user=user, campaign=campaign)
    show_all = request.GET.get("cadres") == "all"
    query = request.GET.get("q", "").strip()[:50]
    pairings = cheap_page(selectors.pairing_list(user=user, campaign=campaign, query=query),
                          request.GET.get("page"))
    carried = {k: v for k, v in request.GET.items() if k != "page" and v}
    manage = selectors.can_manage(user, campaign)
    return render(request, "visits/campaign_detail.html", {
        "campaign": campaign, "board": board,
        "cadre_rows": board.cadres if show_all else board.cadres[:CADRE_ROWS_SHOWN],
        "cadres_cut": not show_all and len(board.cadres) > CADRE_ROWS_SHOWN,
        "my_pairings": selectors.my_pairings(user=user, campaign=campaign),
        # the visit form (visit recording); ?pairing=<id> fills in the household or unit
        "visit_new_url": reverse("visits:visit-create"), "page": pairings, "page_base": urlencode(carried),
        "query": query, "can_manage": manage,
        "is_open": campaign.status != CampaignStatus.CLOSED,
        "covered": selectors.covered_units_of(campaign),
    })


@login_required
@require_POST
def campaign_close(request, pk: int):
    campaign = _get_managed(request, pk)
    try:
        services.campaign_close(actor=request.user, campaign=campaign)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("走访行动已结束。"))
    return redirect("visits:campaign-detail", pk=campaign.pk)


# -- pairings ---------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def pairing_add(request, pk: int):
    """?cq= narrows the cadre list; ?member=<id> picks the household. The member search is a
    POST (action=member-search), so an ID number or phone typed there stays out of URLs."""
    user = request.user
    campaign = _get_managed(request, pk)
    if campaign.status == CampaignStatus.CLOSED:
        messages.error(request, _("走访行动已结束，不能再添加结对。"))
        return redirect("visits:campaign-detail", pk=campaign.pk)
    covered = selectors.covered_units_of(campaign)
    searching = request.method == "POST" and request.POST.get("action") == "member-search"
    cadre_query = request.GET.get("cq", "").strip()[:50]
    member_query = request.POST.get("mq", "").strip()[:50] if searching else ""
    cadres = selectors.eligible_cadres(actor=user, campaign=campaign)
    shown = list(selectors.eligible_cadres(actor=user, campaign=campaign, query=cadre_query)
                 [:CADRE_CHOICES_SHOWN])
    picked_id = request.GET.get("member") if searching else (
        request.POST.get("member") or request.GET.get("member"))
    picked = None
    if picked_id:
        try:
            picked = member_get_for_user(user=user, pk=picked_id, perm=CAMPAIGN_PERM)
        except NotFound:
            picked = None
    initial = {"member": picked.pk if picked else None,
               "kind": "household" if picked else "unit"}
    bound = request.POST if request.method == "POST" and not searching else None
    form = PairingForm(bound, cadres=cadres, cadre_choices=shown,
                       units=selectors.pairing_target_units(user=user, campaign=campaign,
                                                            covered=covered),
                       levels=level_names(), initial=initial)
    if bound is not None and form.is_valid():
        data = form.cleaned_data
        household = data["kind"] == "household"
        if household and picked is None:
            form.add_error(None, _("请先查找并选择联系户（职工）。"))
        else:
            try:
                services.pairing_add(
                    actor=user, campaign=campaign, cadre=data["cadre"], kind=data["kind"],
                    target_unit=None if household else data["target_unit"],
                    member=picked if household else None, note=data["note"])
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, _("已添加结对。"))
                return redirect("visits:campaign-detail", pk=campaign.pk)
    members = selectors.pairing_member_search(user=user, campaign=campaign, query=member_query,
                                              covered=covered)
    return render(request, "visits/pairing_form.html", {
        "campaign": campaign, "form": form, "cadre_query": cadre_query,
        "member_query": member_query, "searched": searching, "members": members,
        "picked": picked, "cadres_cut": len(shown) >= CADRE_CHOICES_SHOWN, "covered": covered,
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def pairing_remove(request, pk: int, pairing_pk: int):
    campaign = _get_managed(request, pk)
    pairing = or_404(selectors.pairing_get_for_user, user=request.user, campaign=campaign,
                     pk=pairing_pk)
    try:
        services.pairing_remove(actor=request.user, campaign=campaign, pairing=pairing)
    except NotFound:
        raise Http404() from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已解除结对。"))
    return redirect("visits:campaign-detail", pk=campaign.pk)
