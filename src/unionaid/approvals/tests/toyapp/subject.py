"""The toy domain's approval subject: every member the engine asks for, nothing else."""

from __future__ import annotations

from unionaid.approvals import services as approvals
from unionaid.approvals.registry import FactLabel, FlowEditor, PreviewCase
from unionaid.approvals.tests.toyapp.models import ToyRequest

KIND = "approvals_toy.request"


class ToySubject:
    kind = KIND
    title = "玩具申请"
    view_permission = "members.view"
    flow_permission = "org.manage"
    flow_editor = FlowEditor(
        home_url="approvals:todo", home_label="待办", list_help="玩具申请的流程按单位设置。",
        fact_help="跳过条件可使用 size（大小），例如", fact_example="size < 3",
        preview_help="看一件玩具申请会经过哪些节点。", edit_preview_help="预览玩具申请。",
        preview_amount=False, preview_facts_help="每行一项，如 size = 2。")
    link_text = "查看玩具"

    def __init__(self) -> None:
        self.label_calls: list[list[int]] = []

    def subject_keys(self):
        return None

    def key_labels(self):
        return {}

    def fact_names(self, subject_key):
        return {"size", "fast_track"}

    def fact_labels(self, subject_key):
        return {"size": FactLabel(label="大小", unit="号")}

    def preview_case(self, *, subject_key, facts):
        facts = {"size": 1, **facts}
        return PreviewCase(subject_key="", facts=facts, shown=facts)

    def label(self, subject_id):
        title = ToyRequest.objects.filter(pk=subject_id).values_list("title", flat=True).first()
        return f"玩具申请 · {title or subject_id}"

    def labels(self, subject_ids):
        ids = sorted(subject_ids)
        self.label_calls.append(ids)
        return {pk: f"玩具申请 · {title}" for pk, title in
                ToyRequest.objects.filter(pk__in=ids).values_list("pk", "title")}

    def subject_ids_for_keys(self, keys):
        return ToyRequest.objects.none().values("pk")

    def link(self, subject_id):
        return f"/toy/{subject_id}/"

    def fact_rows(self, case):
        return [("大小", str((case.facts or {}).get("size", "")))]

    def task_panel(self, *, user, case):
        return "approvals_toy/_panel.html", {"toy": ToyRequest.objects.get(pk=case.subject_id)}

    def notification_text(self, *, case, task):
        return f"玩具待办：{self.label(case.subject_id)}", f"请办理“{task.step.name}”。"

    def _outcome(self, case, name):
        toy = ToyRequest.objects.select_for_update().get(pk=case.subject_id)
        toy.outcomes = [*toy.outcomes, name]
        if name in {"approved", "rejected", "returned"}:
            toy.status = name
        toy.save(update_fields=["outcomes", "status"])

    def before_approve(self, *, case, task):
        self._outcome(case, f"before_approve:{task.order}")

    def on_step_started(self, *, case, task):
        self._outcome(case, f"started:{task.order}")

    def on_approved(self, *, case, actor):
        self._outcome(case, "approved")

    def on_rejected(self, *, case, actor):
        self._outcome(case, "rejected")

    def on_returned(self, *, case, actor):
        self._outcome(case, "returned")


def toy_submit(*, actor, toy: ToyRequest, org_unit, applicant, size: int):
    """The toy domain's own service: start the approval of ``toy``."""
    toy.status = "in_review"
    toy.save(update_fields=["status"])
    return approvals.case_start(actor=actor, subject_kind=KIND, subject_id=toy.pk,
                                subject_key="", org_unit=org_unit, applicant=applicant,
                                facts={"size": size})
