"""Tests for unionaid.core.idcard (all numbers are synthetic)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import random

import pytest

from unionaid.core.idcard import (
    CHECK_CHARS,
    WEIGHTS,
    IdInfo,
    IdNumberError,
    check_digit,
    normalize_id_number,
    parse_id_number,
    to_halfwidth,
    validate_matches,
)

TODAY = dt.date(2025, 6, 1)
# Synthetic: Taiyuan Xiaodian district, 1990-03-07, sequence 123 (male).
FIRST17 = "14010519900307123"
# Hand-computed: sum(d * w) = 217, 217 % 11 = 8, "10X98765432"[8] = "4".
VALID = FIRST17 + "4"


def make_id(region: str = "140105", birth: str = "19900307", seq: str = "123") -> str:
    first17 = region + birth + seq
    return first17 + check_digit(first17)


def id_with_x_check() -> str:
    """A synthetic valid number whose check character is X."""
    for seq in range(1000):
        number = make_id(seq=f"{seq:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no X check digit found")  # pragma: no cover


def to_fullwidth(value: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in value)


# -- check_digit -----------------------------------------------------------


def test_check_digit_known_value() -> None:
    assert check_digit(FIRST17) == "4"


def test_check_digit_satisfies_iso7064_mod11_2() -> None:
    # Including the check character with weight 1 the weighted sum is 1 mod 11.
    rng = random.Random(1234)
    seen = set()
    for _ in range(2000):
        first17 = "".join(str(int(rng.random() * 10)) for _ in range(17))
        check = check_digit(first17)
        seen.add(check)
        value = 10 if check == "X" else int(check)
        total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) + value
        assert total % 11 == 1
    assert seen == set(CHECK_CHARS)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "1401051990030712",
        "140105199003071234",
        "1401051990030712a",
        "１４０１０５１９９００３０７１２３",
    ],
)
def test_check_digit_rejects_non_17_digits(bad: str) -> None:
    with pytest.raises(IdNumberError) as exc_info:
        check_digit(bad)
    assert exc_info.value.code == "id_chars"


# -- parse_id_number: valid input ------------------------------------------


def test_parse_valid_male() -> None:
    info = parse_id_number(VALID, today=TODAY)
    assert info == IdInfo(
        number=VALID, region_code="140105", birth_date=dt.date(1990, 3, 7), sex="M"
    )


def test_parse_valid_female() -> None:
    number = make_id(seq="124")
    info = parse_id_number(number, today=TODAY)
    assert info.sex == "F"
    assert info.number == number


@pytest.mark.parametrize(
    ("seventeenth", "sex"), [(str(d), "F" if d % 2 == 0 else "M") for d in range(10)]
)
def test_sex_from_17th_digit_parity(seventeenth: str, sex: str) -> None:
    assert parse_id_number(make_id(seq="12" + seventeenth), today=TODAY).sex == sex


def test_parse_lowercase_x() -> None:
    number = id_with_x_check()
    info = parse_id_number(number[:-1] + "x", today=TODAY)
    assert info.number == number
    assert info.number.endswith("X")


def test_parse_fullwidth_and_spaces() -> None:
    raw = to_fullwidth(VALID[:6]) + " \u3000" + to_fullwidth(VALID[6:14]) + "\t" + VALID[14:] + " "
    assert parse_id_number(raw, today=TODAY).number == VALID


def test_parse_fullwidth_x() -> None:
    number = id_with_x_check()
    assert parse_id_number(to_fullwidth(number[:-1].lower()) + "ｘ", today=TODAY).number == number
    assert parse_id_number(to_fullwidth(number), today=TODAY).number == number


def test_parse_15_digit_number() -> None:
    info = parse_id_number("140105900307123", today=TODAY)
    assert info.number == VALID
    assert info.birth_date == dt.date(1990, 3, 7)
    assert info.sex == "M"


def test_parse_birth_date_today_is_allowed() -> None:
    number = make_id(birth=TODAY.strftime("%Y%m%d"))
    assert parse_id_number(number, today=TODAY).birth_date == TODAY


@pytest.mark.parametrize("birth", ["20000229", "19960229", "19000101"])
def test_parse_edge_dates_valid(birth: str) -> None:
    assert parse_id_number(make_id(birth=birth), today=TODAY).birth_date.strftime("%Y%m%d") == birth


def test_region_code_first_digit_nine_allowed() -> None:
    assert parse_id_number(make_id(region="910105"), today=TODAY).region_code == "910105"


# -- parse_id_number: errors -----------------------------------------------


def assert_error(raw: str | None, code: str, *, today: dt.date | None = TODAY) -> IdNumberError:
    with pytest.raises(IdNumberError) as exc_info:
        parse_id_number(raw, today=today)
    assert exc_info.value.code == code
    assert exc_info.value.message
    assert str(exc_info.value) == exc_info.value.message
    return exc_info.value


def test_wrong_check_digit() -> None:
    wrong = VALID[:-1] + ("5" if VALID[-1] != "5" else "6")
    err = assert_error(wrong, "id_check_digit")
    assert err.message == "身份证号校验位错误"


def test_every_wrong_check_char_rejected() -> None:
    for ch in CHECK_CHARS:
        if ch != VALID[-1]:
            assert_error(VALID[:-1] + ch, "id_check_digit")


def test_single_digit_typo_detected() -> None:
    # MOD 11-2 detects every single-digit substitution.
    for pos in range(17):
        for digit in "0123456789":
            if digit == VALID[pos]:
                continue
            typo = VALID[:pos] + digit + VALID[pos + 1 :]
            with pytest.raises(IdNumberError):
                parse_id_number(typo, today=TODAY)


def test_feb_29_non_leap_year_rejected() -> None:
    assert_error(make_id(birth="20010229"), "id_birth_date")
    assert_error(make_id(birth="19000229"), "id_birth_date")  # 1900 is not a leap year


@pytest.mark.parametrize("birth", ["19901301", "19900001", "19900100", "19900431", "00000000"])
def test_impossible_dates_rejected(birth: str) -> None:
    assert_error(make_id(birth=birth), "id_birth_date")


def test_future_date_rejected() -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    assert_error(make_id(birth=tomorrow.strftime("%Y%m%d")), "id_birth_date")


def test_future_date_rejected_with_default_today() -> None:
    future = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=400)
    err = assert_error(make_id(birth=future.strftime("%Y%m%d")), "id_birth_date", today=None)
    assert err.message == "身份证号中的出生日期无效"


def test_year_before_1900_rejected() -> None:
    assert_error(make_id(birth="18991231"), "id_birth_date")


def test_15_digit_with_invalid_date_rejected() -> None:
    assert_error("140105901307123", "id_birth_date")


def test_region_code_starting_with_zero_rejected() -> None:
    assert_error(make_id(region="040105"), "id_region")


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_empty_rejected(raw: str | None) -> None:
    assert_error(raw, "id_required")


@pytest.mark.parametrize("raw", [VALID[:17], VALID + "1", VALID[:16], "1401051990", "1" * 20])
def test_wrong_length_rejected(raw: str) -> None:
    assert_error(raw, "id_length")


@pytest.mark.parametrize(
    "raw",
    [
        "14010519900307123A",
        "1401051990-0307-1234",
        "14010519900X071234",
        "X40105199003071234",
        "14010590030712X",
        "abc",
        "１４０１０５一九九〇０３０７１２３４",
    ],
)
def test_illegal_characters_rejected(raw: str) -> None:
    assert_error(raw, "id_chars")


def test_error_is_value_error_and_picklable() -> None:
    err = IdNumberError("id_check_digit")
    assert isinstance(err, ValueError)
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.code, clone.message, clone.field) == (
        "id_check_digit",
        "身份证号校验位错误",
        None,
    )


# -- normalize_id_number ---------------------------------------------------


def test_normalize_basic() -> None:
    assert normalize_id_number(None) == ""
    assert normalize_id_number(" 1401 0519 9003 0712 34 ") == "140105199003071234"
    assert normalize_id_number("14010519900307123x") == "14010519900307123X"
    assert normalize_id_number(to_fullwidth(VALID)) == VALID


def test_normalize_15_to_18() -> None:
    assert normalize_id_number("140105 900307 123") == VALID
    assert normalize_id_number(to_fullwidth("140105900307123")) == VALID


def test_normalize_leaves_invalid_input_alone() -> None:
    assert normalize_id_number("abc 123") == "ABC123"
    assert normalize_id_number("1401051990030712") == "1401051990030712"


def test_to_halfwidth() -> None:
    assert to_halfwidth("１２３ＡｂＸ－＋\u3000") == "123AbX-+ "
    assert to_halfwidth("张三") == "张三"


# -- validate_matches ------------------------------------------------------


def test_validate_matches_ok() -> None:
    info = parse_id_number(VALID, today=TODAY)
    validate_matches(info)
    validate_matches(info, birth_date=dt.date(1990, 3, 7), sex="M")
    validate_matches(info, birth_date=dt.datetime(1990, 3, 7, 12, 30), sex="")


def test_validate_matches_birth_date_mismatch() -> None:
    info = parse_id_number(VALID, today=TODAY)
    with pytest.raises(IdNumberError) as exc_info:
        validate_matches(info, birth_date=dt.date(1990, 3, 8), sex="M")
    assert exc_info.value.code == "id_mismatch"
    assert exc_info.value.field == "birth_date"
    assert exc_info.value.message == "出生日期与身份证号不一致"


def test_validate_matches_sex_mismatch() -> None:
    info = parse_id_number(VALID, today=TODAY)
    with pytest.raises(IdNumberError) as exc_info:
        validate_matches(info, birth_date=dt.date(1990, 3, 7), sex="F")
    assert exc_info.value.code == "id_mismatch"
    assert exc_info.value.field == "sex"
    assert exc_info.value.message == "性别与身份证号不一致"


def test_validate_matches_rejects_unknown_sex_value() -> None:
    info = parse_id_number(VALID, today=TODAY)
    with pytest.raises(ValueError, match="sex must be"):
        validate_matches(info, sex="male")


# -- IdInfo ----------------------------------------------------------------


def test_id_info_is_frozen() -> None:
    info = parse_id_number(VALID, today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.sex = "F"  # type: ignore[misc]


def test_age_on() -> None:
    info = parse_id_number(VALID, today=TODAY)
    assert info.age_on(dt.date(2020, 3, 6)) == 29
    assert info.age_on(dt.date(2020, 3, 7)) == 30
    assert info.age_on(dt.date(2020, 12, 31)) == 30
