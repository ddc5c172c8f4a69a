"""Forms of the visit pages. They only parse input: every rule is checked by the services,
whose Chinese messages are put back next to what the user typed.

The visit form is plain HTML with repeating rows (``household-0-name``, ``incomes-1-monthly``
…) that the page's script can add and remove; ``visit_data_from_post`` turns the POST into the
same dict the API sends to ``visit_submit``, and ``input_errors`` maps the service's field names
(``profile.household.0.age``) back to the inputs (``household-0-age``).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.core.errors import ServiceError
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit
from unionaid.visits import profile as profilelib
from unionaid.visits.models import (
    FollowUpStatus,
    HardshipCause,
    HousingKind,
    NeedKind,
    Satisfaction,
    VisitCampaign,
    VisitKind,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# Repeating rows of the visit form: their inputs, and how many blank rows a page shows.
ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "household": ("name", "relation", "age", "health", "schooling", "occupation"),
    "incomes": ("source", "monthly", "note"),
    "schooling": ("name", "stage", "annual_cost", "private"),
    "needs": ("kind", "note"),
    "follow_ups": ("title", "owner_id", "due_on"),
}
MIN_ROWS = {"household": 3, "incomes": 2, "schooling": 1, "needs": 1, "follow_ups": 1}
MAX_ROW_INDEX = 99
CHECKBOX_ROW_FIELDS = {"private"}
ROW_RE = re.compile(r"^(household|incomes|schooling|needs|follow_ups)-(\d{1,2})-([a-z_]+)$")

# The ways a worker's consent is given; stored as the text itself (Consent.method).
CONSENT_METHODS = [
    ("书面签字", _("书面签字")),
    ("当面口头同意", _("当面口头同意")),
    ("电话确认", _("电话确认")),
]

SIMPLE_FIELDS = ("kind", "member_id", "visited_unit_id", "campaign_id", "pairing_id",
                 "visited_on", "visitors", "place", "summary", "satisfaction")
PROFILE_SCALARS = {
    "housing": ("kind", "homes", "area", "note"),
    "health": ("major_illness", "chronic", "disability", "note"),
    "expenses": ("medical_annual", "schooling_annual", "other_rigid_annual"),
    "sudden_loss": ("kind", "amount", "note"),
    "business": ("owns_business", "employees"),
}
PROFILE_CHECKBOXES = {"health_major_illness", "health_chronic", "health_disability",
                      "business_owns_business"}


def _is_blank(value) -> bool:
    return value in (None, "", False)


def rows_from_post(post, prefix: str) -> list[dict[str, str]]:
    """The non-blank rows of one repeating section, in index order (gaps left by rows removed
    on the page are skipped)."""
    found: dict[int, dict[str, str]] = {}
    for key in post:
        match = ROW_RE.match(key)
        if not match or match.group(1) != prefix or match.group(3) not in ROW_FIELDS[prefix]:
            continue
        index = int(match.group(2))
        if index <= MAX_ROW_INDEX:
            found.setdefault(index, {})[match.group(3)] = post.get(key, "").strip()
    rows = []
    for index in sorted(found):
        row = {name: found[index].get(name, "") for name in ROW_FIELDS[prefix]}
        for name in CHECKBOX_ROW_FIELDS & set(row):
            row[name] = bool(row[name])
        if any(not _is_blank(v) for v in row.values()):
            rows.append(row)
    return rows


def profile_from_post(post) -> dict[str, Any] | None:
    """The six-clear profile as typed, or None when nothing of it was filled in."""
    profile: dict[str, Any] = {
        "household": rows_from_post(post, "household"),
        "incomes": rows_from_post(post, "incomes"),
        "schooling": rows_from_post(post, "schooling"),
        "causes": [c for c in post.getlist("causes") if c],
    }
    for group, names in PROFILE_SCALARS.items():
        profile[group] = {}
        for name in names:
            key = f"{group}_{name}"
            profile[group][name] = (bool(post.get(key)) if key in PROFILE_CHECKBOXES
                                    else post.get(key, "").strip())
    filled = (profile["household"] or profile["incomes"] or profile["schooling"]
              or profile["causes"]
              or any(not _is_blank(v) for group in PROFILE_SCALARS
                     for v in profile[group].values()))
    return profile if filled else None


def visit_data_from_post(post) -> dict[str, Any]:
    """The dict ``visit_submit`` takes, from the visit form's POST."""
    data: dict[str, Any] = {name: post.get(name, "").strip() for name in SIMPLE_FIELDS}
    data["kind"] = data["kind"] or VisitKind.HOME
    data["hardship_found"] = bool(post.get("hardship_found"))
    data["profile"] = profile_from_post(post)
    data["consent"] = {"health": bool(post.get("consent_health")),
                       "children": bool(post.get("consent_children")),
                       "method": post.get("consent_method", "").strip()}
    data["needs"] = rows_from_post(post, "needs")
    data["follow_ups"] = rows_from_post(post, "follow_ups")
    return data


def input_name(service_field: str) -> str:
    """``profile.household.0.age`` → ``household-0-age``; ``consent.health`` →
    ``consent_health``; ``profile.housing.kind`` → ``housing_kind``."""
    parts = service_field.split(".")
    if parts[0] == "profile" and len(parts) > 1:
        parts = parts[1:]
    if len(parts) == 3 and parts[1].isdigit():
        return f"{parts[0]}-{parts[1]}-{parts[2]}"
    return "_".join(parts)


def input_errors(exc: ServiceError) -> dict[str, str]:
    return {input_name(k): str(v) for k, v in (exc.fields or {}).items()}


def form_rows(data: dict[str, Any], errors: dict[str, str]) -> dict[str, list[dict]]:
    """Rows for the template: what was typed (or pre-filled), padded with blank rows, each with
    its index and its errors."""
    profile = data.get("profile") or {}
    source = {"household": profile.get("household") or [],
              "incomes": profile.get("incomes") or [],
              "schooling": profile.get("schooling") or [],
              "needs": data.get("needs") or [], "follow_ups": data.get("follow_ups") or []}
    rows = {}
    for prefix, typed in source.items():
        padded = [*typed, *({} for _ in range(max(0, MIN_ROWS[prefix] - len(typed))))]
        if prefix not in ("needs", "follow_ups") and typed:
            padded.append({})  # one spare row after what was typed
        rows[prefix] = [
            {"index": i, "values": {name: row.get(name, "") for name in ROW_FIELDS[prefix]},
             "errors": {name: errors.get(f"{prefix}-{i}-{name}", "")
                        for name in ROW_FIELDS[prefix]}}
            for i, row in enumerate(padded)
        ]
    return rows


def choice_lists() -> dict[str, list[tuple[str, str]]]:
    """The options of the visit form's selects."""
    return {
        "relations": list(profilelib.RELATIONS.items()),
        "health": list(profilelib.HEALTH.items()),
        "stages": list(profilelib.STAGES.items()),
        "income_sources": list(profilelib.INCOME_SOURCES.items()),
        "sudden_kinds": list(profilelib.SUDDEN_KINDS.items()),
        "housing": HousingKind.choices,
        "causes": HardshipCause.choices,
        "need_kinds": NeedKind.choices,
        "satisfaction": Satisfaction.choices,
        "consent_methods": CONSENT_METHODS,
    }


# -- small forms --------------------------------------------------------------------------------

HARDSHIP_CHOICES = [("", _("全部")), ("1", _("发现困难")), ("0", _("未发现困难"))]


class VisitFilterForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("走访行动"), required=False,
                                      queryset=VisitCampaign.objects.none(),
                                      empty_label=_("全部行动"))
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("单位（含下级）"),
                           required=False, empty_label=_("全部单位"))
    date_from = forms.DateField(label=_("走访日期自"), required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("至"), required=False, widget=DATE_WIDGET)
    hardship = forms.ChoiceField(label=_("困难情况"), required=False, choices=HARDSHIP_CHOICES)

    def __init__(self, *args, units, levels, campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].levels = levels
        self.fields["campaign"].queryset = campaigns


class NeedToApplicationForm(forms.Form):
    item = forms.ModelChoiceField(label=_("帮扶项目"), queryset=None,
                                  empty_label=_("请选择当前受理的帮扶项目"))
    consent = forms.BooleanField(
        label=_("职工已同意由工会代为申请，并同意使用其家庭情况预填申请"),
        error_messages={"required": _("须征得职工同意后才能代为申请。")})
    consent_method = forms.ChoiceField(label=_("同意方式"), choices=CONSENT_METHODS)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = items
        self.fields["item"].label_from_instance = lambda i: f"{i.category.name} · {i.name}"


class NeedToFollowUpForm(forms.Form):
    title = forms.CharField(label=_("跟进事项"), max_length=200, required=False,
                            help_text=_("留空则用需求说明。"))
    owner = forms.TypedChoiceField(label=_("责任人"), coerce=int, choices=())
    due_on = forms.DateField(label=_("办理期限"), widget=DATE_WIDGET)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(u.pk, u.display_name) for u in owners]


class PhotoForm(forms.Form):
    photo = forms.FileField(label=_("照片"), widget=forms.ClearableFileInput(
        attrs={"accept": "image/*", "capture": "environment"}))


FOLLOW_UP_FILTERS = [("mine", _("我负责的")), ("all", _("管辖范围内全部"))]
FOLLOW_UP_STATUS = [("", _("全部状态")), *FollowUpStatus.choices]
