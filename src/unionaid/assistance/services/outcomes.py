"""What happens to an application when its approval case ends, and when its money is paid,
reversed (冲正) or paid again (重新发放).

Called by ``ApplicationSubject`` inside the approval engine's transaction (so a failure, e.g. an
exhausted budget, undoes the decision too) and by the funds app's paid, reversed and repaid
hooks (inside the funds service's transaction).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.approvals.models import TaskStatus
from unionaid.assistance import amounts
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.assistance.services.notify import notify_member
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict
from unionaid.funds import services as fund_services


def _for_case(case) -> Application:
    application = (Application.objects.select_for_update(of=("self",))
                   .select_related("item__funding_source", "member", "org_unit")
                   .get(pk=case.subject_id))
    if application.status != ApplicationStatus.IN_REVIEW or application.case_id not in (
            None, case.pk):
        raise Conflict(_("该申请的状态已变化，请刷新后再办理。"), code="stale_application")
    return application


def _last_comment(case, status: str) -> str:
    task = case.tasks.filter(status=status).order_by("-decided_at", "-pk").first()
    return task.comment if task else ""


def _finish(application: Application, status: str, *, actor, action: str, **changes) -> None:
    application.status = status
    application.decided_at = timezone.now()
    application.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(actor=actor, action=action, target=application,
                 org_unit_path=application.org_unit.path, changes=changes)


def application_case_approved(*, case, actor) -> Application:
    """Final approval: reserve the money from the item's funding source, then APPROVED."""
    application = _for_case(case)
    disbursement = fund_services.reserve(
        actor=actor, subject_kind=SUBJECT_KIND, subject_id=application.pk,
        member=application.member, org_unit=application.org_unit,
        funding_source=application.item.funding_source, year=timezone.localdate().year,
        amount=application.amount, savepoint=False,  # a refusal undoes the whole decision
    )
    _finish(application, ApplicationStatus.APPROVED, actor=actor, action="application.approve",
            case=case.pk, amount=str(application.amount), disbursement=disbursement.pk)
    notify_member(application, _("帮扶申请已核准"),
                  _("您的“%(item)s”申请已核准，金额 %(amount)s 元，等待发放。")
                  % {"item": application.item.name, "amount": amounts.yuan(application.amount)})
    return application


def application_case_rejected(*, case, actor) -> Application:
    application = _for_case(case)
    comment = _last_comment(case, TaskStatus.REJECTED)
    _finish(application, ApplicationStatus.REJECTED, actor=actor, action="application.reject",
            case=case.pk)
    notify_member(application, _("帮扶申请未通过"),
                  _("您的“%(item)s”申请未通过。意见：%(comment)s")
                  % {"item": application.item.name, "comment": comment or _("无")})
    return application


def application_case_returned(*, case, actor) -> Application:
    application = _for_case(case)
    comment = _last_comment(case, TaskStatus.RETURNED)
    _finish(application, ApplicationStatus.RETURNED, actor=actor, action="application.return",
            case=case.pk)
    notify_member(application, _("帮扶申请需补充材料"),
                  _("您的“%(item)s”申请被退回，请补充材料后重新提交。意见：%(comment)s")
                  % {"item": application.item.name, "comment": comment or _("无")})
    return application


def application_mark_paid(*, subject_id: int, actor=None) -> Application | None:
    """The money left (batch confirmed): APPROVED → PAID. Idempotent."""
    application = (Application.objects.select_for_update(of=("self",))
                   .select_related("item", "member", "org_unit").filter(pk=subject_id).first())
    if application is None or application.status == ApplicationStatus.PAID:
        return application
    if application.status != ApplicationStatus.APPROVED:
        raise Conflict(_("只有已核准的申请可以标记为已发放。"), code="not_approved")
    application.status = ApplicationStatus.PAID
    application.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="application.paid", target=application,
                 org_unit_path=application.org_unit.path,
                 changes={"amount": str(application.amount)})
    notify_member(application, _("帮扶资金已发放"),
                  _("您的“%(item)s”帮扶资金 %(amount)s 元已发放，请留意银行到账。")
                  % {"item": application.item.name, "amount": amounts.yuan(application.amount)})
    return application


def disbursement_paid(*, disbursement, actor) -> None:
    """funds' paid hook (inside batch_confirm's transaction)."""
    application_mark_paid(subject_id=disbursement.subject_id, actor=actor)


def _locked(subject_id: int) -> Application | None:
    return (Application.objects.select_for_update(of=("self",))
            .select_related("item", "member", "org_unit").filter(pk=subject_id).first())


def disbursement_reversed(*, disbursement, actor) -> None:
    """funds' reversed hook: the payment was undone (冲正). The decision stands, but the money
    was not received: a PAID application becomes PAYMENT_REVERSED (发放已冲正), from where the
    finance office may pay it again. Journaled, and the worker is told."""
    application = _locked(disbursement.subject_id)
    if application is None:
        return
    before = application.status
    if before == ApplicationStatus.PAID:
        application.status = ApplicationStatus.PAYMENT_REVERSED
        application.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="application.payment_reversed", target=application,
                 org_unit_path=application.org_unit.path,
                 changes={"disbursement": disbursement.pk, "amount": str(disbursement.amount),
                          "reason": disbursement.reversal_reason[:200],
                          "status": [before, application.status]})
    notify_member(application, _("帮扶资金发放已冲正"),
                  _("您的“%(item)s”帮扶资金 %(amount)s 元的发放记录已冲正，工会将与您联系。")
                  % {"item": application.item.name,
                     "amount": amounts.yuan(disbursement.amount)})


def disbursement_repaid(*, disbursement, actor) -> None:
    """funds' repaid hook (重新发放): the reversed payment's money is reserved again, so the
    application is APPROVED (已核准待发放) again and becomes PAID when its batch is confirmed.
    Idempotent; an application that is neither reversed nor approved refuses (Conflict), which
    undoes the re-payment."""
    application = _locked(disbursement.subject_id)
    if application is None or application.status == ApplicationStatus.APPROVED:
        return
    if application.status != ApplicationStatus.PAYMENT_REVERSED:
        raise Conflict(_("只有发放已冲正的申请可以重新发放。"), code="not_reversed")
    application.status = ApplicationStatus.APPROVED
    application.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="application.payment_repaid", target=application,
                 org_unit_path=application.org_unit.path,
                 changes={"disbursement": disbursement.pk, "repays": disbursement.repays_id,
                          "amount": str(disbursement.amount)})
    notify_member(application, _("帮扶资金将重新发放"),
                  _("您的“%(item)s”帮扶资金 %(amount)s 元将重新发放，请留意银行到账。")
                  % {"item": application.item.name,
                     "amount": amounts.yuan(disbursement.amount)})


def _cancel(*, disbursement, actor, reason: str, from_status: str) -> None:
    """The application's grant will not be paid (its reservation released, or its reversed
    payment closed): a ``from_status`` application becomes CANCELLED (已取消发放), no longer counts
    against the caps and frees its period. Journaled, and the worker is told why."""
    application = _locked(disbursement.subject_id)
    if application is None or application.status != from_status:
        return
    application.status = ApplicationStatus.CANCELLED
    application.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="application.cancel", target=application,
                 org_unit_path=application.org_unit.path,
                 changes={"disbursement": disbursement.pk, "amount": str(disbursement.amount),
                          "reason_length": len(reason)})
    notify_member(application, _("帮扶资金已取消发放"),
                  _("您的“%(item)s”核定的帮扶资金 %(amount)s 元已取消发放。原因：%(reason)s")
                  % {"item": application.item.name,
                     "amount": amounts.yuan(disbursement.amount), "reason": reason or _("无")})


def disbursement_released(*, disbursement, actor, reason: str = "") -> None:
    """funds' released hook: the reserved money of an APPROVED application was cancelled
    before payment (释放预留)."""
    _cancel(disbursement=disbursement, actor=actor, reason=reason,
            from_status=ApplicationStatus.APPROVED)


def disbursement_closed(*, disbursement, actor, reason: str = "") -> None:
    """funds' closed hook: a reversed payment will never be paid again (终止发放)."""
    _cancel(disbursement=disbursement, actor=actor, reason=reason,
            from_status=ApplicationStatus.PAYMENT_REVERSED)
