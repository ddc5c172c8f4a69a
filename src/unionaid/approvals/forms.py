"""Forms of the approval pages: a decision, a batch, the flow editor and its preview. They
parse input only; the engine (approvals.services) checks every rule and its Chinese messages
are put back on these forms."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from unionaid.accounts.models import Assignment, User
from unionaid.approvals.models import AssigneeKind
from unionaid.approvals.selectors import TodoFilter
from unionaid.core.masking import looks_like_identifier
from unionaid.core.widgets import FastSelect
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit

DECISIONS = [("approve", _("同意")), ("reject", _("驳回")), ("return", _("退回补充材料"))]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.HiddenInput, error_messages={
        "required": _("请选择同意、退回补充材料或驳回。"),
        "invalid_choice": _("请选择同意、退回补充材料或驳回。")})
    comment = forms.CharField(label=_("审批意见"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("驳回或退回时必须填写意见。"))
    # A rejection ends the case: it is decided only once confirmed (a confirm step on the page,
    # or the browser's confirm where scripts run, which sets this).
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def needs_confirmation(self) -> bool:
        """A reject with its reason, not confirmed yet (without a reason the engine refuses)."""
        data = self.cleaned_data
        return (data.get("decision") == "reject" and bool((data.get("comment") or "").strip())
                and not data.get("confirmed"))


SORT_CHOICES = [("received", _("按收到时间（先收到的在前）")), ("due", _("按办理期限（先到期的在前）")),
                ("amount", _("按金额（从大到小）"))]


class TodoFilterForm(forms.Form):
    """The to-do list's GET filter; the task page and the batch carry it on, so that after a
    decision the next task comes from the same list."""

    q = forms.CharField(label=_("查找"), required=False, max_length=50,
                        widget=forms.TextInput(attrs={
                            "type": "search", "autocomplete": "off",
                            "placeholder": _("申请人姓名、事项名称或 #编号")}))
    item = forms.ChoiceField(label=_("事项"), required=False, widget=FastSelect)
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("单位（含下级）"),
                           required=False, empty_label=_("全部单位"))
    overdue = forms.BooleanField(label=_("只看已超期"), required=False)
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=SORT_CHOICES,
                             widget=FastSelect)

    def __init__(self, *args, items, units, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [("", _("全部事项")), *items]
        self.fields["unit"].queryset = units
        self.fields["unit"].levels = levels

    def clean_q(self):
        query = (self.cleaned_data.get("q") or "").strip()
        if looks_like_identifier(query):
            raise forms.ValidationError(_("待办不按身份证号或手机号查找，请输入姓名、事项名称或编号"
                                          "（如 #123）。"))
        return query

    def _valid(self) -> dict:
        """The valid filters: when one is invalid (shown on the form), the others still apply,
        as on the other list pages."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data

    def as_filter(self) -> TodoFilter:
        data = self._valid()
        return TodoFilter(query=data.get("q") or "", item=data.get("item") or "",
                          unit=data.get("unit"), overdue=bool(data.get("overdue")),
                          sort=data.get("sort") or "received")

    def carried(self) -> dict[str, str]:
        """The valid filters as query-string values (page links, the task page, the batch)."""
        flt = self.as_filter()
        out = {"q": flt.query, "item": flt.item,
               "unit": str(flt.unit.pk) if flt.unit is not None else "",
               "overdue": "1" if flt.overdue else "",
               "sort": flt.sort if flt.sort != "received" else ""}
        return {k: v for k, v in out.items() if v}


class IdListField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return sorted({int(v) for v in value or []})
        except (TypeError, ValueError):
            raise forms.ValidationError(_("请求无效。")) from None


class BatchForm(forms.Form):
    task = IdListField(required=False)
    comment = forms.CharField(label=_("批量审批意见"), required=False, max_length=500)


class ReviewForm(forms.Form):
    comment = forms.CharField(label=_("事后审核意见"), max_length=500,
                              error_messages={"required": _("请填写事后审核意见。")})


class DelegationForm(forms.Form):
    to_username = forms.ChoiceField(
        label=_("代办人"), choices=(),
        help_text=_("须是在您审批岗位所在单位担任审批岗位的同事。"),
        error_messages={
            "required": _("请选择代办人。"),
            "invalid_choice": _("代办人须在您审批岗位所在的单位担任审批岗位（同一层级、同一单位）。"),
        })
    starts_at = forms.DateTimeField(
        label=_("开始时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                     format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={"required": _("请填写开始时间。"), "invalid": _("请填写有效的时间。")})
    ends_at = forms.DateTimeField(
        label=_("结束时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                     format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={"required": _("请填写结束时间。"), "invalid": _("请填写有效的时间。")})
    reason = forms.CharField(label=_("事由"), required=False, max_length=200)

    def __init__(self, *args, candidates=(), **kwargs):
        """``candidates``: (user, post label) of the colleagues one may delegate to."""
        super().__init__(*args, **kwargs)
        self.fields["to_username"].choices = [("", _("请选择"))] + [
            (colleague.username, f"{colleague.display_name}（{post}）")
            for colleague, post in candidates]


# -- flow editor ------------------------------------------------------------------------------

class FlowForm(forms.Form):
    name = forms.CharField(label=_("流程名称"), max_length=100,
                           error_messages={"required": _("请填写流程名称（不超过100字）。")})
    note = forms.CharField(label=_("修改说明"), required=False, max_length=200)
    allow_same_decider = forms.BooleanField(
        label=_("允许同一人办理同一事项的多个节点"), required=False,
        help_text=_("仅适用于人员很少的工会：默认同一人只能办理一件事项的一个节点（本人、"
                    "节点到人或受委托代办均算）。勾选后同一人可办理多个节点，办理页会提示，"
                    "并记入审计日志。"))


def _level_choices(levels: dict[int, str]):
    return [("", _("申请人所在单位")), *[(str(d), f"{d} · {n}") for d, n in sorted(levels.items())]]


class StepForm(forms.Form):
    name = forms.CharField(label=_("节点名称"), max_length=60)
    assignee_kind = forms.ChoiceField(label=_("审批人"), choices=AssigneeKind.choices,
                                      initial=AssigneeKind.POSITION)
    unit_depth = forms.TypedChoiceField(label=_("岗位所在层级"), required=False, coerce=int,
                                        empty_value=None)
    position_name = forms.CharField(label=_("岗位名称"), required=False, max_length=60)
    username = forms.CharField(label=_("指定人员（用户名）"), required=False, max_length=150)
    user_position = forms.TypedChoiceField(label=_("其所在岗位"), required=False, coerce=int,
                                           empty_value=None)
    skip_condition = forms.CharField(label=_("跳过条件"), required=False, max_length=200,
                                     widget=forms.TextInput(attrs={
                                         "placeholder": "amount <= 2000",
                                         "spellcheck": "false"}))
    due_days = forms.IntegerField(label=_("时限（天）"), min_value=0, max_value=365, initial=3)
    allow_batch = forms.BooleanField(label=_("允许批量审批"), required=False)
    skippable_by_fast_track = forms.BooleanField(label=_("特事特办可跳过"), required=False)
    is_public_notice = forms.BooleanField(label=_("公示节点"), required=False)
    notice_working_days = forms.IntegerField(label=_("公示工作日"), required=False, min_value=0,
                                             max_value=60)

    def __init__(self, *args, levels: dict[int, str], kind: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit_depth"].choices = _level_choices(levels)
        self.named_user: User | None = None
        username = (self.data.get(self.add_prefix("username")) if self.is_bound
                    else self.initial.get("username")) or ""
        self.fields["user_position"].choices = [("", _("（唯一岗位时自动选择）")),
                                                *posts_of(username.strip())]
        # htmx: typing a user name refreshes the choice of their posts (no JS needed otherwise)
        target = self.auto_id % self.add_prefix("user_position") if self.auto_id else ""
        url = reverse("approvals:user-posts")
        if kind:  # the lookup is guarded by the flow's kind, as the editor is
            url = f"{url}?{urlencode({'kind': kind})}"
        self.fields["username"].widget.attrs.update({
            "hx-get": url, "hx-trigger": "change",
            "hx-target": f"#{target}", "hx-swap": "innerHTML", "autocomplete": "off"})
        self.fields["assignee_kind"].widget.attrs["data-step-kind"] = "1"

    def clean(self):
        data = super().clean()
        if data.get("assignee_kind") == AssigneeKind.USER and not self.has_error("username"):
            username = (data.get("username") or "").strip()
            self.named_user = User.objects.filter(username=username, is_active=True).first()
            if self.named_user is None:
                self.add_error("username", _("请填写有效的用户名。"))
        return data

    def as_step(self) -> dict:
        """The step dict ``approvals.services.flow_save`` takes."""
        data = self.cleaned_data
        step = {key: data.get(key) for key in (
            "name", "assignee_kind", "unit_depth", "position_name", "skip_condition",
            "due_days", "allow_batch", "skippable_by_fast_track", "is_public_notice",
            "notice_working_days")}
        if data.get("assignee_kind") == AssigneeKind.USER:
            step["user"] = self.named_user.pk if self.named_user else None
            step["user_position"] = data.get("user_position")
        return step


def posts_of(username: str) -> list[tuple[int, str]]:
    """The posts a user holds now (for the named-person step's "其所在岗位")."""
    if not username:
        return []
    assignments = (Assignment.objects.current().filter(user__username=username,
                                                       position__is_active=True)
                   .select_related("position__org_unit").order_by("position_id"))
    return [(a.position_id, str(a.position)) for a in assignments]


class BaseStepFormSet(forms.BaseFormSet):
    def __init__(self, *args, levels: dict[int, str], kind: str = "", **kwargs):
        self.levels, self.kind = levels, kind
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "levels": self.levels, "kind": self.kind}

    @property
    def empty_form(self):
        form = self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"),
                         empty_permitted=True, use_required_attribute=False,
                         levels=self.levels, kind=self.kind, renderer=self.renderer)
        self.add_fields(form, None)
        return form

    def kept_forms(self) -> list[StepForm]:
        """The steps to save, in the order given by their 顺序 field (then by position)."""
        initial = self.initial_form_count()
        forms_ = [f for i, f in enumerate(self.forms)
                  if (i < initial or f.has_changed()) and not self._should_delete_form(f)]
        return sorted(forms_, key=lambda f: (f.cleaned_data.get("ORDER") or 10_000,
                                             self.forms.index(f)))


StepFormSet = forms.formset_factory(StepForm, formset=BaseStepFormSet, extra=1, can_delete=True,
                                    can_order=True, max_num=30, validate_max=True)


class FlowPickForm(forms.Form):
    """Which flow: a unit and an item (blank = the unit's general flow for every item).
    ``items=None``: the kind has no items (archive flows are per unit), so no item field.
    ``kind`` (hidden) carries the flow's subject kind through the GET forms."""

    kind = forms.CharField(widget=forms.HiddenInput, required=False)

    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("单位"),
                           empty_label=_("请选择单位"),
                           error_messages={"required": _("请选择单位。"),
                                           "invalid_choice": _("单位不存在或不在您的管理范围内。")})
    item = forms.ChoiceField(label=_("帮扶项目"), required=False)

    def __init__(self, *args, units, levels, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].levels = levels
        if items is None:
            del self.fields["item"]
        else:
            self.fields["item"].choices = [("", _("全部项目（通用流程）")), *items]


class PreviewForm(FlowPickForm):
    amount = forms.DecimalField(label=_("申请金额（元）"), required=False, min_value=0,
                                max_digits=12, decimal_places=2,
                                widget=forms.NumberInput(attrs={"inputmode": "decimal",
                                                                "step": "0.01"}))
    facts = forms.CharField(label=_("其他情况"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
                            help_text=_("每行一项，如 hardship_category = 深度困难、in_archive = 是。"))
    fast_track = forms.BooleanField(label=_("特事特办"), required=False)

    def __init__(self, *args, amount: bool = True, facts_help: str = "", **kwargs):
        """``amount=False``: the kind's cases carry no amount (the archive's)."""
        super().__init__(*args, **kwargs)
        if not amount:
            del self.fields["amount"]
        if facts_help:
            self.fields["facts"].help_text = facts_help

    def clean_facts(self):
        out = {}
        for number, line in enumerate(self.cleaned_data["facts"].splitlines(), 1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip().isidentifier():
                raise forms.ValidationError(
                    _("第 %(n)s 行格式不正确，应为“名称 = 值”。"), params={"n": number})
            out[name.strip()] = parse_value(value.strip())
        return out

    def sample_facts(self) -> dict:
        facts = dict(self.cleaned_data["facts"])
        if "amount" in self.fields:
            if self.cleaned_data.get("amount") is not None:
                facts["amount"] = self.cleaned_data["amount"]
            facts.setdefault("amount", Decimal("0"))
        facts["fast_track"] = bool(self.cleaned_data.get("fast_track"))
        return facts


def parse_value(text: str):
    """"是"/"true" → True, "否"/"false" → False, numbers → Decimal, else the text (unquoted)."""
    lowered = text.lower()
    if lowered in {"是", "true", "yes"}:
        return True
    if lowered in {"否", "false", "no"}:
        return False
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text.strip("'\"")
    return number if number.is_finite() else text
