"""Synthetic members, households and consents for the demo, loaded in bulk.

Identity values are validated the same way ``members.services`` does (``clean_member_fields``)
and stored through the model's encrypted fields plus the keyed lookup hashes, but written with
``bulk_create``: thousands of ``member_create`` calls would each append an audit event, while a
bulk load is journaled once by the builder.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from unionaid.core.synthetic import SyntheticPeople
from unionaid.members.models import (
    Consent,
    ConsentKind,
    EmploymentForm,
    HouseholdMember,
    Member,
    MembershipStatus,
    Relation,
)
from unionaid.members.selectors import id_number_hash, phone_hash
from unionaid.members.services import CHILD_AGE, clean_member_fields
from unionaid.org.models import OrgUnit

BATCH = 1000

EMPLOYMENT_WEIGHTS = (
    (EmploymentForm.REGULAR, 80),
    (EmploymentForm.DISPATCHED, 9),
    (EmploymentForm.NEW_EMPLOYMENT_FORM, 4),
    (EmploymentForm.PART_TIME, 3),
    (EmploymentForm.RETIRED_REHIRED, 4),
)
STATUS_WEIGHTS = (
    (MembershipStatus.ACTIVE, 92),
    (MembershipStatus.NON_MEMBER, 3),
    (MembershipStatus.RETIRED, 3),
    (MembershipStatus.TRANSFERRED_OUT, 1.5),
    (MembershipStatus.DECEASED, 0.5),
)
HEALTH_NOTES = (
    "高血压，长期服药", "2型糖尿病", "腰椎间盘突出", "慢性肾病，每周透析", "脑梗后遗症，行动不便",
    "冠心病", "类风湿关节炎", "术后康复中",
)
CHILD_SCHOOLING = ("幼儿园", "小学", "初中", "高中", "大学在读", "职高")
SPOUSE_JOBS = ("个体经营", "超市店员", "无业", "灵活就业", "教师", "护士", "务农", "外卖骑手")


@dataclass
class PeopleStats:
    members: int = 0
    household: int = 0
    consents: int = 0


def _pick(rng: random.Random, weighted) -> str:
    values = [v for v, _w in weighted]
    weights = [w for _v, w in weighted]
    return rng.choices(values, weights)[0]


def _shift_years(day: dt.date, years: int, rng: random.Random) -> dt.date:
    return dt.date(day.year + years, 1, 1) + dt.timedelta(days=rng.randrange(365))


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def distribute(total: int, teams: Sequence[OrgUnit], rng: random.Random) -> list[OrgUnit]:
    """One team per member: every team gets a share, sizes vary ±50 %."""
    if not teams or total <= 0:
        return []
    weights = [0.5 + rng.random() for _ in teams]
    return rng.choices(list(teams), weights, k=total)


def build_members(
    *, total: int, teams: Sequence[OrgUnit], people: SyntheticPeople, rng: random.Random,
    first_team: OrgUnit | None = None,
) -> list[Member]:
    """Unsaved members spread over ``teams``; the first one is placed in ``first_team``
    (the demo worker) and is an active, regular member."""
    today = timezone.localdate()
    placement = distribute(total, teams, rng)
    if placement and first_team is not None:
        placement[0] = first_team
    seen: set[str] = set()
    members: list[Member] = []
    for index, unit in enumerate(placement):
        while True:
            person = people.person()
            if person["id_number"] not in seen:
                break
        seen.add(person["id_number"])
        cleaned = clean_member_fields(
            name=person["name"], id_number=person["id_number"], phone=person["phone"],
            bank_account=people.bank_account() if rng.random() < 0.6 else "",
        )
        age = _age(cleaned["birth_date"], today)
        status = MembershipStatus.ACTIVE if index == 0 else _pick(rng, STATUS_WEIGHTS)
        form = EmploymentForm.REGULAR if index == 0 else _pick(rng, EMPLOYMENT_WEIGHTS)
        joined = min(today, _shift_years(cleaned["birth_date"], rng.randint(19, 24), rng))
        members.append(Member(
            name=cleaned["name"],
            # Clear values here; the EncryptedTextField encrypts them on insert.
            id_number=cleaned["id_number"],
            id_number_hash=id_number_hash(cleaned["id_number"]),
            birth_date=cleaned["birth_date"],
            sex=cleaned["sex"],
            phone=cleaned["phone"] if rng.random() < 0.95 else "",
            bank_account=cleaned["bank_account"],
            org_unit=unit,
            employment_form=form,
            membership_status=MembershipStatus.RETIRED if age >= 60 and index else status,
            joined_on=joined if status != MembershipStatus.NON_MEMBER else None,
        ))
        member = members[-1]
        member.phone_hash = phone_hash(member.phone) if member.phone else ""
    return members


COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")


def _given_name(people: SyntheticPeople, sex: str) -> str:
    full = people.name(sex)
    return full[2:] if full[:2] in COMPOUND_SURNAMES else full[1:]


def _relative(member_id: int, name: str, relation: str, birth: dt.date, people: SyntheticPeople,
              *, sex: str, with_id: bool, health: str = "", occupation: str = "",
              ) -> HouseholdMember:
    number = people.id_number(birth_date=birth, sex=sex) if with_id else ""
    return HouseholdMember(
        member_id=member_id, name=name, relation=relation, birth_date=birth,
        id_number=number, id_number_hash=id_number_hash(number) if number else "",
        health_note=health, occupation=occupation,
    )


def build_households(
    *, members: Sequence[Member], people: SyntheticPeople, rng: random.Random,
) -> tuple[list[HouseholdMember], list[Consent]]:
    """Spouses, children and parents for about 70 % of the members.

    Children under 14 and health notes are recorded only for members with the matching separate
    consent (PIPL), as ``household_member_add`` requires.
    """
    today = timezone.localdate()
    now = timezone.now()
    household: list[HouseholdMember] = []
    consents: list[Consent] = []
    for member in members:
        if rng.random() > 0.7:
            continue
        granted = set()
        if rng.random() < 0.4:
            granted.add(ConsentKind.CHILDREN)
        if rng.random() < 0.3:
            granted.add(ConsentKind.HEALTH)
        for kind in sorted(granted):
            consents.append(Consent(member_id=member.pk, kind=kind, granted_at=now,
                                    method="书面签字"))
        surname = member.name[:2] if member.name[:2] in COMPOUND_SURNAMES else member.name[0]
        age = _age(member.birth_date, today)
        if age >= 24 and rng.random() < 0.8:
            spouse_sex = "F" if member.sex == "M" else "M"
            birth = min(today, _shift_years(member.birth_date, rng.randint(-3, 3), rng))
            household.append(_relative(
                member.pk, people.name(spouse_sex), Relation.SPOUSE, birth, people,
                sex=spouse_sex, with_id=rng.random() < 0.7, occupation=rng.choice(SPOUSE_JOBS)))
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2))):
            birth = _shift_years(member.birth_date, rng.randint(23, 38), rng)
            if birth > today:
                continue
            if _age(birth, today) < CHILD_AGE and ConsentKind.CHILDREN not in granted:
                continue
            sex = people.sex()
            household.append(_relative(
                member.pk, surname + _given_name(people, sex), Relation.CHILD, birth, people,
                sex=sex, with_id=rng.random() < 0.6,
                occupation=rng.choice(CHILD_SCHOOLING) if _age(birth, today) < 23 else ""))
        if rng.random() < 0.35:
            birth = _shift_years(member.birth_date, -rng.randint(22, 32), rng)
            health = ""
            if ConsentKind.HEALTH in granted and rng.random() < 0.6:
                health = rng.choice(HEALTH_NOTES)
            sex = people.sex()
            household.append(_relative(
                member.pk, surname + _given_name(people, sex), Relation.PARENT, birth, people,
                sex=sex, with_id=rng.random() < 0.5, health=health, occupation="退休"))
    return household, consents


def load_people(
    *, total: int, teams: Sequence[OrgUnit], seed: int, first_team: OrgUnit | None = None,
) -> tuple[list[Member], PeopleStats]:
    """Generate and insert members, households and consents. Returns the saved members."""
    people = SyntheticPeople(seed)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not crypto
    members = build_members(
        total=total, teams=teams, people=people, rng=rng, first_team=first_team
    )
    Member.objects.bulk_create(members, batch_size=BATCH)
    if members and members[0].pk is None:  # backends that don't return ids from bulk inserts
        members = list(Member.objects.order_by("pk"))
    household, consents = build_households(members=members, people=people, rng=rng)
    HouseholdMember.objects.bulk_create(household, batch_size=BATCH)
    Consent.objects.bulk_create(consents, batch_size=BATCH)
    return members, PeopleStats(len(members), len(household), len(consents))
