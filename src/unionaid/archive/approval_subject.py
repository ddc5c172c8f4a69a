"""The approval engine's handlers for the archive: enrolment (``archive.enrolment``) and exit
(``archive.exit``). The engine calls them inside its own transaction, so the record changes
with the decision.

* enrolment approved → ACTIVE from today, first re-check ``recheck_months`` later;
  rejected → REJECTED; returned → RETURNED (resubmit with a new profile).
* exit approved → EXITED today, follow-up visits (回访) once a month for
  ``follow_up_months`` months, owned by whoever applied for the exit; rejected or returned →
  back to ACTIVE.
* ``before_approve`` refuses any approval while an objection raised during the public notice
  is unresolved, and refuses it when an objection was found true (upheld): the approver must
  reject.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.accounts.models import User
from unionaid.approvals.registry import FactLabel, FlowEditor, PreviewCase
from unionaid.archive.category import rules_for
from unionaid.archive.models import HardshipCategory, HardshipRecord, Objection, RecordStatus
from unionaid.archive.services.common import ENROLMENT_KIND, EXIT_KIND, add_months, audit
from unionaid.assistance.services.notify import link, notify_users
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict
from unionaid.visits.models import FollowUp

FACT_NAMES = {"category", "per_capita_monthly", "dibao_line", "household_size", "needs_review",
              "re_enrolment", "months_in_archive", "fast_track"}


def _record_for(case, *, expected: str) -> HardshipRecord:
    record = (HardshipRecord.objects.select_for_update(of=("self",))
              .select_related("member", "org_unit", "created_by").get(pk=case.subject_id))
    if record.status != expected:
        raise Conflict(_("该困难职工档案的状态已变化，请刷新后再办理。"), code="stale_record")
    return record


# The flow editor's words for the archive's kinds (flows per unit, with public notice).
_LIST_HELP = gettext_lazy("流程按单位设置，下级单位沿用上级的流程，除非本单位另行设置。公示节点的公示期按"
                          "工作日计算，期间可登记异议。")
_PREVIEW_HELP = gettext_lazy("选择职工所在单位，在“其他情况”中填写困难类别等情况（默认 category = relative "
                             "相对困难），看这份申请会经过哪些节点、跳过哪些节点、由谁办理。")
_EDIT_PREVIEW_HELP = gettext_lazy("按已发布的流程，看一份示例申请（默认困难类别 relative 相对困难，可在“其他"
                                  "情况”中修改）会经过哪些节点、跳过哪些节点、由谁办理。")
_FACTS_HELP = gettext_lazy("每行一项，如 category = deep、needs_review = 是。")


def _editor(fact_help, fact_example: str) -> FlowEditor:
    return FlowEditor(
        home_url="archive:config", home_label=gettext_lazy("认定配置"), list_help=_LIST_HELP,
        fact_help=fact_help, fact_example=fact_example, preview_help=_PREVIEW_HELP,
        edit_preview_help=_EDIT_PREVIEW_HELP, preview_amount=False,
        preview_facts_help=_FACTS_HELP)


class _ArchiveSubject:
    kind = ""
    title = ""
    flow_permission = "archive.config"
    view_permission = "archive.view"
    link_text = gettext_lazy("查看档案与认定测算")
    # A typical case, so a preview can compute a skip condition naming these facts (the form's
    # values win). Every name is one ``fact_names`` accepts (see the tests).
    sample_facts: dict[str, Any] = {}

    def fact_names(self, subject_key: str) -> set[str]:
        return set(FACT_NAMES)

    def fact_labels(self, subject_key: str) -> dict[str, FactLabel]:
        """The words for every name ``fact_names`` allows (skip conditions in words)."""
        yuan = str(_("元"))
        return {
            "category": FactLabel(label=str(_("困难类别")), choices=tuple(
                (value, str(label)) for value, label in HardshipCategory.choices)),
            "per_capita_monthly": FactLabel(label=str(_("家庭人均月收入")), unit=yuan),
            "dibao_line": FactLabel(label=str(_("低保标准")), unit=yuan),
            "household_size": FactLabel(label=str(_("家庭人口")), unit=str(_("人"))),
            "needs_review": FactLabel(label=str(_("需重点核查"))),
            "re_enrolment": FactLabel(label=str(_("再次建档"))),
            "months_in_archive": FactLabel(label=str(_("在档月数")), unit=str(_("个月"))),
            "fast_track": FactLabel(label=str(_("特事特办"))),
        }

    def link(self, subject_id: int) -> str:
        return link("archive:record-detail", subject_id)

    def fact_rows(self, case) -> list[tuple[str, str]]:
        """The case's facts for the approver, in Chinese (the keys are rule names)."""
        facts = case.facts or {}
        yes, no = _("是"), _("否")
        rows = []
        if facts.get("category"):
            rows.append((_("困难类别"), str(dict(HardshipCategory.choices).get(
                facts["category"], facts["category"]))))
        money = {"per_capita_monthly": _("人均月收入（元）"), "dibao_line": _("低保标准（元/月）")}
        for name, label in money.items():
            if facts.get(name) not in (None, ""):
                rows.append((label, f"{Decimal(str(facts[name])):,.2f}"))
        if facts.get("household_size") not in (None, ""):
            rows.append((_("家庭人口"), str(facts["household_size"])))
        if "months_in_archive" in facts:
            rows.append((_("在档月数"), str(facts["months_in_archive"])))
        for name, label in (("needs_review", _("需重点核查（排除情形）")),
                            ("re_enrolment", _("再次建档")), ("fast_track", _("特事特办"))):
            if name in facts:
                rows.append((label, yes if facts[name] else no))
        return rows

    def label(self, subject_id: int) -> str:
        name = (HardshipRecord.objects.filter(pk=subject_id)
                .values_list("member__name", flat=True).first())
        return _("%(title)s · %(name)s") % {"title": self.title, "name": name or subject_id}

    def subject_ids_for_keys(self, keys: Iterable[str]):
        """Records of these categories (a case's key is its record's category)."""
        return HardshipRecord.objects.filter(category__in=list(keys)).values("pk")

    def labels(self, subject_ids: Iterable[int]) -> dict[int, str]:
        names = dict(HardshipRecord.objects.filter(pk__in=list(subject_ids))
                     .values_list("pk", "member__name"))
        return {pk: _("%(title)s · %(name)s") % {"title": self.title, "name": name}
                for pk, name in names.items()}

    def subject_keys(self) -> None:
        """Archive flows are kept per unit (a case's key is its category)."""
        return None

    def key_labels(self) -> dict[str, str]:
        return {value: str(label) for value, label in HardshipCategory.choices}

    def preview_case(self, *, subject_key: str, facts: dict[str, Any]) -> PreviewCase:
        """A typical case of the kind (the form's values win); its flow is resolved by its
        category, as the archive starts it, and every fact is listed."""
        facts = {**self.sample_facts, **facts}
        return PreviewCase(subject_key=str(facts.get("category") or ""), facts=facts,
                           shown=facts)

    def task_panel(self, *, user, case) -> None:
        """The task page shows ``fact_rows`` and links to the record."""
        return None

    def notification_text(self, *, case, task) -> tuple[str, str]:
        """For a public-notice step: that the notice has started and until when."""
        label = self.label(case.subject_id)
        if task.step.is_public_notice and task.due_at:
            return (_("公示开始：%(label)s") % {"label": label},
                    _("公示至 %(end)s，期间可登记异议；期满无异议后请办理“%(step)s”。") % {
                        "end": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M"),
                        "step": task.step.name})
        return (_("新的待办：%(label)s") % {"label": label},
                _("请办理审批节点“%(step)s”。") % {"step": task.step.name})

    def on_step_started(self, *, case, task) -> None:
        """Nothing beyond the engine's notice to the deciders."""

    def before_approve(self, *, case, task) -> None:
        # Lock the record (the engine holds the case already: case, then record, the order
        # every archive service keeps). ``objection_record`` takes both locks too, so an
        # objection is either counted here or refused after this decision, never slips past.
        list(HardshipRecord.objects.select_for_update().filter(pk=case.subject_id)
             .values_list("pk", flat=True))
        objections = Objection.objects.filter(case_id=case.pk)
        open_count = objections.filter(resolved_at__isnull=True).count()
        if open_count:
            raise Conflict(_("公示期异议尚有 %(n)s 条未核实处理，处理后才能审批通过。")
                           % {"n": open_count}, code="objection_open")
        if objections.filter(upheld=True).exists():
            raise Conflict(_("公示期异议经核实成立，不能通过，请驳回。"), code="objection_upheld")

    def _notify_filer(self, case, title: str, body: str, record: HardshipRecord) -> None:
        filer = User.objects.filter(pk=case.filed_by_id, is_active=True).first() \
            if case.filed_by_id else None
        if filer is not None:
            notify_users([filer], title, body, self.link(record.pk))


class EnrolmentSubject(_ArchiveSubject):
    kind = ENROLMENT_KIND
    title = gettext_lazy("困难职工建档")
    flow_editor = _editor(
        gettext_lazy("跳过条件可使用 category（困难类别：deep 深度困难、relative 相对困难、"
                     "sudden 意外致困）、per_capita_monthly（家庭人均月收入）、dibao_line"
                     "（低保标准）、household_size（家庭人口）、needs_review（需复核）、"
                     "re_enrolment（再次建档）、fast_track（特事特办），例如"),
        "category == 'relative'")
    sample_facts: dict[str, Any] = {
        "category": "relative", "per_capita_monthly": 0, "dibao_line": 0, "household_size": 1,
        "needs_review": False, "re_enrolment": False}

    def on_approved(self, *, case, actor) -> None:
        record = _record_for(case, expected=RecordStatus.PENDING)
        today = timezone.localdate()
        record.status, record.enrolled_on = RecordStatus.ACTIVE, today
        record.next_recheck_on = add_months(today, rules_for(record.org_unit).recheck_months)
        record.save(update_fields=["status", "enrolled_on", "next_recheck_on"])
        audit(actor, "archive.enrolment_approved", record, case=case.pk,
              category=record.category, next_recheck_on=record.next_recheck_on.isoformat())
        self._notify_filer(case, _("建档已通过：%(name)s") % {"name": record.member.name},
                           _("已建立困难职工档案（%(category)s）。")
                           % {"category": record.get_category_display()}, record)

    def on_rejected(self, *, case, actor) -> None:
        record = _record_for(case, expected=RecordStatus.PENDING)
        record.status = RecordStatus.REJECTED
        record.save(update_fields=["status"])
        audit(actor, "archive.enrolment_rejected", record, case=case.pk)
        self._notify_filer(case, _("建档未通过：%(name)s") % {"name": record.member.name},
                           _("困难职工建档申请未通过。"), record)

    def on_returned(self, *, case, actor) -> None:
        record = _record_for(case, expected=RecordStatus.PENDING)
        record.status = RecordStatus.RETURNED
        record.save(update_fields=["status"])
        audit(actor, "archive.enrolment_returned", record, case=case.pk)
        self._notify_filer(case, _("建档退回补充：%(name)s") % {"name": record.member.name},
                           _("请补充或更新家庭情况后重新提交。"), record)


class ExitSubject(_ArchiveSubject):
    kind = EXIT_KIND
    title = gettext_lazy("解困脱困")
    flow_editor = _editor(
        gettext_lazy("跳过条件可使用 category（困难类别：deep 深度困难、relative 相对困难、"
                     "sudden 意外致困）、per_capita_monthly（家庭人均月收入）、"
                     "months_in_archive（在档月数）、fast_track（特事特办），例如"),
        "months_in_archive >= 12")
    sample_facts: dict[str, Any] = {
        "category": "relative", "per_capita_monthly": 0, "months_in_archive": 0}

    def on_approved(self, *, case, actor) -> None:
        record = _record_for(case, expected=RecordStatus.EXITING)
        today = timezone.localdate()
        months = rules_for(record.org_unit).follow_up_months
        record.status, record.exited_on = RecordStatus.EXITED, today
        record.follow_up_until = add_months(today, months)
        record.save(update_fields=["status", "exited_on", "follow_up_until"])
        owner = (User.objects.filter(pk=case.filed_by_id, is_active=True).first()
                 if case.filed_by_id else None) or record.created_by
        follow_ups = []
        for n in range(1, months + 1):
            follow_up = FollowUp.objects.create(
                member=record.member, org_unit=record.org_unit, hardship_record=record,
                title=_("脱困后回访（第 %(n)s/%(total)s 次）") % {"n": n, "total": months},
                owner=owner, due_on=add_months(today, n), created_by=actor or owner)
            follow_ups.append(follow_up)
            audit_record(actor=actor, action="follow_up.create", target=follow_up,
                         org_unit_path=record.org_unit.path,
                         changes={"member": record.member_id, "owner": owner.pk,
                                  "due_on": follow_up.due_on.isoformat(),
                                  "hardship_record": record.pk})
        audit(actor, "archive.exit_approved", record, case=case.pk,
              follow_up_until=record.follow_up_until.isoformat(), follow_ups=len(follow_ups),
              owner=owner.pk)
        self._notify_filer(case, _("脱困已通过：%(name)s") % {"name": record.member.name},
                           _("已解困脱困，请按计划在 %(until)s 前每月回访。")
                           % {"until": record.follow_up_until.isoformat()}, record)

    def _back_to_active(self, case, actor, action: str) -> HardshipRecord:
        record = _record_for(case, expected=RecordStatus.EXITING)
        record.status, record.exit_reason, record.exit_applied_at = RecordStatus.ACTIVE, "", None
        record.save(update_fields=["status", "exit_reason", "exit_applied_at"])
        audit(actor, action, record, case=case.pk)
        return record

    def on_rejected(self, *, case, actor) -> None:
        record = self._back_to_active(case, actor, "archive.exit_rejected")
        self._notify_filer(case, _("脱困未通过：%(name)s") % {"name": record.member.name},
                           _("解困脱困申请未通过，档案继续在档。"), record)

    def on_returned(self, *, case, actor) -> None:
        record = self._back_to_active(case, actor, "archive.exit_returned")
        self._notify_filer(case, _("脱困退回：%(name)s") % {"name": record.member.name},
                           _("解困脱困申请被退回，档案继续在档；可补充情况后重新申请。"), record)
