from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.db import connection

from unionaid.audit.models import AuditEvent
from unionaid.core import idcard
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.members import services
from unionaid.members.models import ConsentKind, HouseholdMember, Member
from unionaid.members.selectors import member_get_for_user, member_search


def raw_column(member_id: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM members_member WHERE id = %s", [member_id])
        return cursor.fetchone()[0]


def test_it_creates_a_member_with_identity_derived_from_the_id(union, personas, people):
    person = people.person()
    member = services.member_create(
        actor=personas.station_cadre, name=person["name"], id_number=person["id_number"],
        phone=person["phone"], org_unit=union.team_a,
    )
    info = idcard.parse_id_number(person["id_number"])
    assert member.birth_date == info.birth_date
    assert member.sex == info.sex
    event = AuditEvent.objects.get(action="member.create", target_id=str(member.pk))
    assert person["id_number"] not in str(event.changes)
    assert event.changes["id_number"]["after"] == member.id_number_masked


def test_id_numbers_and_phones_are_never_stored_in_clear(union, personas, people):
    person = people.person()
    member = services.member_create(
        actor=personas.station_cadre, name=person["name"], id_number=person["id_number"],
        phone=person["phone"], org_unit=union.team_a, bank_account="6222020200112233445",
    )
    for column in ("id_number_enc", "phone_enc", "bank_account_enc", "id_number_hash"):
        stored = raw_column(member.pk, column)
        assert person["id_number"] not in stored
        assert person["phone"] not in stored
        assert "6222020200112233445" not in stored
    assert Member.objects.get(pk=member.pk).id_number == person["id_number"]


def test_a_15_digit_number_is_converted(union, personas):
    first_gen = "140105900101123"
    member = services.member_create(
        actor=personas.station_cadre, name="测试甲", id_number=first_gen, org_unit=union.team_a
    )
    assert len(member.id_number) == 18
    assert member.birth_date == dt.date(1990, 1, 1)


def test_it_refuses_a_bad_check_digit_in_chinese(union, personas, people):
    number = people.id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ServiceError) as exc:
        services.member_create(actor=personas.station_cadre, name="测试乙", id_number=wrong,
                               org_unit=union.team_a)
    assert "id_number" in exc.value.fields
    assert "校验" in exc.value.fields["id_number"]
    assert not Member.objects.exists()


def test_the_same_id_number_cannot_be_registered_twice(union, personas, people):
    number = people.id_number()
    services.member_create(actor=personas.station_cadre, name="甲", id_number=number,
                           org_unit=union.team_a)
    with pytest.raises(Conflict):
        services.member_create(actor=personas.station_cadre, name="乙", id_number=number,
                               org_unit=union.workshop_a)


def test_the_record_belongs_to_the_members_unit_not_to_its_author(union, personas, make_member):
    member = make_member(union.team_a, actor=personas.station_cadre)
    assert member.org_unit_id == union.team_a.pk
    # The 班组 cadre did not type it but sees it; the author's other units don't matter.
    assert member_get_for_user(user=personas.team_cadre, pk=member.pk) == member


def test_a_cadre_cannot_create_members_outside_their_scope(union, personas, people):
    person = people.person()
    with pytest.raises(PermissionDenied):
        services.member_create(actor=personas.team_cadre, name=person["name"],
                               id_number=person["id_number"], org_unit=union.team_b)


def test_out_of_scope_lookup_is_not_found_and_journaled(union, personas, make_member):
    member = make_member(union.team_b)
    from unionaid.core.errors import NotFound

    with pytest.raises(NotFound):
        member_get_for_user(user=personas.team_cadre, pk=member.pk)
    assert AuditEvent.objects.filter(action="access.denied", target_id=str(member.pk)).exists()


def test_update_journals_masked_before_and_after(union, personas, make_member, people):
    member = make_member(union.team_a)
    new_phone = people.phone()
    services.member_update(actor=personas.station_cadre, member=member, phone=new_phone,
                           employment_form="new_employment_form")
    event = AuditEvent.objects.get(action="member.update")
    assert new_phone not in str(event.changes)
    assert event.changes["employment_form"] == {"before": "regular", "after": "new_employment_form"}
    assert event.changes["phone"]["after"].count("*") == 4


def test_moving_a_member_needs_rights_in_both_units(union, personas, make_member):
    member = make_member(union.team_a)
    with pytest.raises(PermissionDenied):
        services.member_update(actor=personas.station_cadre, member=member, org_unit=union.team_b)
    assert Member.objects.get(pk=member.pk).org_unit_id == union.team_a.pk


def test_reveal_needs_the_permission_and_is_journaled(union, personas, make_member):
    member = make_member(union.team_a)
    with pytest.raises(PermissionDenied):
        services.member_reveal(actor=personas.team_cadre, member=member, field="id_number")
    clear = services.member_reveal(actor=personas.station_cadre, member=member, field="id_number")
    assert clear == Member.objects.get(pk=member.pk).id_number
    outcomes = list(AuditEvent.objects.filter(action="member.reveal").values_list("outcome",
                                                                                   flat=True))
    assert sorted(outcomes) == ["denied", "ok"]


def test_search_by_id_phone_and_name(union, personas, make_member):
    member = make_member(union.team_a, name="王建国")
    make_member(union.team_a, name="王建华")
    make_member(union.team_b, name="王建民")
    user = personas.station_cadre
    assert list(member_search(user=user, query=member.id_number)) == [member]
    assert list(member_search(user=user, query=member.phone)) == [member]
    names = {m.name for m in member_search(user=user, query="王建")}
    assert names == {"王建国", "王建华"}  # 王建民 is in another 站段
    assert list(member_search(user=user, query="110105199001011230")) == []


def test_household_child_needs_consent_and_withdrawal_blocks_health_data(
    union, personas, make_member
):
    member = make_member(union.team_a)
    child_birth = dt.date.today().replace(year=dt.date.today().year - 8)
    with pytest.raises(PermissionDenied) as exc:
        services.household_member_add(actor=personas.team_cadre, member=member, name="小明",
                                      relation="child", birth_date=child_birth)
    assert exc.value.code == "consent_required"
    services.consent_grant(actor=personas.team_cadre, member=member, kind=ConsentKind.CHILDREN)
    services.consent_grant(actor=personas.team_cadre, member=member, kind=ConsentKind.HEALTH)
    services.household_member_add(actor=personas.team_cadre, member=member, name="小明",
                                  relation="child", birth_date=child_birth)
    parent = services.household_member_add(actor=personas.team_cadre, member=member, name="老张",
                                           relation="parent", health_note="慢性肾病")
    assert services.household_health_note(member=member, person=parent) == "慢性肾病"
    services.consent_withdraw(actor=personas.team_cadre, member=member, kind=ConsentKind.HEALTH)
    assert services.household_health_note(member=member, person=parent) is None
    with pytest.raises(PermissionDenied):
        services.household_member_add(actor=personas.team_cadre, member=member, name="老李",
                                      relation="parent", health_note="高血压")
    assert HouseholdMember.objects.filter(member=member).count() == 2


def test_clear_id_numbers_never_reach_the_logs(union, personas, people, caplog):
    person = people.person()
    logger = logging.getLogger("unionaid.test")
    from unionaid.core.logging import RedactPersonalData

    handler_filter = RedactPersonalData()
    record = logger.makeRecord("unionaid.test", logging.INFO, __file__, 1,
                               "member %s phone %s", (person["id_number"], person["phone"]), None)
    handler_filter.filter(record)
    assert person["id_number"] not in record.getMessage()
    assert person["phone"] not in record.getMessage()


# -- an ID number already registered: say where only to those who may see it ----------------

def test_a_duplicate_in_scope_gets_the_plain_answer_and_no_journal(union, personas, make_member):
    existing = make_member(union.team_a)
    with pytest.raises(Conflict) as exc:
        services.member_create(actor=personas.team_cadre, name="乙", id_number=existing.id_number,
                               org_unit=union.team_a)
    assert exc.value.code == "duplicate_id_number"
    assert exc.value.message == "该身份证号已登记为职工。"
    assert not AuditEvent.objects.filter(action="member.duplicate_id_number").exists()


def test_a_duplicate_out_of_scope_says_neither_whose_nor_where_and_is_journaled(
    union, personas, make_member
):
    existing = make_member(union.team_b)
    with pytest.raises(Conflict) as exc:
        services.member_create(actor=personas.team_cadre, name="乙", id_number=existing.id_number,
                               org_unit=union.team_a)
    assert exc.value.code == "duplicate_id_number"
    assert exc.value.message == "该身份证号已登记，请联系上级工会核实。"
    assert exc.value.fields == {"id_number": exc.value.message}
    event = AuditEvent.objects.get(action="member.duplicate_id_number")
    assert (event.outcome, event.actor_id) == ("denied", personas.team_cadre.pk)
    assert (event.target_type, event.target_id) == ("members.member", str(existing.pk))
    assert event.org_unit_path == union.team_b.path  # the journal of the existing member's unit
    assert event.changes["attempted"] == "member.create"
    assert event.changes["unit"] == union.team_a.name
    assert existing.id_number not in json.dumps(event.changes, ensure_ascii=False)
    assert Member.objects.count() == 1


def test_changing_an_id_number_to_one_held_out_of_scope_is_answered_the_same(
    union, personas, make_member
):
    mine = make_member(union.team_a)
    theirs = make_member(union.team_b)
    with pytest.raises(Conflict) as exc:
        services.member_update(actor=personas.team_cadre, member=mine,
                               id_number=theirs.id_number)
    assert exc.value.message == "该身份证号已登记，请联系上级工会核实。"
    event = AuditEvent.objects.get(action="member.duplicate_id_number")
    assert event.target_id == str(theirs.pk)
    assert event.changes["attempted"] == "member.update"
