"""External records are personal data: encrypted at rest, found by the members' keyed hashes."""

from __future__ import annotations

from django.db import connection

from unionaid.matching.loading import person_key_for
from unionaid.matching.models import ExternalRecord


def test_it_encrypts_identity_and_extras_and_hashes_the_id_like_members(
        union, cadres, make_dataset, make_record, make_member):
    member = make_member(union.team_a)
    dataset = make_dataset(union.station_a, cadres.station_a)
    record = make_record(dataset, person=member, phone="16512345678", address="某市某路1号",
                         extra='{"金额": "3200"}')
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_enc, phone_enc, address_enc, extra_enc "
                       "FROM matching_externalrecord WHERE id = %s", [record.pk])
        stored = cursor.fetchone()
    for clear, cipher in zip([member.id_number, "16512345678", "某市某路1号", "3200"], stored,
                             strict=True):
        assert clear not in cipher
    again = ExternalRecord.objects.get(pk=record.pk)
    assert again.id_number == member.id_number
    assert again.extra == '{"金额": "3200"}'
    # the exact stage joins on hashes: the record's hash is the member's
    assert again.id_hash == member.id_number_hash
    assert again.id_number_masked != member.id_number


def test_a_person_key_is_stable_and_falls_back_from_id_to_name_and_birth(people):
    person = people.person()
    by_id = person_key_for(id18=person["id_number"], name=person["name"],
                           birth=person["birth_date"], phone=None)
    assert by_id == person_key_for(id18=person["id_number"], name="别的名字", birth=None,
                                   phone=None)
    by_birth = person_key_for(id18=None, name=person["name"], birth=person["birth_date"],
                              phone="16512345678")
    assert by_birth.startswith("b:")
    assert by_id.startswith("i:")
    assert person["name"] not in by_birth
    assert by_birth == person_key_for(id18=None, name=person["name"],
                                      birth=person["birth_date"], phone=None)
    assert person_key_for(id18=None, name=person["name"], birth=None,
                          phone="16512345678").startswith("p:")
    assert person_key_for(id18=None, name="", birth=None, phone=None) == ""
