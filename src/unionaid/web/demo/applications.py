"""A few hundred demo applications in every state, made through the services.

Drafts, cases waiting at each step, returned (with the approver's comment), rejected, withdrawn,
approved (money reserved), paid through confirmed batches, one reversed payment and one
fast-tracked case awaiting its review; plus the worker persona's own applications. Each change is
a service call (``application_create_draft``, ``attachment_add``, ``application_submit``,
``task_decide``, ``batch_create``/``batch_export``/``batch_confirm``, ``disbursement_reverse``), so
the audit journal and the ledger are real.

The only thing not done through a service: a few cases waiting at their first step are moved a
few days into the past (``_age``), so that the to-do list shows overdue tasks. Their journal
events keep the real time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone

from unionaid.approvals.models import ApprovalCase, ApprovalTask
from unionaid.assistance import services as assistance_services
from unionaid.assistance.models import Application, ApplicationStatus, AssistanceItem
from unionaid.funds import services as fund_services
from unionaid.funds.models import Disbursement, DisbursementStatus
from unionaid.members.models import HouseholdMember, MembershipStatus, Relation
from unionaid.org.models import OrgUnit
from unionaid.web.demo import casework
from unionaid.web.demo.casework import Cast, approve_until, decide, file_application, pending_task
from unionaid.web.demo.chain import SERIOUS_ILLNESS
from unionaid.web.demo.staff import POST_NAMES

DEFAULT_APPLICATIONS = 300
MAX_APPLICATIONS = 2000  # the demo budgets cover this many
STATION_POST = POST_NAMES["station_cadre"]
BUREAU_POST = POST_NAMES["bureau_cadre"]
FINANCE_POST = POST_NAMES["finance"]
APPROVAL_POSTS = [POST_NAMES[c] for c in ("workshop_cadre", "station_cadre", "bureau_cadre",
                                          "finance")]

# (target state, share of the applications). Every state gets at least one.
PLAN = (
    ("draft", 0.08), ("review_workshop", 0.14), ("review_station", 0.12),
    ("review_bureau", 0.08), ("review_finance", 0.03), ("returned", 0.06), ("rejected", 0.06),
    ("withdrawn", 0.05), ("approved", 0.14), ("paid", 0.24),
)
OVERDUE = 5  # cases waiting at their first step that are aged past their due date
FAST_TRACK_REASON = "职工突发重病入院，家庭无力垫付医疗费用，特事特办先行救助。"
REVERSAL_REASON = "银行退票：收款账号已注销，款项退回，待核实后重新发放。"
CANCEL_REASON = "经核实该职工已获同类单位补助，取消本次核定发放。"


@dataclass
class ApplicationStats:
    by_status: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    reversed: int = 0
    fast_track: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def plan_counts(total: int) -> list[tuple[str, int]]:
    """How many applications of each target state (``paid`` takes the rounding)."""
    if total <= 0:
        return []
    counts = [(state, max(1, round(share * total))) for state, share in PLAN]
    surplus = sum(n for _s, n in counts) - total
    state, paid = counts[-1]
    counts[-1] = (state, max(1, paid - surplus))
    return counts


def _pools(members, workshop) -> list[list]:
    """Active members (not the worker persona): the workshop persona's 车间, the rest of its 站段,
    the rest of the bureau — drawn from about 30 / 20 / 50 %."""
    station_path = workshop.path[: 2 * OrgUnit.steplen]
    pools: list[list] = [[], [], []]
    for member in members:
        if member.membership_status != MembershipStatus.ACTIVE:
            continue
        path = member.org_unit.path
        pools[0 if path.startswith(workshop.path) else 1 if path.startswith(station_path)
              else 2].append(member)
    return pools


def _draw(pools: list[list], rng: random.Random, weights=(3, 2, 5)):
    weights = [w if pool else 0 for w, pool in zip(weights, pools, strict=True)]
    if not any(weights):
        return None
    pool = rng.choices(pools, weights)[0]
    return pool.pop(rng.randrange(len(pool)))


class Maker:
    """Files and drives one application after another towards its target state."""

    def __init__(self, *, cast: Cast, items: dict[str, AssistanceItem], rng: random.Random,
                 with_child: set[int]):
        self.cast, self.items, self.rng, self.with_child = cast, items, rng, with_child
        self.today = timezone.localdate()
        self.paid: list[int] = []

    def _pick(self, member, want):
        codes = sorted(casework.FACTS)
        self.rng.shuffle(codes)
        for code in codes:
            if code in casework.NEEDS_CHILD and member.pk not in self.with_child:
                continue
            if code in casework.NEEDS_SENIORITY and (
                    member.joined_on is None or (self.today - member.joined_on).days < 400):
                continue
            facts = casework.FACTS[code](self.rng, want)
            if facts is not None:
                return self.items[code], facts
        raise AssertionError(f"no demo item for {want!r}")

    def make(self, member, state: str) -> Application:
        rng, cast = self.rng, self.cast
        filer = cast.filer_for(member)
        if state == "review_finance":
            item = self.items[SERIOUS_ILLNESS]
            facts = casework.FACTS[SERIOUS_ILLNESS](rng, None)
        else:
            item, facts = self._pick(member, "big" if state == "review_bureau" else None)
        if state == "draft" or (state == "withdrawn" and rng.random() < 0.4):
            application = file_application(actor=filer, member=member, item=item, facts=facts,
                                           rng=rng, materials=False)
            if state == "withdrawn":
                assistance_services.application_withdraw(actor=filer, application=application,
                                                         reason="职工本人表示暂不申请。")
            return application
        application = file_application(actor=filer, member=member, item=item, facts=facts,
                                       rng=rng)
        pk = application.pk
        if state == "review_station":
            approve_until(cast, pk, rng, post=STATION_POST)
        elif state == "review_bureau":
            approve_until(cast, pk, rng, post=BUREAU_POST)
        elif state == "review_finance":
            approve_until(cast, pk, rng, post=FINANCE_POST)
        elif state in ("returned", "rejected"):
            task = approve_until(cast, pk, rng, steps=rng.randint(0, 1))
            comments = casework.RETURN_COMMENTS if state == "returned" else casework.REJECT_COMMENTS
            decide(cast, task, "return" if state == "returned" else "reject", rng.choice(comments))
        elif state == "withdrawn":
            approve_until(cast, pk, rng, steps=rng.randint(0, 1))
            assistance_services.application_withdraw(actor=filer, application=application,
                                                     reason="职工已通过其他渠道解决，申请撤回。")
        elif state in ("approved", "paid"):
            approve_until(cast, pk, rng)
            if state == "paid":
                self.paid.append(pk)
        return application

    def fast_track(self, member) -> Application:
        """A cadre's fast-tracked case: the 车间 and 站段 steps are skipped, the 路局 decides; the
        skipped steps' holders still owe the review afterwards."""
        application = file_application(
            actor=self.cast.filer_for(member), member=member, item=self.items["yl-zdjb"],
            facts={"disease": "恶性肿瘤"}, rng=self.rng, fast_track_reason=FAST_TRACK_REASON,
        )
        approve_until(self.cast, application.pk, self.rng)
        return application

    def worker(self, member, user) -> None:
        """The worker persona files for themself: a 大病 claim that is paid, a hospital claim
        returned for material and resubmitted (now at the 站段), and a draft."""
        rng, items = self.rng, self.items
        paid = file_application(actor=user, member=member, item=items[SERIOUS_ILLNESS],
                                facts={"self_paid": "12600.00", "disease": "心脑血管疾病"},
                                rng=rng)
        approve_until(self.cast, paid.pk, rng)
        self.paid.append(paid.pk)
        stay = file_application(actor=user, member=member, item=items["yl-zybz"],
                                facts={"days": 12, "admitted_on": casework._recent_day(rng)},
                                rng=rng)
        decide(self.cast, pending_task(stay.pk), "return", "出院小结缺少医院盖章页，请补充后重新提交。")
        assistance_services.attachment_add(actor=user, application=stay, material="出院小结",
                                           uploaded_file=casework.upload("出院小结", 3))
        assistance_services.application_resubmit(actor=user, application=stay)
        approve_until(self.cast, stay.pk, rng, post=STATION_POST)
        assistance_services.application_create_draft(
            actor=user, member=member, item=items["xx-jnts"], facts={"days": 10},
            reason="参加接触网作业技能培训。")

    def pay(self) -> int:
        """Confirmed batches (one per funding source) for the applications meant to be paid:
        the finance officer makes and exports each, the cashier confirms it (四眼原则)."""
        finance, cashier = self.cast.finance, self.cast.cashier
        by_source: dict[int, list[int]] = defaultdict(list)
        # a worker with no bank account on file can't be paid: their grant stays 已核准待发放
        for d in (Disbursement.objects.filter(subject_id__in=self.paid,
                                              subject_kind=assistance_services.SUBJECT_KIND,
                                              status=DisbursementStatus.RESERVED)
                  .exclude(member__bank_account="")
                  .select_related("budget").order_by("pk")):
            by_source[d.budget.funding_source_id].append(d.pk)
        root = self.cast.root
        sources = {s.pk: s for s in {i.funding_source for i in self.items.values()}}
        for source_id, ids in sorted(by_source.items()):
            batch = fund_services.batch_create(actor=finance, org_unit=root,
                                               funding_source=sources[source_id],
                                               disbursement_ids=ids)
            fund_services.batch_export(actor=finance, batch=batch, fmt="xlsx")
            fund_services.batch_confirm(actor=cashier, batch=batch)
        return len(by_source)

    def reverse_one(self, *, skip_member_id: int | None) -> int:
        """The finance officer reverses the first payment (冲正, the bank returned it)."""
        return self._finance_one(DisbursementStatus.PAID, "pk", skip_member_id,
                                 fund_services.disbursement_reverse, REVERSAL_REASON)

    def cancel_one(self, *, skip_member_id: int | None) -> int:
        """The finance officer cancels the newest reserved grant before payment (释放预留)."""
        return self._finance_one(DisbursementStatus.RESERVED, "-pk", skip_member_id,
                                 fund_services.disbursement_release, CANCEL_REASON)

    def _finance_one(self, status, order: str, skip_member_id, service, reason: str) -> int:
        disbursement = (Disbursement.objects.filter(status=status)
                        .exclude(member_id=skip_member_id).select_related("budget__org_unit")
                        .order_by(order).first())
        if disbursement is None:
            return 0
        service(actor=self.cast.finance, disbursement=disbursement, reason=reason)
        return 1

def _age(application_ids: list[int], rng: random.Random) -> None:
    """Move a few cases waiting at their first step some days into the past (overdue)."""
    for pk in application_ids:
        delta = dt.timedelta(days=rng.randint(4, 9), hours=rng.randint(0, 8))
        case_id = Application.objects.filter(pk=pk).values_list("case_id", flat=True).get()
        Application.objects.filter(pk=pk).update(created_at=F("created_at") - delta,
                                                 submitted_at=F("submitted_at") - delta)
        ApprovalCase.objects.filter(pk=case_id).update(started_at=F("started_at") - delta)
        ApprovalTask.objects.filter(case_id=case_id).update(created_at=F("created_at") - delta,
                                                            due_at=F("due_at") - delta)


def build_applications(*, members, total: int, cast: Cast, workshop, worker=None,
                       seed: int) -> ApplicationStats:
    """``total`` applications over ``members`` (plus the worker persona's own, if given)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not crypto
    cast.load_deciders(APPROVAL_POSTS)
    items = {i.code: i for i in AssistanceItem.objects.select_related(
        "category", "funding_source").filter(code__in=[*casework.FACTS])}
    with_child = set(HouseholdMember.objects.filter(relation=Relation.CHILD)
                     .values_list("member_id", flat=True))
    maker = Maker(cast=cast, items=items, rng=rng, with_child=with_child)
    stats = ApplicationStats()
    if worker is not None and worker.member_id:
        maker.worker(next(m for m in members if m.pk == worker.member_id), worker)
    pools = _pools([m for m in members if worker is None or m.pk != worker.member_id], workshop)
    # in the workshop persona's 车间 if possible: they owe its review afterwards
    member = _draw(pools, rng, weights=(100, 10, 1)) if total > 0 else None
    if member is not None:
        maker.fast_track(member)
        stats.fast_track = 1
    overdue: list[int] = []
    plan = [state for state, n in plan_counts(max(0, total - 1)) for _ in range(n)]
    rng.shuffle(plan)
    seen: set[str] = set()
    for state in plan:
        # the first of each state in the personas' 车间, so every persona's list shows it
        member = _draw(pools, rng, weights=(3, 2, 5) if state in seen else (100, 10, 1))
        seen.add(state)
        if member is None:
            break
        application = maker.make(member, state)
        if (state == "review_workshop" and len(overdue) < OVERDUE
                and member.org_unit.path.startswith(workshop.path)):
            overdue.append(application.pk)
    stats.batches = maker.pay()
    stats.reversed = maker.reverse_one(skip_member_id=getattr(worker, "member_id", None))
    maker.cancel_one(skip_member_id=getattr(worker, "member_id", None))
    _age(overdue, rng)
    stats.by_status = dict(Counter(Application.objects.values_list("status", flat=True)))
    for status in ApplicationStatus.values:
        stats.by_status.setdefault(status, 0)
    return stats
