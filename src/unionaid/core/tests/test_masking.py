"""Tests for unionaid.core.masking (all values are synthetic)."""

from __future__ import annotations

import pickle

import pytest

from unionaid.core.masking import (
    PhoneError,
    bank_account_tail,
    mask_bank_account,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_phone,
    validate_phone,
)

MASKERS = [mask_id_number, mask_phone, mask_bank_account, mask_name]


# -- ID numbers ------------------------------------------------------------


def test_mask_id_number_18() -> None:
    assert mask_id_number("110105199001011234") == "110105********1234"
    assert mask_id_number("14010519900307123X") == "140105********123X"


def test_mask_id_number_15() -> None:
    assert mask_id_number("140105900307123") == "140105*****7123"


def test_mask_id_number_strips_spaces_and_fullwidth() -> None:
    assert mask_id_number(" 140105 19900307 1234 ") == "140105********1234"
    assert mask_id_number("１４０１０５１９９００３０７１２３４") == "140105********1234"


@pytest.mark.parametrize(
    ("raw", "expected"), [("12345678901234", "**************"), ("1234", "****"), ("1", "*")]
)
def test_mask_id_number_short_fully_starred(raw: str, expected: str) -> None:
    assert mask_id_number(raw) == expected


# -- phones ----------------------------------------------------------------


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(
    "raw", ["+86 138 1234 5678", "0086-138-1234-5678", "８６１３８１２３４５６７８"]
)
def test_mask_phone_normalizes_first(raw: str) -> None:
    assert mask_phone(raw) == "138****5678"


@pytest.mark.parametrize(("raw", "expected"), [("12345", "*****"), ("1381234567", "**********")])
def test_mask_phone_short_fully_starred(raw: str, expected: str) -> None:
    assert mask_phone(raw) == expected


# -- bank accounts ---------------------------------------------------------


def test_mask_bank_account() -> None:
    assert mask_bank_account("6222001234567890123") == "6222***********0123"
    assert mask_bank_account("6222001234567890") == "6222********7890"
    assert mask_bank_account("6222 0012 3456 7890") == "6222********7890"


@pytest.mark.parametrize(("raw", "expected"), [("12345678901", "***********"), ("123", "***")])
def test_mask_bank_account_short_fully_starred(raw: str, expected: str) -> None:
    assert mask_bank_account(raw) == expected


# -- names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("张", "*"),
        (" 李四 ", "李*"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳修", "欧阳*"),
        ("欧阳", "欧*"),
        ("诸葛明", "诸葛*"),
        ("阿依古丽·买买提", "阿*******"),
        ("Alice", "A****"),
    ],
)
def test_mask_name(raw: str, expected: str) -> None:
    assert mask_name(raw) == expected


# -- common robustness -----------------------------------------------------


@pytest.mark.parametrize("masker", MASKERS)
@pytest.mark.parametrize("raw", [None, "", "   "])
def test_maskers_empty_input(masker, raw: str | None) -> None:
    assert masker(raw) == ""


@pytest.mark.parametrize("masker", MASKERS)
@pytest.mark.parametrize(
    "raw",
    ["1", "12", "123456", "13812345678", "110105199001011234", "6222001234567890123", "张三", "王"],
)
def test_maskers_never_return_clear_value(masker, raw: str) -> None:
    masked = masker(raw)
    assert masked != raw
    assert "*" in masked
    assert len(masked) == len(raw)


# -- normalize_phone / validate_phone ----------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        " 138 1234 5678 ",
        "138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "0086 13812345678",
        "8613812345678",
        "(+86) 138-1234-5678",
        "１３８１２３４５６７８",
        "＋８６　１３８－１２３４－５６７８",
    ],
)
def test_normalize_and_validate_phone(raw: str) -> None:
    assert normalize_phone(raw) == "13812345678"
    assert validate_phone(raw) == "13812345678"


def test_normalize_phone_empty() -> None:
    assert normalize_phone(None) == ""
    assert normalize_phone("") == ""


def test_normalize_phone_keeps_other_numbers() -> None:
    assert normalize_phone("0351-1234567") == "03511234567"
    assert normalize_phone("86123") == "86123"


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "12812345678",
        "11812345678",
        "1381234567",
        "138123456789",
        "23812345678",
        "abcdefghijk",
        "1381234567a",
        "+85213812345678",
        "0351-1234567",
        "٣٨١٢٣٤٥٦٧٨١",
    ],
)
def test_validate_phone_invalid(raw: str | None) -> None:
    with pytest.raises(PhoneError) as exc_info:
        validate_phone(raw)
    assert exc_info.value.code == "phone_invalid"
    assert exc_info.value.message == "手机号格式不正确"
    assert str(exc_info.value) == "手机号格式不正确"
    assert isinstance(exc_info.value, ValueError)


@pytest.mark.parametrize("prefix", [str(n) for n in range(13, 20)])
def test_validate_phone_all_second_digits(prefix: str) -> None:
    assert validate_phone(prefix + "123456789") == prefix + "123456789"


def test_phone_error_picklable() -> None:
    clone = pickle.loads(pickle.dumps(PhoneError()))
    assert (clone.code, clone.message) == ("phone_invalid", "手机号格式不正确")


@pytest.mark.parametrize(("account", "tail"), [
    ("6222021234567890123", "****0123"), ("6222 0212 3456 7890", "****7890"),
    ("12345678901", "********"), ("", ""), (None, ""),
])
def test_bank_account_tail_shows_only_the_last_four(account, tail):
    assert bank_account_tail(account) == tail
