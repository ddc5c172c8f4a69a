"""Back-office pages for visit records: the visit ledger with filters, the phone-first visit
form (kept as a draft on the device and sent when the connection is back), a visit's detail
with its profile snapshot, needs turned into work, follow-ups and a member's profile history.

Every record is loaded through ``selectors.records``: out of scope = 404. The visit form posts
the same fields with or without the page's script; the script sends them with ``fetch`` and
the header ``X-Visit-Draft: 1`` and gets JSON back (``{id, url, created}`` or
``{code, message, fields}``), so a failed send can stay queued on the device.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.assistance.selectors import items_available_to
from unionaid.core import masking
from unionaid.core.errors import NotFound, PermissionDenied, ServiceError
from unionaid.core.http import cheap_page, or_404
from unionaid.members.models import ConsentKind
from unionaid.members.selectors import member_get_for_user, member_search
from unionaid.members.services import has_consent
from unionaid.org.selectors import level_names, units_visible_to
from unionaid.visits import detail_context
from unionaid.visits import profile as profilelib
from unionaid.visits.forms import records as forms
from unionaid.visits.models import (
    CampaignStatus,
    HardshipCause,
    HousingKind,
    NeedStatus,
    PairingKind,
    VisitCampaign,
    VisitKind,
)
from unionaid.visits.selectors import records as selectors
from unionaid.visits.selectors.campaigns import (
    campaign_get_for_user,
    campaigns_visible_to,
    pairing_get_for_user,
)
from unionaid.visits.selectors.profiles import Purpose, latest_profile, profile_for, profiles_for
from unionaid.visits.services import followups as followup_services
from unionaid.visits.services import needs as need_services
from unionaid.visits.services import visits as visit_services

VIEW = "visits.view"
RECORD = "visits.record"


def _require(request, perm: str) -> None:
    if not access_for(request.user).has_perm(perm):
        raise Http404()


# -- the visit ledger -------------------------------------------------------------------------

@login_required
def visit_list(request):
    _require(request, VIEW)
    user = request.user
    form = forms.VisitFilterForm(
        request.GET or None, units=units_visible_to(user=user, perm=VIEW).order_by("path"),
        levels=level_names(), campaigns=VisitCampaign.objects.order_by("-starts_on", "-id"))
    filters = {}
    if form.is_bound:
        form.is_valid()  # an invalid filter shows on the form; the valid ones still apply
        filters = form.cleaned_data
    member = None
    if request.GET.get("member"):
        member = or_404(member_get_for_user, user=user, pk=request.GET["member"], perm=VIEW)
    hardship = {"1": True, "0": False}.get(filters.get("hardship") or "")
    results = selectors.visits_visible_to(
        user=user, campaign=filters.get("campaign"), unit=filters.get("unit"), member=member,
        date_from=filters.get("date_from"), date_to=filters.get("date_to"),
        hardship_found=hardship)
    page = cheap_page(results, request.GET.get("page"))
    carried = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "visits/visit_list.html", {
        "form": form, "page": page, "page_base": urlencode(carried), "member": member,
        "can_record": access_for(user).has_perm(RECORD),
        # on a phone the filters fold away unless one is in use (or wrong)
        "filters_open": bool(form.errors) or any(request.GET.get(n) for n in form.fields),
    })


# -- the visit form ---------------------------------------------------------------------------

def _age(birth: dt.date | None) -> int | str:
    if birth is None:
        return ""
    today = timezone.localdate()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def prefill_profile(member, *, user) -> dict:
    """The latest snapshot to start from (a visit records how the household is now), as
    ``profile_for`` gives it for recording (names in clear, withheld parts left out: the form
    shows them empty), or just the member as "本人"."""
    view = profile_for(reader=user, member_or_visit=member, purpose=Purpose.RECORD)
    if view is None:
        return {"household": [{"name": member.name, "relation": "self",
                               "age": _age(member.birth_date), "health": "healthy"}]}
    data = view.as_dict()
    # a form has no row for a withheld child: it is entered again once consented to
    data["household"] = [p for p in data["household"] if not p.get("withheld")]
    return data


def open_campaigns(*, user, unit) -> list[VisitCampaign]:
    """The running campaigns (in progress today) whose area covers ``unit``: the ones a visit
    there counts towards. The area is the covered units, or the campaign's own unit."""
    if unit is None:
        return []
    today = timezone.localdate()
    campaigns = (campaigns_visible_to(user=user)
                 .filter(status=CampaignStatus.ACTIVE, starts_on__lte=today, ends_on__gte=today)
                 .prefetch_related("covered_units").order_by("-starts_on", "-pk"))
    found = []
    for campaign in campaigns:
        roots = [u.path for u in campaign.covered_units.all()] or [campaign.org_unit.path]
        if any(unit.path.startswith(root) for root in roots):
            found.append(campaign)
    return found


def _initial_data(request) -> dict:
    """The form's starting values from ?member=, ?pairing=, ?campaign=, ?kind=. Without a
    campaign, a visit in the area of exactly one running campaign starts in that campaign
    (the cadre can choose "none"), so the campaign's figures count it."""
    user = request.user
    data: dict = {"kind": request.GET.get("kind") or VisitKind.HOME,
                  "visited_on": timezone.localdate().isoformat(),
                  "visitors": user.display_name, "needs": [], "follow_ups": []}
    if data["kind"] not in VisitKind.values:
        data["kind"] = VisitKind.HOME
    if request.GET.get("pairing"):
        pairing = or_404(pairing_get_for_user, user=user, pk=request.GET["pairing"])
        data.update(pairing_id=pairing.pk, campaign_id=pairing.campaign_id)
        if pairing.kind == PairingKind.HOUSEHOLD:
            data.update(kind=VisitKind.HOME, member_id=pairing.member_id)
        else:
            data.update(kind=VisitKind.WORKPLACE, visited_unit_id=pairing.target_unit_id)
    if request.GET.get("campaign") and not data.get("campaign_id"):
        data["campaign_id"] = request.GET["campaign"]
    if request.GET.get("member") and not data.get("member_id"):
        data["member_id"] = request.GET["member"]
    if data.get("member_id"):
        member = or_404(member_get_for_user, user=user, pk=data["member_id"], perm=RECORD)
        data["profile"] = prefill_profile(member, user=user)
        if not data.get("campaign_id"):
            running = open_campaigns(user=user, unit=member.org_unit)
            if len(running) == 1:
                data["campaign_id"] = running[0].pk
    return data


def _form_context(request, data: dict, errors: dict, message: str = "") -> dict:
    user = request.user
    member = unit = campaign = pairing = None
    if data.get("member_id"):
        member = or_404(member_get_for_user, user=user, pk=data["member_id"], perm=RECORD)
    if data.get("visited_unit_id"):
        unit = units_visible_to(user=user, perm=RECORD).filter(
            pk=data["visited_unit_id"] if str(data["visited_unit_id"]).isdigit() else 0).first()
    if str(data.get("campaign_id") or "").isdigit():
        campaign = or_404(campaign_get_for_user, user=user, pk=data["campaign_id"])
    if str(data.get("pairing_id") or "").isdigit():
        pairing = or_404(pairing_get_for_user, user=user, pk=data["pairing_id"])
    target_unit = member.org_unit if member else unit
    consents = {}
    if member is not None:
        consents = {kind: has_consent(member, kind) for kind in ConsentKind.values}
    profile = data.get("profile") or {}
    return {
        "data": data, "errors": errors, "message": message, "member": member,
        "campaign_choices": (open_campaigns(user=user, unit=target_unit)
                             if pairing is None else []),
        "has_previous_profile": (member is not None
                                 and latest_profile(member) is not None),
        # what makes a profile need the health consent, for the form's script to ask in time
        "health_causes": " ".join(sorted(profilelib.HEALTH_CAUSES)),
        "health_loss_kinds": " ".join(sorted(profilelib.HEALTH_LOSS_KINDS)),
        "visited_unit": unit, "campaign": campaign, "pairing": pairing,
        "rows": forms.form_rows(data, errors), "choices": forms.choice_lists(),
        "blank_row": {"index": "__i__", "values": {}, "errors": {}},
        "profile": {k: profile.get(k) or {} for k in forms.PROFILE_SCALARS},
        "causes_checked": set(profile.get("causes") or []),
        "consents": consents,
        "consent": data.get("consent") or {},
        "owners": (selectors.follow_up_owner_choices(unit=target_unit)
                   if member is not None else []),
        "client_uuid": str(data.get("client_uuid") or uuid.uuid4()),
        "units": (units_visible_to(user=user, perm=RECORD).filter(is_closed=False)
                  .order_by("path") if data.get("kind") == VisitKind.WORKPLACE and unit is None
                  else []),
        "levels": level_names(),
        "today": timezone.localdate().isoformat(),
    }


def _chooser(request):
    """No target yet: find the member to visit (name prefix, ID number or phone), or go to a
    workplace visit. The search is a POST (``chooser=1``, the same URL as the visit form), so
    an ID number or phone typed here stays out of URLs, history and logs; a ``q`` in the URL
    is ignored."""
    query = request.POST.get("q", "").strip()[:50] if request.method == "POST" else ""
    members = member_search(user=request.user, query=query, perm=RECORD)[:20] if query else []
    campaign_id = request.POST.get("campaign") or request.GET.get("campaign") or ""
    return render(request, "visits/visit_new.html", {
        "query": query, "members": members,
        # an ID number or phone is not echoed back into the page
        "query_shown": "" if masking.looks_like_identifier(query) else query,
        "campaign_id": campaign_id if str(campaign_id).isdigit() else "",
    })


def _wants_json(request) -> bool:
    return request.headers.get("X-Visit-Draft") == "1"


def _error_json(exc: ServiceError) -> JsonResponse:
    status = 422 if exc.code == "validation_error" else exc.status
    body = {"code": exc.code, "message": exc.message}
    if exc.fields:
        body["fields"] = forms.input_errors(exc)
    return JsonResponse(body, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def visit_create(request):
    _require(request, RECORD)
    if request.method == "GET":
        if not (request.GET.get("member") or request.GET.get("pairing")
                or request.GET.get("kind") == VisitKind.WORKPLACE):
            return _chooser(request)
        data = _initial_data(request)
        return render(request, "visits/visit_form.html", _form_context(request, data, {}))
    if request.POST.get("chooser") == "1":
        return _chooser(request)
    data = forms.visit_data_from_post(request.POST)
    client_uuid = request.POST.get("client_uuid", "")
    try:
        # out of scope: 404 with its journal entry committed (not rolled back with the submit)
        visit_services.visit_target_check(actor=request.user, data=data)
        visit, created = visit_services.visit_submit(
            actor=request.user, client_uuid=client_uuid, data=data,
            photos=request.FILES.getlist("photos"))
    except ServiceError as exc:
        if _wants_json(request):
            return _error_json(exc)
        if isinstance(exc, NotFound):
            raise Http404() from None
        data["client_uuid"] = client_uuid
        context = _form_context(request, data, forms.input_errors(exc), exc.message)
        return render(request, "visits/visit_form.html", context, status=exc.status)
    url = reverse("visits:visit-detail", kwargs={"pk": visit.pk})
    if _wants_json(request):
        return JsonResponse({"id": visit.pk, "url": url, "created": created},
                            status=201 if created else 200)
    if created:
        messages.success(request, _("走访记录已保存。"))
    else:
        messages.info(request, _("这份走访此前已提交成功，没有重复保存。"))
    return redirect(url)


# -- a visit ----------------------------------------------------------------------------------

def _label(choices: dict, value) -> str:
    return str(choices.get(value, value or "—"))


def profile_display(*, user, view, member) -> dict | None:
    """A snapshot for the screen, as ``profile_for`` gives it (the consent rule applied there:
    withheld parts are absent, ``None`` or marked ``withheld``): labels and amounts for the
    template. The free-text health note is only ever shown through the journaled reveal."""
    if view is None:
        return None
    data = view.data
    household = []
    for person in data["household"]:
        if person.get("withheld"):
            household.append({"hidden": True})
            continue
        household.append({
            "hidden": False, "name": person["name"],
            "relation": _label(profilelib.RELATIONS, person["relation"]),
            "age": person["age"],
            "health": _label(profilelib.HEALTH, person["health"]) if "health" in person else None,
            "schooling": (_label(profilelib.STAGES, person["schooling"])
                          if person["schooling"] else ""),
            "occupation": person["occupation"],
        })
    housing = data["housing"]
    loss = data["sudden_loss"]
    return {
        "profile": view, "health_ok": view.health_ok, "children_ok": view.children_ok,
        "household": household,
        "incomes": [{"source": _label(profilelib.INCOME_SOURCES, i["source"]),
                     "monthly": Decimal(i["monthly"]), "note": i["note"]}
                    for i in data["incomes"]],
        "housing": {**housing, "kind_label": _label(dict(HousingKind.choices), housing["kind"])
                    if housing["kind"] else "—"},
        "causes": [_label(dict(HardshipCause.choices), c) for c in data["causes"]],
        "health": data["health"],
        "schooling": [
            {"name": s["name"], "stage": _label(profilelib.STAGES, s["stage"]),
             "annual_cost": Decimal(s["annual_cost"]), "private": s["private"]}
            for s in data["schooling"]],
        "expenses": {k: Decimal(v) for k, v in data["expenses"].items()},
        "sudden_loss": loss and {**loss, "kind_label": _label(profilelib.SUDDEN_KINDS,
                                                             loss["kind"]),
                                 "amount": Decimal(loss["amount"])},
        "business": data["business"],
        "can_reveal": access_for(user).covers_unit("members.reveal", member.org_unit),
    }


@login_required
def visit_detail(request, pk: int):
    visit = or_404(selectors.visit_get_for_user, user=request.user, pk=pk)
    access = access_for(request.user)
    can_record = access.covers_unit(RECORD, visit.org_unit)
    needs = list(visit.needs.all())
    open_needs = [n for n in needs if n.status == NeedStatus.OPEN]
    profile = profile_for(reader=request.user, member_or_visit=visit, purpose=Purpose.VIEW)
    owners = []
    if can_record and visit.member_id and open_needs:
        owners = selectors.follow_up_owner_choices(unit=visit.member.org_unit)
    return render(request, "visits/visit_detail.html", {
        "visit": visit, "profile_view": profile_display(user=request.user, view=profile,
                                        member=visit.member),
        "needs": sorted(needs, key=lambda n: n.pk),
        "follow_ups": sorted(visit.follow_ups.all(), key=lambda f: (f.status != "open", f.due_on)),
        "photos": sorted(visit.photos.all(), key=lambda p: p.pk),
        "can_record": can_record,
        "can_apply": bool(visit.member_id) and access.covers_unit("assistance.apply",
                                                                  visit.org_unit),
        "owners": owners or [request.user],
        "default_due": timezone.localdate() + dt.timedelta(days=14),
        "photo_form": forms.PhotoForm(),
        "today": timezone.localdate(),
        # what domains above visits add about the member (the archive's "archive" entry)
        **detail_context.member_context(user=request.user, member=visit.member),
    })


@login_required
@require_POST
@never_cache
def profile_health_reveal(request, pk: int):
    """htmx: a snapshot's health note in clear, journaled by the service."""
    profile = or_404(selectors.profile_get_for_user, user=request.user, pk=pk)
    context = {"field": f"profile-health-{profile.pk}", "masked": _("已登记")}
    status = 200
    try:
        context["value"] = visit_services.profile_health_note_reveal(actor=request.user,
                                                                     profile=profile)
    except PermissionDenied as exc:
        context["error"] = exc.message
        status = 403
    template = ("members/_reveal_result.html" if request.headers.get("HX-Request")
                else "members/reveal_page.html")
    return render(request, template, {**context, "member": profile.member}, status=status)


# -- needs become work ------------------------------------------------------------------------

def _need(request, pk: int):
    need = or_404(selectors.need_get_for_user, user=request.user, pk=pk)
    if not access_for(request.user).covers_unit(RECORD, need.visit.org_unit):
        raise Http404()
    return need


def _back(need):
    return redirect("visits:visit-detail", pk=need.visit_id)


@login_required
@require_http_methods(["GET", "POST"])
def need_to_application(request, pk: int):
    need = _need(request, pk)
    member = need.visit.member
    if member is None or need.status != NeedStatus.OPEN:
        messages.error(request, _("该需求不能转为帮扶申请（已转办或没有对应职工）。"))
        return _back(need)
    items = items_available_to(member)
    form = forms.NeedToApplicationForm(request.POST or None, items=items)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            application = need_services.need_to_application(
                actor=request.user, need=need, item=form.cleaned_data["item"],
                consent_method=form.cleaned_data["consent_method"])
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, _("已按家庭情况生成申请草稿，请核对事项、上传材料后提交。"))
            return redirect("assistance:application-detail", pk=application.pk)
    fitting, others = need_services.items_by_fit(member=member, items=items)
    chosen = str(form["item"].value() or "")
    return render(request, "visits/need_application.html", {
        "need": need, "member": member, "form": form, "error": error,
        "fitting": fitting, "others": others, "chosen": chosen,
        "others_open": any(str(row["item"].pk) == chosen for row in others),
    }, status=400 if error or form.errors else 200)


@login_required
@require_POST
def need_to_follow_up(request, pk: int):
    need = _need(request, pk)
    owners = (selectors.follow_up_owner_choices(unit=need.visit.member.org_unit)
              if need.visit.member_id else [])
    form = forms.NeedToFollowUpForm(request.POST, owners=owners)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return _back(need)
    owner = get_user_model().objects.filter(pk=form.cleaned_data["owner"]).first()
    try:
        need_services.need_to_follow_up(actor=request.user, need=need, owner=owner,
                                        due_on=form.cleaned_data["due_on"],
                                        title=form.cleaned_data["title"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已转为跟进事项。"))
    return _back(need)


@login_required
@require_POST
def need_close(request, pk: int):
    need = _need(request, pk)
    try:
        need_services.need_close(actor=request.user, need=need,
                                 note=request.POST.get("note", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已标记为已解决。"))
    return _back(need)


# -- follow-ups -------------------------------------------------------------------------------

@login_required
def follow_up_list(request):
    _require(request, VIEW)
    show = request.GET.get("show") if request.GET.get("show") in ("mine", "all") else "mine"
    status = request.GET.get("status", "open")
    if status not in ("", "open", "done", "cancelled"):
        status = "open"
    results = selectors.follow_ups_for_user(user=request.user, mine=show == "mine",
                                            status=status or None)
    page = cheap_page(results, request.GET.get("page"))
    return render(request, "visits/followup_list.html", {
        "page": page, "show": show, "status": status,
        "page_base": urlencode({"show": show, "status": status}),
        "filters": forms.FOLLOW_UP_FILTERS, "statuses": forms.FOLLOW_UP_STATUS,
        "today": timezone.localdate(),
    })


@login_required
@require_POST
def follow_up_done(request, pk: int):
    follow_up = or_404(selectors.follow_up_get_for_user, user=request.user, pk=pk)
    try:
        followup_services.follow_up_done(actor=request.user, follow_up=follow_up,
                                         note=request.POST.get("note", ""))
    except NotFound:
        raise Http404() from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("跟进事项已办结。"))
    target = request.POST.get("next", "")
    if target == "visit" and follow_up.visit_id:
        return redirect("visits:visit-detail", pk=follow_up.visit_id)
    return redirect("visits:follow-up-list")


# -- a member's profile history ---------------------------------------------------------------

HISTORY_LIMIT = 100


def _money(value) -> str:
    return f"{value:,.2f}"


def profile_changes(newer, older) -> list[str]:
    """What changed between two snapshots (``ProfileView``s of one reading, the consent
    already applied), from their plain (derived) figures."""
    if older is None:
        return [_("首次登记")]
    lines = []
    if newer.household_size != older.household_size:
        lines.append(_("家庭人口 %(a)s → %(b)s") % {"a": older.household_size,
                                                 "b": newer.household_size})
    for field, label in (("annual_income", _("家庭年收入")), ("rigid_expenses", _("刚性支出")),
                         ("per_capita_monthly", _("人均月收入"))):
        before, after = getattr(older, field), getattr(newer, field)
        if before != after:
            lines.append(_("%(label)s %(a)s → %(b)s 元") % {
                "label": label, "a": _money(before), "b": _money(after)})
    causes = dict(HardshipCause.choices)
    new_codes, old_codes = newer.cause_codes, older.cause_codes
    added = [str(causes.get(c, c)) for c in new_codes if c not in old_codes]
    removed = [str(causes.get(c, c)) for c in old_codes if c not in new_codes]
    if added:
        lines.append(_("新增致困原因：%(c)s") % {"c": "、".join(added)})
    if removed:
        lines.append(_("不再有的致困原因：%(c)s") % {"c": "、".join(removed)})
    if newer.housing != older.housing:
        housing = dict(HousingKind.choices)
        lines.append(_("住房 %(a)s → %(b)s") % {"a": housing.get(older.housing, "—"),
                                              "b": housing.get(newer.housing, "—")})
    if newer.children_in_school != older.children_in_school:
        lines.append(_("在读子女 %(a)s → %(b)s") % {"a": older.children_in_school,
                                                 "b": newer.children_in_school})
    if newer.health_ok and (newer.has_major_illness, newer.has_disability) != (
            older.has_major_illness, older.has_disability):
        lines.append(_("健康状况有变化"))
    return lines or [_("主要指标无变化")]


@login_required
def profile_history(request, member_pk: int):
    _require(request, VIEW)
    member = or_404(member_get_for_user, user=request.user, pk=member_pk, perm=VIEW)
    snapshots = profiles_for(
        reader=request.user, member=member, purpose=Purpose.VIEW,
        profiles=selectors.profiles_for_member(user=request.user, member=member)
        [:HISTORY_LIMIT + 1])
    health_ok = bool(snapshots) and snapshots[0].health_ok
    causes = dict(HardshipCause.choices)
    housing = dict(HousingKind.choices)
    rows = []
    for i, snapshot in enumerate(snapshots[:HISTORY_LIMIT]):
        older = snapshots[i + 1] if i + 1 < len(snapshots) else None
        rows.append({
            "profile": snapshot,
            "causes": [str(causes.get(c, c)) for c in snapshot.cause_codes],
            "housing": housing.get(snapshot.housing, "—"),
            "changes": profile_changes(snapshot, older),
        })
    return render(request, "visits/profile_history.html", {
        "member": member, "rows": rows, "health_ok": health_ok,
        "truncated": len(snapshots) > HISTORY_LIMIT,
        "can_record": access_for(request.user).covers_unit(RECORD, member.org_unit),
    })
