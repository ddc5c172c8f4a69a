"""The demo's hardship work (issue 4), made through the services like everything else: a 低保
line table, the archive's enrolment and exit flows, a visit campaign with its pairings, a few
hundred home and workplace visits with their six-clear profiles, needs and follow-ups, and an
archive spread over the three categories — some households waiting in public notice (one with an
objection), most enrolled, some exited with their follow-up visits, one re-enrolled.

The one thing not done through a screen: a public notice lasts five working days, so the demo
moves each finished notice's end date into the past ("published a week ago") before the 站段
post approves it. Everything else is decided by the posts' holders as in real use.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from unionaid.accounts.models import User
from unionaid.approvals.calendar import known_year
from unionaid.approvals.models import ApprovalTask, TaskStatus
from unionaid.approvals.services import task_decide
from unionaid.archive import flows as archive_flows
from unionaid.archive.models import HardshipRecord
from unionaid.archive.services import config as archive_config
from unionaid.archive.services import objections as archive_objections
from unionaid.archive.services import records as archive_records
from unionaid.archive.services.watch import watchlists_refresh
from unionaid.core.errors import ServiceError
from unionaid.members.models import Member
from unionaid.org.models import OrgUnit
from unionaid.visits.models import Pairing, PairingKind
from unionaid.visits.services import campaigns as campaign_services
from unionaid.visits.services import visits as visit_services
from unionaid.web.demo.casework import Cast

DIBAO_LINE = Decimal("820.00")        # the bureau's region, this year (synthetic figure)
DIBAO_LINE_LAST_YEAR = Decimal("780.00")
DIBAO_STATION_LINE = Decimal("860.00")  # one 站段 in a city with a higher line
SURNAMES = "王李张刘陈杨赵黄周吴"
JOBS = ["无业", "个体", "务农", "退休", "保洁", "家务"]
SUMMARIES = {
    True: ["家中收入低，配偶长期患病，孩子在读，生活较困难。",
           "家庭主要劳动力受伤，收入锐减，医疗支出大。",
           "住房条件差，家中老人需长期照护。"],
    False: ["家庭情况稳定，职工对工会工作满意。", "了解职工诉求，宣传帮扶政策。",
            "家庭收入稳定，暂无困难。"],
}


@dataclass
class HardshipStats:
    visits: int = 0
    workplace_visits: int = 0
    pairings: int = 0
    records: int = 0
    active: int = 0
    in_notice: int = 0
    exited: int = 0
    re_enrolled: int = 0
    refused: int = 0


def _money(value: float) -> str:
    return f"{Decimal(value).quantize(Decimal('1'))}.00"


def _profile(rng: random.Random, member: Member, *, hardship: bool, sudden: bool) -> dict:
    """A plausible household: a hardship household earns below about twice the line per head."""
    size = rng.randint(2, 5)
    surname = member.name[0]
    household = [{"name": member.name, "relation": "self", "age": rng.randint(28, 55),
                  "health": "healthy", "schooling": "", "occupation": "职工"}]
    household.append({"name": f"{rng.choice(SURNAMES)}某", "relation": "spouse",
                      "age": rng.randint(27, 55),
                      "health": rng.choice(["major_illness", "chronic", "disabled"])
                      if hardship and rng.random() < 0.6 else "healthy",
                      "schooling": "", "occupation": rng.choice(JOBS)})
    stages = ["college", "senior", "junior", "vocational"]
    for n in range(size - 2):
        if n == 0 or rng.random() < 0.5:
            household.append({"name": f"{surname}小{'一二三'[n]}", "relation": "child",
                              "age": rng.randint(14, 22), "health": "healthy",
                              "schooling": rng.choice(stages), "occupation": "学生"})
        else:
            household.append({"name": f"{surname}某{n}", "relation": "parent",
                              "age": rng.randint(65, 85), "health": "chronic", "schooling": "",
                              "occupation": "退休"})
    size = len(household)
    line = float(DIBAO_LINE)
    per_head = line * (rng.uniform(0.55, 1.9) if hardship else rng.uniform(2.3, 5.0))
    medical = rng.randrange(6000, 40000, 500) if hardship else rng.randrange(0, 3000, 500)
    schooling = sum(rng.randrange(3000, 12000, 500) for p in household if p["schooling"])
    income_monthly = per_head * size + (medical + schooling) / 12
    wage = min(income_monthly, rng.uniform(2800, 7800))
    incomes = [{"source": "wage", "monthly": _money(wage), "note": ""}]
    if income_monthly - wage > 10:
        incomes.append({"source": rng.choice(["pension", "allowance", "other"]),
                        "monthly": _money(income_monthly - wage), "note": ""})
    ill = any(p["health"] in ("major_illness", "chronic", "disabled") for p in household)
    causes = []
    if ill:
        causes.append("illness")
    if schooling:
        causes.append("schooling")
    if hardship and not causes:
        causes.append("low_income")
    loss = "0.00"
    if sudden:
        loss = _money(income_monthly * 12 * rng.uniform(0.9, 1.6))
        causes.append("accident")
    return {
        "household": household,
        "incomes": incomes,
        "housing": {"kind": rng.choice(["own", "rent", "public", "dorm"]), "homes": 1,
                    "area": rng.randint(35, 110), "note": ""},
        "causes": causes,
        "health": {"major_illness": any(p["health"] == "major_illness" for p in household),
                   "chronic": any(p["health"] == "chronic" for p in household),
                   "disability": any(p["health"] == "disabled" for p in household),
                   "note": "配偶需长期治疗" if ill else ""},
        "schooling": [{"name": p["name"], "stage": p["schooling"],
                       "annual_cost": _money(schooling / max(1, sum(
                           1 for q in household if q["schooling"]))), "private": False}
                      for p in household if p["schooling"]],
        "expenses": {"medical_annual": _money(medical), "schooling_annual": _money(schooling),
                     "other_rigid_annual": "0.00"},
        "sudden_loss": {"kind": "accident" if sudden else "", "amount": loss,
                        "note": "交通事故致重伤" if sudden else ""},
        "business": {"owns_business": False, "employees": 0},
    }


def _configure(*, root: OrgUnit, station: OrgUnit, admin: User) -> None:
    year = timezone.localdate().year
    archive_config.dibao_standard_save(actor=admin, org_unit=root, year=year,
                                       monthly_amount=DIBAO_LINE, region="示例市")
    archive_config.dibao_standard_save(actor=admin, org_unit=root, year=year - 1,
                                       monthly_amount=DIBAO_LINE_LAST_YEAR, region="示例市")
    archive_config.dibao_standard_save(actor=admin, org_unit=station, year=year,
                                       monthly_amount=DIBAO_STATION_LINE, region="示例东市")
    archive_flows.archive_flows_ensure(actor=admin, org_unit=root)
    if not known_year(year + 1):
        # chinese-calendar does not know next year yet, and public notices refuse to guess it:
        # the demo admin enters next year's New Year's Day, as an admin would each December.
        archive_config.workday_override_save(actor=admin, day=dt.date(year + 1, 1, 1),
                                             is_workday=False, note="元旦")


def _campaign(*, tree, admin: User, filers: dict[str, User], team_filer: User,
              team_unit_id: int, team_members: list[Member], stats: HardshipStats):
    today = timezone.localdate()
    campaign = campaign_services.campaign_create(
        actor=admin, name=f"{today.year}年“进万家”入户大走访", org_unit=tree.root,
        starts_on=today - dt.timedelta(days=45), ends_on=today + dt.timedelta(days=45),
        covered_units=tree.stations, target_units=len(tree.workshops), target_workers=400,
        description="全路局各站段工会干部结对联系车间、入户走访职工家庭，摸清困难底数。",
    )
    for workshop in tree.workshops:
        station_path = workshop.path[: 2 * OrgUnit.steplen]
        campaign_services.pairing_add(actor=admin, campaign=campaign,
                                      cadre=filers[station_path], kind=PairingKind.UNIT,
                                      target_unit=workshop)
        stats.pairings += 1
    for member in team_members[:8]:
        campaign_services.pairing_add(actor=admin, campaign=campaign, cadre=team_filer,
                                      kind=PairingKind.HOUSEHOLD, member=member)
        stats.pairings += 1
    return campaign


def _submit(actor: User, data: dict) -> None:
    visit_services.visit_submit(actor=actor, client_uuid=str(uuid.uuid4()), data=data)


def _visits(*, campaign, members: list[Member], cast: Cast, rng: random.Random, total: int,
            stats: HardshipStats) -> list[Member]:
    """Home visits to ``total`` members (about a third in hardship) and workplace visits to
    some of the paired workshops. Returns the members found in hardship."""
    today = timezone.localdate()
    household_pairs = {p.member_id: p for p in Pairing.objects.filter(
        campaign=campaign, kind=PairingKind.HOUSEHOLD)}
    found: list[Member] = []
    for n, member in enumerate(members[:total]):
        hardship = rng.random() < 0.36 or member.pk in household_pairs
        sudden = hardship and rng.random() < 0.2
        actor = cast.filer_for(member)
        pairing = household_pairs.get(member.pk)
        data = {
            "kind": "home", "member_id": member.pk, "campaign_id": campaign.pk,
            "pairing_id": pairing.pk if pairing else None,
            "visited_on": (today - dt.timedelta(days=rng.randint(0, 44))).isoformat(),
            "visitors": f"{actor.get_full_name() or actor.username}、{rng.choice(SURNAMES)}某",
            "place": "职工家中", "summary": rng.choice(SUMMARIES[hardship]),
            "satisfaction": rng.choice([5, 5, 4, 4, 4, 3]), "hardship_found": hardship,
            "profile": _profile(rng, member, hardship=hardship, sudden=sudden),
            "consent": {"health": True, "children": True, "method": "书面签字"},
            "needs": ([{"kind": "money", "note": "医疗费用负担重，希望申请救助"}]
                      if hardship else []) + ([{"kind": "job", "note": "配偶希望介绍工作"}]
                                              if hardship and n % 3 == 0 else []),
            "follow_ups": ([{"title": "协助准备建档材料", "due_on": (
                today + dt.timedelta(days=rng.randint(3, 20))).isoformat()}]
                if hardship and n % 2 == 0 else []),
        }
        _submit(actor, data)
        stats.visits += 1
        if hardship:
            found.append(member)
    for pairing in (Pairing.objects.filter(campaign=campaign, kind=PairingKind.UNIT)
                    .select_related("cadre", "target_unit").order_by("pk")):
        if rng.random() < 0.6:
            _submit(pairing.cadre, {
                "kind": "workplace", "visited_unit_id": pairing.target_unit_id,
                "campaign_id": campaign.pk, "pairing_id": pairing.pk,
                "visited_on": (today - dt.timedelta(days=rng.randint(0, 40))).isoformat(),
                "visitors": pairing.cadre.get_full_name() or pairing.cadre.username,
                "place": pairing.target_unit.name, "summary": "召开职工座谈会，了解一线职工困难。",
                "satisfaction": rng.choice([5, 4, 4]),
            })
            stats.workplace_visits += 1
    return found


def _pending(record: HardshipRecord) -> ApprovalTask | None:
    return (ApprovalTask.objects.filter(case__subject_kind__startswith="archive.",
                                        case__subject_id=record.pk, status=TaskStatus.PENDING)
            .select_related("step").first())


def _approve(cast: Cast, record: HardshipRecord, *, through_notice: bool) -> ApprovalTask | None:
    """Approve the record's pending steps; stop at a public notice unless ``through_notice``
    (then its end is moved into the past first, see the module docstring)."""
    while (task := _pending(record)) is not None:
        if task.step.is_public_notice:
            if not through_notice:
                return task
            ApprovalTask.objects.filter(pk=task.pk).update(
                due_at=timezone.now() - dt.timedelta(days=1))
            task.refresh_from_db()

        task_decide(actor=cast.deciders[task.assigned_position_id], task=task,
                    decision="approve", comment="情况属实，同意。")
    return None


def _archive(*, found: list[Member], cast: Cast, rng: random.Random,
             stats: HardshipStats) -> None:
    cast.load_deciders([archive_flows.WORKSHOP_POST, archive_flows.STATION_POST])
    enrolled: list[HardshipRecord] = []
    for n, member in enumerate(found):
        actor = cast.filer_for(member)
        try:
            record = archive_records.record_enrol(
                actor=actor, member=member, reason="入户走访发现家庭困难，申请建档。")
        except ServiceError:  # not eligible on its profile, or the household already has one
            stats.refused += 1
            continue
        stats.records += 1
        share = n % 10
        if share == 0:       # waiting for the 车间 review
            continue
        if share in (1, 2):  # in public notice; one of them with an objection
            _approve(cast, record, through_notice=False)
            stats.in_notice += 1
            if share == 1 and n % 20 == 1:
                archive_objections.objection_record(
                    actor=actor, record=record, raised_by_label="同车间职工",
                    content="反映该职工配偶有稳定收入，请核实。")
            continue
        _approve(cast, record, through_notice=True)
        stats.active += 1
        enrolled.append(record)
    for n, record in enumerate(enrolled):
        if n % 7 != 3:
            continue
        record.refresh_from_db()
        archive_records.record_exit_apply(actor=cast.filer_for(record.member), record=record,
                                          reason="配偶康复后重新就业，家庭收入已超过困难标准。")
        _approve(cast, record, through_notice=True)
        stats.exited += 1
        stats.active -= 1
        if stats.re_enrolled == 0:  # hardship returned for one household: a new record
            try:
                again = archive_records.record_enrol(
                    actor=cast.filer_for(record.member), member=record.member,
                    reason="家庭再次遭遇困难，重新申请建档。")
            except ServiceError:
                continue
            stats.re_enrolled += 1
            stats.records += 1
            stats.in_notice += 1
            _approve(cast, again, through_notice=False)


def build_hardship(*, tree, users: dict, unit_staff: dict, members: list[Member], cast: Cast,
                   team_members: list[Member], seed: int, visits: int = 300) -> HardshipStats:
    rng = random.Random(seed + 4)  # noqa: S311 - synthetic data, not crypto
    stats = HardshipStats()
    admin = users["bureau_cadre"]
    _configure(root=tree.root, station=tree.stations[-1], admin=admin)
    # two of the team cadre's workers are left unvisited, so the persona can try a first
    # visit and an enrolment (scripts/walkthrough_issue4.py)
    spare = {m.pk for m in team_members[-2:]} if len(team_members) > 2 else set()
    paired = [m for m in team_members[:8] if m.pk not in spare]
    campaign = _campaign(tree=tree, admin=admin, filers=cast.filers, team_filer=cast.team_filer,
                         team_unit_id=cast.team_unit_id, team_members=paired, stats=stats)
    active = [m for m in members if m.is_active_member and m.pk not in spare]
    rng.shuffle(active)
    visited = paired + [m for m in active if m not in paired]
    found = _visits(campaign=campaign, members=visited, cast=cast, rng=rng, total=visits,
                    stats=stats)
    _archive(found=found, cast=cast, rng=rng, stats=stats)
    watchlists_refresh(actor=None)
    return stats
