"""Tests for unionaid.core.synthetic."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from unionaid.core.idcard import parse_id_number, validate_matches
from unionaid.core.masking import validate_phone
from unionaid.core.synthetic import SHANXI_REGIONS, SyntheticPeople, luhn_check_digit

TODAY = dt.date(2025, 6, 1)


def luhn_valid(number: str) -> bool:
    """Independent Luhn check of a complete number."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total % 10 == 0


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def test_same_seed_is_deterministic() -> None:
    a, b = SyntheticPeople(42), SyntheticPeople(42)
    assert list(a.people(500)) == list(b.people(500))
    assert [a.bank_account() for _ in range(20)] == [b.bank_account() for _ in range(20)]
    assert a.id_number(sex="F", birth_date=dt.date(1980, 1, 2)) == b.id_number(
        sex="F", birth_date=dt.date(1980, 1, 2)
    )


def test_different_seeds_differ() -> None:
    assert list(SyntheticPeople(1).people(50)) != list(SyntheticPeople(2).people(50))


def test_people_have_valid_consistent_ids() -> None:
    gen = SyntheticPeople(7)
    for person in gen.people(20_000):
        info = parse_id_number(person["id_number"], today=TODAY)
        assert info.number == person["id_number"]
        assert info.region_code in SHANXI_REGIONS
        assert info.birth_date == person["birth_date"]
        assert info.sex == person["sex"]
        assert 1966 <= info.birth_date.year <= 2004
        validate_matches(info, birth_date=person["birth_date"], sex=person["sex"])
        assert validate_phone(person["phone"]) == person["phone"]
        assert 2 <= len(person["name"]) <= 4
        assert all(is_cjk(ch) for ch in person["name"])


def test_id_numbers_use_many_regions_and_both_check_kinds() -> None:
    gen = SyntheticPeople(3)
    numbers = [gen.id_number() for _ in range(5000)]
    assert len({n[:6] for n in numbers}) == len(SHANXI_REGIONS)
    assert any(n.endswith("X") for n in numbers)
    assert len(set(numbers)) > 4900


@pytest.mark.parametrize("sex", ["M", "F"])
def test_sex_argument_respected(sex: str) -> None:
    gen = SyntheticPeople(5)
    for _ in range(500):
        assert parse_id_number(gen.id_number(sex=sex), today=TODAY).sex == sex
        person = gen.person(sex)
        assert person["sex"] == sex
        assert parse_id_number(person["id_number"], today=TODAY).sex == sex


def test_id_number_with_explicit_fields() -> None:
    gen = SyntheticPeople(11)
    birth = dt.date(1952, 2, 29)  # outside the default range, leap day
    number = gen.id_number(birth_date=birth, sex="F", region_code="140181")
    info = parse_id_number(number, today=TODAY)
    assert (info.birth_date, info.sex, info.region_code) == (birth, "F", "140181")


@pytest.mark.parametrize("region", ["040105", "14010", "1401055", "14O105"])
def test_id_number_rejects_bad_region(region: str) -> None:
    with pytest.raises(ValueError, match="region code"):
        SyntheticPeople(1).id_number(region_code=region)


def test_bad_sex_rejected() -> None:
    gen = SyntheticPeople(1)
    with pytest.raises(ValueError, match="sex"):
        gen.name("X")
    with pytest.raises(ValueError, match="sex"):
        gen.person("male")


def test_year_range() -> None:
    gen = SyntheticPeople(9, min_year=2000, max_year=2000)
    assert {gen.birth_date().year for _ in range(200)} == {2000}
    with pytest.raises(ValueError, match="min_year"):
        SyntheticPeople(1, min_year=2000, max_year=1999)
    with pytest.raises(ValueError, match="min_year"):
        SyntheticPeople(1, min_year=1800)


def test_names_are_plausible_and_repeat() -> None:
    gen = SyntheticPeople(13)
    names = [gen.name() for _ in range(20_000)]
    counts = Counter(names)
    assert len(counts) < len(names)  # duplicate names occur
    assert counts.most_common(1)[0][1] > 5
    surnames = Counter(n[0] for n in names)
    top5 = {s for s, _ in surnames.most_common(5)}
    assert {"王", "李", "张"} <= top5
    lengths = Counter(len(n) for n in names)
    assert lengths[2] > 1000  # single-character given names
    assert lengths[3] > 10_000  # two-character given names


def test_phone_format() -> None:
    gen = SyntheticPeople(17)
    phones = [gen.phone() for _ in range(2000)]
    for phone in phones:
        assert validate_phone(phone) == phone
    assert len(set(phones)) > 1990


def test_bank_account() -> None:
    gen = SyntheticPeople(19)
    accounts = [gen.bank_account() for _ in range(2000)]
    assert {len(a) for a in accounts} == {16, 19}
    for account in accounts:
        assert account.isdigit()
        assert account.startswith("6222")
        assert luhn_valid(account)
    for length in (16, 17, 18, 19):
        account = gen.bank_account(length)
        assert len(account) == length
        assert luhn_valid(account)
    with pytest.raises(ValueError, match="length must be 16"):
        gen.bank_account(20)


@pytest.mark.parametrize(("body", "check"), [("7992739871", "3"), ("622200000000000", "9")])
def test_luhn_check_digit(body: str, check: str) -> None:
    assert luhn_check_digit(body) == check
    assert luhn_valid(body + check)
