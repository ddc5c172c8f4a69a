"""A toy disbursement subject, registered by this test only, goes through the whole money
life cycle without any engine code knowing it: reserved, batched, paid, reversed, paid again,
released; another one closed. Each event reaches the toy's hook, and the auditor's trace (page
and API) shows the toy's own summary. Unknown kinds are refused loudly and traced as not found.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.template import Template
from django.urls import reverse

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict
from unionaid.funds import selectors, services, subjects
from unionaid.funds.models import Disbursement, DisbursementStatus, LedgerEntry

from .conftest import YEAR
from .test_api import as_token
from .test_repay import _pay

pytestmark = pytest.mark.django_db
TOY = "toy.wish"


@dataclass
class Wish:
    pk: int
    title: str


class ToySubject(subjects.DisbursementSubject):
    kind = TOY
    search_key = "wish"
    search_label = "心愿编号"

    def __init__(self):
        self.events: list[tuple] = []
        self.wishes = {7: Wish(7, "圆梦助学心愿"), 8: Wish(8, "新春慰问心愿")}

    def on_paid(self, *, disbursement, actor):
        self.events.append(("paid", disbursement.pk, disbursement.status, actor.username))

    def on_reversed(self, *, disbursement, actor):
        self.events.append(("reversed", disbursement.pk, disbursement.status, actor.username))

    def on_repaid(self, *, disbursement, actor):
        self.events.append(("repaid", disbursement.pk, disbursement.repays_id, actor.username))

    def on_released(self, *, disbursement, actor, reason):
        self.events.append(("released", disbursement.pk, reason, actor.username))

    def on_closed(self, *, disbursement, actor, reason):
        self.events.append(("closed", disbursement.pk, reason, actor.username))

    def item_labels(self, *, subject_ids):
        return {}

    def trace_summary(self, *, disbursement, user):
        wish = self.wishes.get(disbursement.subject_id)
        if wish is None:
            return None
        return subjects.TraceSummary(
            record=wish, template=Template('<p id="toy">心愿：{{ summary.record.title }}</p>'),
            api={"wish": wish.pk, "title": wish.title},
            decisions=[{"order": 1, "step": "心愿认领", "status_label": "已同意",
                        "decided_by": "toy_cadre", "decided_as": "心愿专员", "on_behalf_of": "",
                        "decided_at": None, "comment": "可以", "skip_kind": "",
                        "assignee": "", "status": "approved"}],
            links=[("心愿详情", "/toy/wishes/7/")])


@pytest.fixture
def toy():
    subject = ToySubject()
    subjects.register(subject)
    yield subject
    subjects.unregister(TOY)


def _reserve(source, member, n, amount):
    return services.reserve(actor=None, subject_kind=TOY, subject_id=n, member=member,
                            org_unit=member.org_unit, funding_source=source, year=YEAR,
                            amount=amount)


def test_a_toy_subject_goes_through_every_money_event_and_the_trace(
        client, toy, union, make_member, finance, source, bureau_budget):
    member = make_member(union.team_a)
    first = _reserve(source, member, 7, 300)
    _pay(finance, union, source)
    first.refresh_from_db()
    services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=first,
                                  reason="银行退票")
    again = services.disbursement_repay(actor=finance.bureau_finance, disbursement=first,
                                        reason="账号已更正")
    services.disbursement_release(actor=finance.bureau_finance, disbursement=again,
                                  reason="心愿已由企业认领")
    other = _reserve(source, make_member(union.team_a), 8, 200)
    _pay(finance, union, source)
    other.refresh_from_db()
    services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=other,
                                  reason="银行退票")
    services.disbursement_close(actor=finance.bureau_finance, disbursement=other,
                                reason="职工放弃")
    assert toy.events == [
        ("paid", first.pk, DisbursementStatus.PAID, "bureau_checker"),
        ("reversed", first.pk, DisbursementStatus.REVERSED, "bureau_cashier"),
        ("repaid", again.pk, first.pk, "bureau_finance"),
        ("released", again.pk, "心愿已由企业认领", "bureau_finance"),
        ("paid", other.pk, DisbursementStatus.PAID, "bureau_checker"),
        ("reversed", other.pk, DisbursementStatus.REVERSED, "bureau_cashier"),
        ("closed", other.pk, "职工放弃", "bureau_finance"),
    ]
    assert services.ledger_recompute() == []

    trace = selectors.payment_trace(user=finance.tracer, disbursement_id=first.pk)
    assert trace["application"] == toy.wishes[7]
    assert [d["step"] for d in trace["decisions"]] == ["心愿认领"]
    assert [h.pk for h in trace["history"]] == [first.pk, again.pk]

    client.force_login(finance.tracer)
    found = client.get(reverse("funds:trace-search"), {"kind": "wish", "number": 8})
    assert found["Location"] == reverse("funds:trace-detail", args=[other.pk])
    html = client.get(reverse("funds:trace-detail", args=[first.pk])).content.decode()
    assert '<p id="toy">心愿：圆梦助学心愿</p>' in html
    assert '<a href="/toy/wishes/7/">心愿详情</a>' in html
    assert "toy_cadre" in html
    body = as_token(finance.tracer).get(f"/funds/disbursements/{first.pk}/trace").json()
    assert body["application"] == {"wish": 7, "title": "圆梦助学心愿"}
    assert [d["step"] for d in body["decisions"]] == ["心愿认领"]


def test_an_unregistered_kind_is_not_reserved(union, make_member, finance, source,
                                              bureau_budget):
    with pytest.raises(Conflict) as exc:
        _reserve(source, make_member(union.team_a), 7, 300)
    assert exc.value.code == "unknown_subject"
    assert not Disbursement.objects.exists()
    assert not LedgerEntry.objects.filter(kind="reserve").exists()


def test_a_money_event_of_a_kind_no_longer_registered_is_refused_and_undone(
        toy, union, make_member, finance, source, bureau_budget):
    d = _reserve(source, make_member(union.team_a), 7, 300)
    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    subjects.unregister(TOY)
    with pytest.raises(Conflict) as exc:
        services.batch_confirm(actor=finance.bureau_checker, batch=batch)
    assert exc.value.code == "unknown_subject"
    d.refresh_from_db()
    assert d.status == DisbursementStatus.IN_BATCH
    assert not LedgerEntry.objects.filter(kind="pay").exists()
    assert not AuditEvent.objects.filter(action="funds.batch_confirm").exists()
    with pytest.raises(Conflict):
        services.disbursement_release(actor=finance.bureau_finance, disbursement=d, reason="x")
    d.refresh_from_db()
    assert d.status == DisbursementStatus.IN_BATCH


def test_the_trace_of_an_unregistered_kind_shows_the_money_and_says_not_found(
        client, toy, union, make_member, finance, source, bureau_budget):
    d = _reserve(source, make_member(union.team_a), 7, 300)
    subjects.unregister(TOY)
    trace = selectors.payment_trace(user=finance.tracer, disbursement_id=d.pk)
    assert (trace["subject_known"], trace["summary"], trace["application"]) == (
        False, None, None)
    assert [e.kind for e in trace["entries"]] == ["reserve", "reserve"]
    client.force_login(finance.tracer)
    html = client.get(reverse("funds:trace-detail", args=[d.pk])).content.decode()
    assert "未找到该发放事项（toy.wish #7）" in html
    body = as_token(finance.tracer).get(f"/funds/disbursements/{d.pk}/trace").json()
    assert body["application"] is None
    # and nobody can look a disbursement up by the vanished kind's number
    assert client.get(reverse("funds:trace-search"), {"kind": "wish", "number": 7}
                      ).status_code == 200
