"""A reversed payment (冲正) shows on the application, and the money can be paid again (重新发放):
paid → reversed → approved → paid, through the real engine and funds; a reversed payment still
counts against the yearly caps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from unionaid.approvals import services as approvals
from unionaid.approvals.models import TaskStatus
from unionaid.assistance import caps, services
from unionaid.assistance.facts import member_values
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict
from unionaid.funds import services as funds
from unionaid.funds.models import Disbursement, DisbursementStatus, LedgerEntry
from unionaid.notifications.models import Notification

from .helpers import PDF_BYTES, this_year, upload
from .test_caps import HOSPITAL

KIND = "assistance.application"


def approve(staff, application):
    """Decide every pending step (站段 帮扶干事, then 主席 above 2,000)."""
    for approver in (staff.apply_cadre, staff.chairman):
        application.refresh_from_db()
        if application.status != ApplicationStatus.IN_REVIEW:
            break
        task = application.case.tasks.get(status=TaskStatus.PENDING)
        approvals.task_decide(actor=approver, task=task, decision="approve")
    application.refresh_from_db()
    return application


def file(actor, member, item, facts, period=None):
    application = services.application_create_draft(actor=actor, member=member, item=item,
                                                     facts=facts, period=period)
    for material in item.required_materials:
        name = material["name"] if isinstance(material, dict) else material
        if isinstance(material, dict) and not material.get("required", True):
            continue
        services.attachment_add(actor=actor, application=application, material=name,
                                uploaded_file=upload("a.pdf", PDF_BYTES))
    return services.application_submit(actor=actor, application=application)


def pay(staff, union, source):
    """The finance officer makes and exports the batch; the cashier confirms it."""
    batch = funds.batch_create(actor=staff.finance, org_unit=union.bureau, funding_source=source)
    funds.batch_export(actor=staff.finance, batch=batch, fmt="csv")
    return funds.batch_confirm(actor=staff.cashier, batch=batch)


def current(application) -> Disbursement:
    return (Disbursement.objects.filter(subject_kind=KIND, subject_id=application.pk)
            .order_by("-pk").first())


def titles(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk")
                .values_list("title", flat=True))


@pytest.fixture
def paid(worker, staff, union, source, illness, flow, budget):
    application = approve(staff, file(worker, worker.member, illness, {"self_paid": "5000"}))
    assert application.status == ApplicationStatus.APPROVED  # 1,500
    pay(staff, union, source)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PAID
    return application


def test_a_reversed_payment_shows_on_the_application_and_the_worker_is_told(
        worker, staff, paid):
    disbursement = current(paid)
    funds.disbursement_reverse(actor=staff.finance, disbursement=disbursement,
                               reason="银行退票：账号已注销")
    paid.refresh_from_db()
    assert paid.status == ApplicationStatus.PAYMENT_REVERSED
    assert paid.get_status_display() == "发放已冲正"
    event = AuditEvent.objects.get(action="application.payment_reversed")
    assert event.target_id == str(paid.pk)
    assert event.changes["status"] == ["paid", "reversed"]
    assert event.changes["disbursement"] == disbursement.pk
    assert titles(worker)[-1] == "帮扶资金发放已冲正"


def test_a_reversed_payment_is_paid_again_through_the_next_batch(
        worker, staff, union, source, budget, paid):
    first = current(paid)
    funds.disbursement_reverse(actor=staff.finance, disbursement=first, reason="银行退票")
    again = funds.disbursement_repay(actor=staff.finance, disbursement=first,
                                     reason="职工已更正收款账号")
    paid.refresh_from_db()
    assert paid.status == ApplicationStatus.APPROVED
    assert (again.status, again.repays_id, again.amount) == (
        DisbursementStatus.RESERVED, first.pk, Decimal("1500.00"))
    event = AuditEvent.objects.get(action="application.payment_repaid")
    assert event.changes == {"disbursement": again.pk, "repays": first.pk, "amount": "1500.00"}
    assert titles(worker)[-1] == "帮扶资金将重新发放"
    # repaying again changes nothing (the application is approved already)
    entries = LedgerEntry.objects.count()
    assert funds.disbursement_repay(actor=staff.finance, disbursement=first,
                                    reason="重复提交").pk == again.pk
    assert LedgerEntry.objects.count() == entries
    assert AuditEvent.objects.filter(action="application.payment_repaid").count() == 1

    pay(staff, union, source)
    paid.refresh_from_db()
    assert paid.status == ApplicationStatus.PAID
    assert Disbursement.objects.get(pk=again.pk).status == DisbursementStatus.PAID
    assert Disbursement.objects.get(pk=first.pk).status == DisbursementStatus.REVERSED
    assert titles(worker)[-1] == "帮扶资金已发放"
    budget.refresh_from_db()
    assert (budget.reserved, budget.paid) == (Decimal(0), Decimal("1500.00"))
    assert funds.ledger_recompute() == []


def test_a_repayment_is_refused_when_the_application_is_not_reversed(staff, paid):
    """E.g. a payment reversed before the ``reversed`` status existed, whose application was
    left ``paid`` by hand: the refusal undoes the re-payment."""
    first = current(paid)
    funds.disbursement_reverse(actor=staff.finance, disbursement=first, reason="银行退票")
    Application.objects.filter(pk=paid.pk).update(status=ApplicationStatus.PAID)
    entries = LedgerEntry.objects.count()
    with pytest.raises(Conflict) as exc:
        funds.disbursement_repay(actor=staff.finance, disbursement=first, reason="重新发放")
    assert exc.value.code == "not_reversed"
    assert LedgerEntry.objects.count() == entries
    assert not Disbursement.objects.filter(repays=first).exists()


def test_a_reversed_payment_still_counts_against_the_yearly_cap(
        worker, staff, union, source, make_item, flow, budget):
    hospital = make_item(**HOSPITAL)  # 100 a day up to 3,000; 4,000 per person a year
    first = approve(staff, file(worker, worker.member, hospital, {"days": 30}, "第一次住院"))
    assert first.amount == Decimal("3000.00")
    pay(staff, union, source)
    funds.disbursement_reverse(actor=staff.finance, disbursement=current(first),
                               reason="银行退票")
    first.refresh_from_db()
    assert first.status == ApplicationStatus.PAYMENT_REVERSED
    year = this_year()
    assert caps.committed(member_ids={worker.member.pk}, year=year) == Decimal("3000.00")
    assert member_values(worker.member, item=hospital, year=year)["grants_this_year"] == 1
    second = file(worker, worker.member, hospital, {"days": 20}, "第二次住院")
    assert second.amount == Decimal("1000.00")  # not 2,000: the reversed 3,000 still counts


def test_a_reversed_application_still_blocks_a_duplicate_for_its_period(worker, staff, illness,
                                                                      paid):
    funds.disbursement_reverse(actor=staff.finance, disbursement=current(paid),
                               reason="银行退票")
    with pytest.raises(Conflict):
        services.application_create_draft(actor=worker, member=worker.member, item=illness,
                                          facts={"self_paid": "5000"})


def test_the_data_migration_marks_earlier_reversed_payments(staff, paid):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "unionaid.assistance.migrations.0004_reversed_payments_status")
    funds.disbursement_reverse(actor=staff.finance, disbursement=current(paid), reason="退票")
    Application.objects.filter(pk=paid.pk).update(status=ApplicationStatus.PAID)  # as before
    migration.forwards(apps, None)
    assert Application.objects.get(pk=paid.pk).status == ApplicationStatus.PAYMENT_REVERSED
    # paid again and paid: stays paid
    funds.disbursement_repay(actor=staff.finance, disbursement=current(paid), reason="更正")
    Disbursement.objects.filter(pk=current(paid).pk).update(status=DisbursementStatus.PAID)
    Application.objects.filter(pk=paid.pk).update(status=ApplicationStatus.PAID)
    migration.forwards(apps, None)
    assert Application.objects.get(pk=paid.pk).status == ApplicationStatus.PAID


def test_the_back_office_application_page_shows_the_reversal(client, staff, paid):
    from django.urls import reverse

    funds.disbursement_reverse(actor=staff.finance, disbursement=current(paid),
                               reason="银行退票：账号已注销")
    client.force_login(staff.apply_cadre)
    html = client.get(reverse("assistance:application-detail", args=[paid.pk])).content.decode()
    assert '<span class="badge text-bg-warning">发放已冲正</span>' in html
    assert 'id="money-heading"' in html  # the money panel stays for a reversed payment
