"""The approval engine's subject for assistance applications (``SUBJECT_KIND``), registered in
``AssistanceConfig.ready``. The engine calls it inside its own transaction; it also gives the
flow editor its words (flows per unit and per catalog item) and the task page its panel."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.approvals.registry import FactLabel, FlowEditor, PreviewCase
from unionaid.assistance import facts as factlib
from unionaid.assistance.models import Application, AssistanceCategory, AssistanceItem
from unionaid.assistance.selectors import catalog_items
from unionaid.assistance.services import outcomes
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.assistance.services.notify import link
from unionaid.assistance.views import display
from unionaid.members.models import EmploymentForm

CASE_NAMES = {"amount", "item_code", "category", "on_behalf", "fast_track"}

# How a skip condition's facts are said in words (the case's own, then the member's).
FACT_LABELS = {
    "amount": (gettext_lazy("金额"), gettext_lazy("元")),
    "item_code": (gettext_lazy("项目编码"), ""),
    "category": (gettext_lazy("帮扶类别"), ""),
    "on_behalf": (gettext_lazy("代办申请"), ""),
    "membership_active": (gettext_lazy("在籍会员"), ""),
    "membership_years": (gettext_lazy("入会年限"), gettext_lazy("年")),
    "employment_form": (gettext_lazy("用工形式"), ""),
    "new_employment_form": (gettext_lazy("新就业形态劳动者"), ""),
    "age": (gettext_lazy("年龄"), gettext_lazy("岁")),
    "is_female": (gettext_lazy("女职工"), ""),
    "household_size": (gettext_lazy("家庭人口"), gettext_lazy("人")),
    "children_count": (gettext_lazy("子女人数"), gettext_lazy("人")),
    "hardship_category": (gettext_lazy("困难类别"), ""),
    "in_archive": (gettext_lazy("已建档困难职工"), ""),
    "grants_this_year": (gettext_lazy("本年度已获帮扶次数"), gettext_lazy("次")),
    "amount_this_year": (gettext_lazy("本年度已获帮扶金额"), gettext_lazy("元")),
    "item_grants_this_year": (gettext_lazy("本年度本项目已获帮扶次数"), gettext_lazy("次")),
}

EDITOR = FlowEditor(
    home_url="assistance:catalog",
    home_label=gettext_lazy("项目目录"),
    list_help=gettext_lazy("流程按单位和帮扶项目设置，下级单位沿用上级的流程，除非本单位另行设置；"
                           "同一单位中，具体项目的流程优先于通用流程。"),
    fact_help=gettext_lazy("跳过条件可使用 amount（金额）、fast_track（特事特办）、职工情况和项目申请"
                           "事项的编码，例如"),
    fact_example="amount <= 2000",
    preview_help=gettext_lazy("选择申请人所在单位、项目，填写金额等情况，看这件申请会经过哪些节点、"
                              "跳过哪些节点、由谁办理。"),
    edit_preview_help=gettext_lazy("按已发布的流程，看一件示例申请会经过哪些节点、跳过哪些节点、"
                                   "由谁办理。"),
    preview_amount=True,
    preview_facts_help="",
)


class ApplicationSubject:
    kind = SUBJECT_KIND
    title = gettext_lazy("帮扶")
    flow_permission = "assistance.catalog"
    view_permission = "assistance.view"
    flow_editor = EDITOR
    link_text = gettext_lazy("查看申请")

    def subject_keys(self) -> list[tuple[str, str]]:
        """Flows may be set up per catalog item (inactive ones too: their flows stay)."""
        return [(code, f"{name}（{code}）") for code, name in
                catalog_items(include_inactive=True).values_list("code", "name")]

    def key_labels(self) -> dict[str, str]:
        return dict(self.subject_keys())

    def fact_names(self, subject_key: str) -> set[str]:
        """Names a skip condition may use: the case's amount and kind, what is known about the
        member, and the item's own facts when the flow is for one item."""
        names = CASE_NAMES | set(factlib.MEMBER_FACTS)
        if subject_key:
            item = AssistanceItem.objects.filter(code=subject_key).only("facts").first()
            names |= {f["name"] for f in (item.facts if item else [])}
        return names

    def fact_labels(self, subject_key: str) -> dict[str, FactLabel]:
        """The case's and the member's facts, and the item's own when the flow is for one
        item (their labels as the catalog defines them; money in 元)."""
        choices = {
            "category": tuple(AssistanceCategory.objects.values_list("code", "name")),
            "employment_form": tuple((value, str(label))
                                     for value, label in EmploymentForm.choices),
            "item_code": tuple(catalog_items(include_inactive=True)
                               .values_list("code", "name")),
        }
        labels = {name: FactLabel(label=str(label), unit=str(unit),
                                  choices=choices.get(name, ()))
                  for name, (label, unit) in FACT_LABELS.items()}
        if subject_key:
            item = AssistanceItem.objects.filter(code=subject_key).only("facts").first()
            for fact in item.facts if item else []:
                labels[fact["name"]] = FactLabel(
                    label=fact.get("label") or fact["name"],
                    unit=str(_("元")) if fact.get("type") == "money" else "")
        return labels

    def preview_case(self, *, subject_key: str, facts: dict[str, Any]) -> PreviewCase:
        """A typical member's facts (在籍会员, not in the archive …) and the item's facts at
        neutral values, so a skip condition naming them can be computed; the form's values
        win, and only they are listed."""
        item = (catalog_items(include_inactive=True).filter(code=subject_key).first()
                if subject_key else None)
        typical = factlib.sample_values(item.facts if item else [])
        return PreviewCase(subject_key=subject_key, facts={**typical, **facts}, shown=facts)

    def link(self, subject_id: int) -> str:
        return link("assistance:application-detail", subject_id)

    def label(self, subject_id: int) -> str:
        application = (Application.objects.select_related("item", "member")
                       .filter(pk=subject_id).first())
        if application is None:
            return _("帮扶申请 #%(id)s") % {"id": subject_id}
        return _("%(item)s · %(name)s") % {"item": application.item.name,
                                           "name": application.member.name}

    def labels(self, subject_ids: Iterable[int]) -> dict[int, str]:
        """The item's name (the applicant is shown beside it)."""
        return dict(Application.objects.filter(pk__in=list(subject_ids))
                    .values_list("pk", "item__name"))

    def subject_ids_for_keys(self, keys: Iterable[str]):
        """Applications of these items (a case's key is its item's code)."""
        return Application.objects.filter(item__code__in=list(keys)).values("pk")

    def fact_rows(self, case) -> list[tuple[str, str]]:
        """Only when the application is gone (otherwise the panel shows it)."""
        return list((case.facts or {}).items())

    def task_panel(self, *, user, case) -> tuple[str, dict] | None:
        return display.task_panel(user=user, case=case)

    def notification_text(self, *, case, task) -> tuple[str, str]:
        return (_("新的待办：%(label)s") % {"label": self.label(case.subject_id)},
                _("请办理审批节点“%(step)s”。") % {"step": task.step.name})

    def before_approve(self, *, case, task) -> None:
        """Nothing to settle before an application is approved."""

    def on_step_started(self, *, case, task) -> None:
        """Nothing beyond the engine's notice to the deciders."""

    def on_approved(self, *, case, actor) -> None:
        outcomes.application_case_approved(case=case, actor=actor)

    def on_rejected(self, *, case, actor) -> None:
        outcomes.application_case_rejected(case=case, actor=actor)

    def on_returned(self, *, case, actor) -> None:
        outcomes.application_case_returned(case=case, actor=actor)
