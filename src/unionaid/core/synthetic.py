"""Deterministic synthetic people for demos, tests and benchmarks.

Everything produced here is random and fictitious: ID numbers are
structurally valid (region code, birth date, sex-consistent sequence number,
check character) but are not issued to anyone on purpose; phone numbers only
have a valid format and must never be dialled or texted; bank accounts pass
the Luhn check but use a made-up prefix.

The generator is driven only by :meth:`random.Random.random`, whose output
for an integer seed is stable across Python versions, and draws from
precomputed tables, so one million people take a few seconds.

Same seed + same sequence of calls = same output.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Final, TypedDict

from unionaid.core.idcard import CHECK_CHARS, WEIGHTS, Sex

__all__ = [
    "SHANXI_REGIONS",
    "SyntheticPeople",
    "SyntheticPerson",
    "luhn_check_digit",
]

#: Some county-level division codes of Shanxi (山西) used for synthetic IDs.
SHANXI_REGIONS: Final[dict[str, str]] = {
    "140105": "太原市小店区",
    "140106": "太原市迎泽区",
    "140107": "太原市杏花岭区",
    "140108": "太原市尖草坪区",
    "140109": "太原市万柏林区",
    "140110": "太原市晋源区",
    "140121": "太原市清徐县",
    "140122": "太原市阳曲县",
    "140123": "太原市娄烦县",
    "140181": "古交市",
    "140213": "大同市平城区",
    "140302": "阳泉市城区",
    "140321": "阳泉市平定县",
    "140403": "长治市潞州区",
    "140502": "晋城市城区",
    "140602": "朔州市朔城区",
    "140702": "晋中市榆次区",
    "140781": "介休市",
    "140802": "运城市盐湖区",
    "140902": "忻州市忻府区",
    "141002": "临汾市尧都区",
    "141102": "吕梁市离石区",
    "141181": "孝义市",
}

# Surnames with approximate relative frequency (per 10,000), loosely
# following national rankings with some typically Shanxi surnames boosted.
_SURNAME_WEIGHTS: Final[dict[str, int]] = {
    "王": 725, "李": 719, "张": 686, "刘": 538, "陈": 453, "杨": 308, "黄": 223,
    "赵": 219, "吴": 205, "周": 193, "徐": 169, "孙": 154, "马": 144, "朱": 127,
    "胡": 126, "郭": 150, "何": 114, "高": 107, "林": 104, "罗": 86, "郑": 84,
    "梁": 81, "谢": 73, "宋": 68, "唐": 67, "许": 61, "韩": 60, "冯": 58,
    "邓": 57, "曹": 56, "彭": 53, "曾": 52, "肖": 51, "田": 50, "董": 50,
    "袁": 47, "潘": 46, "于": 46, "蒋": 45, "蔡": 44, "余": 43, "杜": 42,
    "叶": 41, "程": 40, "苏": 39, "魏": 38, "吕": 37, "丁": 36, "任": 35,
    "沈": 34, "姚": 33, "卢": 32, "姜": 31, "崔": 30, "钟": 29, "谭": 28,
    "陆": 27, "汪": 26, "范": 25, "金": 24, "石": 23, "廖": 22, "贾": 40,
    "夏": 20, "韦": 20, "付": 19, "方": 18, "白": 25, "邹": 17, "孟": 17,
    "熊": 16, "秦": 16, "邱": 16, "江": 15, "尹": 15, "薛": 25, "闫": 30,
    "段": 13, "雷": 13, "侯": 13, "龙": 12, "史": 12, "陶": 12, "黎": 11,
    "贺": 11, "顾": 11, "毛": 10, "郝": 25, "龚": 10, "邵": 10, "万": 10,
    "钱": 9, "严": 9, "武": 25, "戴": 9, "乔": 12, "温": 10, "霍": 10,
    "裴": 8, "常": 10, "牛": 10, "冀": 6, "阎": 8, "申": 6, "柴": 6,
    "欧阳": 5, "司马": 1, "上官": 1, "诸葛": 1,
}  # fmt: skip

# Common given-name characters, most frequent first. Homophones
# (伟/玮/炜, 静/婧/靖, 丽/莉/俐, 军/君/钧 ...) are included on purpose so that
# look-alike and sound-alike names occur.
_MALE_CHARS: Final = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林峰建国文志海东亮成兵"
    "晨阳然轩博睿泽宏振家玮炜峻君钧桦铭鸣洋毅晋龙庆福德兴旺永春生江"
)
_FEMALE_CHARS: Final = (
    "芳娜敏静丽艳秀英娟霞燕玲桂兰萍红梅琳婷雪慧颖洁晶倩莉俐婧靖丹佳欣怡悦琪璐瑶蕾雯思"
    "雨梦晓春月萱妍琳媛璇嘉彤娇凤荣珍翠云"
)

# Fake-looking mobile prefixes (virtual-operator and newer number ranges).
_PHONE_PREFIXES: Final = ("162", "165", "167", "170", "171", "192", "196", "197", "199")
_BANK_PREFIX: Final = "6222"
_SINGLE_CHAR_NAME_RATE: Final = 0.2


class SyntheticPerson(TypedDict):
    """One synthetic person as returned by :meth:`SyntheticPeople.person`."""

    name: str
    id_number: str
    birth_date: dt.date
    sex: Sex
    phone: str


def _weighted_table(weights: dict[str, int]) -> tuple[str, ...]:
    return tuple(item for item, weight in weights.items() for _ in range(weight))


def _rank_weighted_table(chars: str) -> tuple[str, ...]:
    # Earlier characters are more frequent: weights 5, 5, ..., 1.
    weights: dict[str, int] = {}
    for rank, ch in enumerate(chars):
        weights.setdefault(ch, max(1, 5 - rank // 12))
    return _weighted_table(weights)


def _weighted_sum(digits: str, offset: int) -> int:
    return sum(int(ch) * WEIGHTS[offset + i] for i, ch in enumerate(digits))


def luhn_check_digit(body: str) -> str:
    """Luhn (mod 10) check digit to append to the digit string ``body``."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


_SURNAMES: Final = _weighted_table(_SURNAME_WEIGHTS)
_MALE_TABLE: Final = _rank_weighted_table(_MALE_CHARS)
_FEMALE_TABLE: Final = _rank_weighted_table(_FEMALE_CHARS)
_REGION_CODES: Final = tuple(SHANXI_REGIONS)
_REGION_SUMS: Final = tuple(_weighted_sum(code, 0) for code in _REGION_CODES)
# Sequence numbers: odd for men (001..999), even for women (002..998).
_SEQ_TEXT: Final = {
    "M": tuple(f"{n:03d}" for n in range(1, 1000, 2)),
    "F": tuple(f"{n:03d}" for n in range(2, 1000, 2)),
}
_SEQ_SUMS: Final = {
    sex: tuple(_weighted_sum(s, 14) for s in seqs) for sex, seqs in _SEQ_TEXT.items()
}


def _validate_region_code(code: str) -> str:
    if len(code) != 6 or not code.isascii() or not code.isdigit() or code[0] == "0":
        raise ValueError(f"invalid region code {code!r}")
    return code


class SyntheticPeople:
    """Deterministic generator of fictitious people.

    ``min_year``/``max_year`` bound the random birth dates (default: working
    age cohorts 1966-2004).
    """

    def __init__(self, seed: int, *, min_year: int = 1966, max_year: int = 2004) -> None:
        if not 1900 <= min_year <= max_year:
            raise ValueError("need 1900 <= min_year <= max_year")
        self.seed = seed
        self._random = random.Random(seed).random  # noqa: S311, RUF100 - synthetic data, not crypto
        start = dt.date(min_year, 1, 1)
        days = (dt.date(max_year, 12, 31) - start).days + 1
        self._dates = tuple(start + dt.timedelta(days=i) for i in range(days))
        self._date_text = tuple(f"{d.year:04d}{d.month:02d}{d.day:02d}" for d in self._dates)
        self._date_sums = tuple(_weighted_sum(t, 6) for t in self._date_text)

    # -- helpers --------------------------------------------------------

    def _sex(self, sex: str | None) -> Sex:
        if sex is None:
            return "M" if self._random() < 0.5 else "F"
        if sex not in ("M", "F"):
            raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
        return "M" if sex == "M" else "F"

    def _id(self, date_text: str, date_sum: int, sex: Sex, region_code: str | None) -> str:
        rnd = self._random
        if region_code is None:
            i = int(rnd() * len(_REGION_CODES))
            region, region_sum = _REGION_CODES[i], _REGION_SUMS[i]
        else:
            region = _validate_region_code(region_code)
            region_sum = _weighted_sum(region, 0)
        seqs = _SEQ_TEXT[sex]
        j = int(rnd() * len(seqs))
        total = region_sum + date_sum + _SEQ_SUMS[sex][j]
        return f"{region}{date_text}{seqs[j]}{CHECK_CHARS[total % 11]}"

    # -- public API -----------------------------------------------------

    def sex(self) -> Sex:
        """Random ``"M"`` or ``"F"``."""
        return self._sex(None)

    def name(self, sex: str | None = None) -> str:
        """Plausible Chinese name; 1- or 2-character given name."""
        rnd = self._random
        table = _MALE_TABLE if self._sex(sex) == "M" else _FEMALE_TABLE
        n = len(table)
        surname = _SURNAMES[int(rnd() * len(_SURNAMES))]
        if rnd() < _SINGLE_CHAR_NAME_RATE:
            return surname + table[int(rnd() * n)]
        return surname + table[int(rnd() * n)] + table[int(rnd() * n)]

    def birth_date(self) -> dt.date:
        """Random birth date between ``min_year`` and ``max_year``."""
        return self._dates[int(self._random() * len(self._dates))]

    def id_number(
        self,
        *,
        birth_date: dt.date | None = None,
        sex: str | None = None,
        region_code: str | None = None,
    ) -> str:
        """Valid 18-digit ID number; unspecified parts are random.

        ``region_code`` defaults to one of :data:`SHANXI_REGIONS`.
        """
        sex_ = self._sex(sex)
        if birth_date is None:
            k = int(self._random() * len(self._dates))
            return self._id(self._date_text[k], self._date_sums[k], sex_, region_code)
        date_text = f"{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}"
        return self._id(date_text, _weighted_sum(date_text, 6), sex_, region_code)

    def phone(self) -> str:
        """11-digit mobile number with a valid format (fictitious, never dial)."""
        rnd = self._random
        prefix = _PHONE_PREFIXES[int(rnd() * len(_PHONE_PREFIXES))]
        return f"{prefix}{int(rnd() * 100_000_000):08d}"

    def bank_account(self, length: int | None = None) -> str:
        """Luhn-valid 16- to 19-digit account number (default 16 or 19)."""
        rnd = self._random
        if length is None:
            length = 19 if rnd() < 0.5 else 16
        if not 16 <= length <= 19:
            raise ValueError("bank account length must be 16..19")
        random_len = length - len(_BANK_PREFIX) - 1
        body = f"{_BANK_PREFIX}{int(rnd() * 10**random_len):0{random_len}d}"
        return body + luhn_check_digit(body)

    def person(self, sex: str | None = None) -> SyntheticPerson:
        """Name, ID number, matching birth date and sex, and phone."""
        sex_ = self._sex(sex)
        name = self.name(sex_)
        k = int(self._random() * len(self._dates))
        return {
            "name": name,
            "id_number": self._id(self._date_text[k], self._date_sums[k], sex_, None),
            "birth_date": self._dates[k],
            "sex": sex_,
            "phone": self.phone(),
        }

    def people(self, count: int, sex: str | None = None) -> Iterator[SyntheticPerson]:
        """Yield ``count`` people (see :meth:`person`)."""
        for _ in range(count):
            yield self.person(sex)
