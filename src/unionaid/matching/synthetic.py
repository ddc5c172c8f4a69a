"""Synthetic, messy lists with known truth, for the matching tests and benchmarks.

:func:`build` makes a member roll (clean, as a union keeps it) and an external list (as another
department sends it) whose rows are, in set proportions:

* **members** written the messy way real lists are: full-width digits, lower-case x, spaces or
  dashes inside numbers, 15-digit first-generation ID numbers, one mistyped digit, two
  transposed digits, no ID number at all; names with stray spaces or a homophone typo; birth
  dates as 19760516 / 1976-05-16 / 1976/5/16 / 1976年5月16日 / 1976.5.16 / an Excel serial or
  empty; phones with +86, spaces or dashes, a changed phone, or none;
* **household members** of a member (same phone and address, same county, different person;
  some are twins: same birth date, ID numbers a few digits apart, both valid) — must not match;
* **namesakes** of a member (same name, same birth year, another date and ID) — must not match;
* **other people** (not members).

Everything is fictitious (:class:`unionaid.core.synthetic.SyntheticPeople`); no ID number is
used twice. Same seed and sizes = same files. :func:`write` writes ``members.csv``,
``external.csv`` and ``truth.csv`` (``external_row, member_key, kind, mess``; ``external_row``
is the 1-based data row of external.csv) and, on request, the same lists as .xlsx.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

import xlsxwriter
from pypinyin import lazy_pinyin

from unionaid.core.idcard import CHECK_CHARS, WEIGHTS
from unionaid.core.synthetic import (
    _FEMALE_CHARS,
    _MALE_CHARS,
    SHANXI_REGIONS,
    SyntheticPeople,
)

__all__ = [
    "EXTERNAL_HEADER",
    "MEMBER_HEADER",
    "Dataset",
    "Messiness",
    "Mix",
    "build",
    "cached",
    "write",
]

MEMBER_HEADER: Final = ("工号", "姓名", "身份证号", "出生日期", "性别", "手机号", "单位", "住址")
EXTERNAL_HEADER: Final = ("姓名", "身份证号码", "出生日期", "性别", "联系电话", "家庭住址", "金额")

_UNITS: Final = (
    "太原车务段", "太原机务段", "太原工务段", "太原电务段", "太原车辆段", "太原供电段",
    "大同车务段", "大同机务段", "临汾车务段", "长治北车务段", "侯马北车务段", "原平车务段",
    "太原客运段", "太原北站", "太原南站", "榆次车务段",
)  # fmt: skip
_STREETS: Final = (
    "迎泽大街", "并州路", "建设路", "五一路", "解放路", "府西街", "长风街", "学府街", "平阳路",
    "体育路", "南内环街", "北大街", "新建路", "和平路", "胜利街", "滨河东路", "晋祠路", "康乐街",
)  # fmt: skip
_EXCEL_EPOCH: Final = dt.date(1899, 12, 30)
_FULLWIDTH: Final = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
_REGION_NAMES: Final = SHANXI_REGIONS


@dataclass(frozen=True)
class Mix:
    """Shares of the external list's rows (the rest are people who are not members)."""

    members: float = 0.40
    households: float = 0.04
    namesakes: float = 0.03


@dataclass(frozen=True)
class Messiness:
    """How often each kind of mess occurs in an external row (ID mess: one kind per row)."""

    id_missing: float = 0.08
    id_typo: float = 0.04         # one mistyped digit (fails the check digit)
    id_transposed: float = 0.03   # two adjacent digits swapped (fails the check digit)
    id_15: float = 0.04           # first-generation 15-digit number (born before 2000)
    id_fullwidth: float = 0.05
    id_spaces: float = 0.05       # spaces or dashes inside the number
    id_lower_x: float = 0.5       # of the numbers ending in X
    name_spaces: float = 0.05
    name_homophone: float = 0.03
    birth_missing: float = 0.10
    phone_missing: float = 0.10
    phone_changed: float = 0.03
    phone_messy: float = 0.30     # +86, spaces or dashes
    address_missing: float = 0.20
    trap_id_missing: float = 0.30  # household members and namesakes without an ID number
    twins: float = 0.10            # of household members


@dataclass
class Dataset:
    """What :func:`build` returns: the rows, without header, and the truth."""

    members: list[list[str]]
    external: list[list[str]]
    truth: list[tuple[str, str, str]] = field(default_factory=list)  # member_key, kind, mess

    def counts(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for _, kind, _ in self.truth:
            kinds[kind] = kinds.get(kind, 0) + 1
        return {"members": len(self.members), "external": len(self.external), **kinds}


def _id_check(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


@cache
def _homophones() -> dict[str, tuple[str, ...]]:
    """Given-name character -> other given-name characters read the same (toneless)."""
    chars = sorted(set(_MALE_CHARS + _FEMALE_CHARS))
    by_sound: dict[str, list[str]] = {}
    for ch in chars:
        by_sound.setdefault(lazy_pinyin(ch)[0], []).append(ch)
    return {ch: tuple(o for o in by_sound[lazy_pinyin(ch)[0]] if o != ch)
            for ch in chars if len(by_sound[lazy_pinyin(ch)[0]]) > 1}


class _Builder:
    def __init__(self, seed: int, mix: Mix, mess: Messiness) -> None:
        self.people = SyntheticPeople(seed)
        self.rng = random.Random(seed * 7919 + 17)  # noqa: S311 - synthetic data, not crypto
        self.rnd = self.rng.random
        self.mix = mix
        self.mess = mess
        self.used_ids: set[str] = set()
        self.homophones = _homophones()

    # -- people ---------------------------------------------------------------------------

    def unique_person(self):
        while True:
            person = self.people.person()
            if person["id_number"] not in self.used_ids:
                self.used_ids.add(person["id_number"])
                return person

    def unique_id(self, *, birth_date, sex, region_code):
        while True:
            number = self.people.id_number(birth_date=birth_date, sex=sex,
                                           region_code=region_code)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def address(self, region_code: str) -> str:
        rnd = self.rnd
        return (f"{_REGION_NAMES[region_code]}{_STREETS[int(rnd() * len(_STREETS))]}"
                f"{1 + int(rnd() * 300)}号{1 + int(rnd() * 20)}栋{1 + int(rnd() * 6)}单元"
                f"{1 + int(rnd() * 30)}0{1 + int(rnd() * 4)}室")

    def member(self, n: int) -> list[str]:
        p = self.unique_person()
        d = p["birth_date"]
        return [f"G{n:07d}", p["name"], p["id_number"], d.isoformat(),
                "男" if p["sex"] == "M" else "女", p["phone"],
                _UNITS[int(self.rnd() * len(_UNITS))], self.address(p["id_number"][:6])]

    # -- mess -----------------------------------------------------------------------------

    def messy_id(self, number: str, tags: list[str]) -> str:
        m, r = self.mess, self.rnd()
        if r < m.id_missing:
            tags.append("id_missing")
            return ""
        r -= m.id_missing
        if r < m.id_typo:
            tags.append("id_typo")
            pos = int(self.rnd() * 17)
            digit = (int(number[pos]) + 1 + int(self.rnd() * 9)) % 10
            return f"{number[:pos]}{digit}{number[pos + 1:]}"
        r -= m.id_typo
        if r < m.id_transposed:
            for _ in range(8):
                pos = int(self.rnd() * 16)
                if number[pos] != number[pos + 1]:
                    tags.append("id_transposed")
                    return f"{number[:pos]}{number[pos + 1]}{number[pos]}{number[pos + 2:]}"
            return number
        r -= m.id_transposed
        if r < m.id_15 and number[6:8] == "19":
            tags.append("id_15")
            return number[:6] + number[8:17]
        r -= m.id_15
        if r < m.id_fullwidth:
            tags.append("id_fullwidth")
            number = number.translate(_FULLWIDTH)
        elif r - m.id_fullwidth < m.id_spaces:
            tags.append("id_spaces")
            sep = " " if self.rnd() < 0.6 else "-"
            number = f"{number[:6]}{sep}{number[6:14]}{sep}{number[14:]}"
        if number[-1] == "X" and self.rnd() < m.id_lower_x:
            tags.append("id_lower_x")
            number = number[:-1] + "x"
        return number

    def messy_name(self, name: str, tags: list[str]) -> str:
        m = self.mess
        if self.rnd() < m.name_homophone:
            options = [i for i in range(1, len(name)) if name[i] in self.homophones]
            if options:
                i = options[int(self.rnd() * len(options))]
                alts = self.homophones[name[i]]
                name = name[:i] + alts[int(self.rnd() * len(alts))] + name[i + 1:]
                tags.append("name_homophone")
        if self.rnd() < m.name_spaces:
            tags.append("name_spaces")
            r = self.rnd()
            if r < 0.4:
                name = f"{name[0]} {name[1:]}"
            elif r < 0.7:
                name = f" {name} "
            else:
                name = f"{name[0]}\u3000{name[1:]}"
        return name

    def messy_birth(self, d: dt.date, tags: list[str]) -> str:
        if self.rnd() < self.mess.birth_missing:
            tags.append("birth_missing")
            return ""
        k = int(self.rnd() * 6)
        if k == 0:
            return f"{d.year:04d}{d.month:02d}{d.day:02d}"
        if k == 1:
            return d.isoformat()
        if k == 2:
            return f"{d.year}/{d.month}/{d.day}"
        if k == 3:
            return f"{d.year}年{d.month}月{d.day}日"
        if k == 4:
            tags.append("birth_serial")
            return str((d - _EXCEL_EPOCH).days)
        return f"{d.year}.{d.month}.{d.day}"

    def messy_phone(self, phone: str, tags: list[str]) -> str:
        m, r = self.mess, self.rnd()
        if r < m.phone_missing:
            tags.append("phone_missing")
            return ""
        r -= m.phone_missing
        if r < m.phone_changed:
            tags.append("phone_changed")
            return self.people.phone()
        if self.rnd() < m.phone_messy:
            k = int(self.rnd() * 3)
            if k == 0:
                return f"+86 {phone}"
            if k == 1:
                return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
            return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
        return phone

    def messy_address(self, address: str, tags: list[str]) -> str:
        if self.rnd() < self.mess.address_missing:
            tags.append("address_missing")
            return ""
        if self.rnd() < 0.1:
            return address.replace("号", " 号 ", 1)
        return address

    def amount(self) -> str:
        return f"{100 * (1 + int(self.rnd() * 50))}"

    # -- external rows --------------------------------------------------------------------

    def member_row(self, member: list[str]) -> tuple[list[str], str]:
        tags: list[str] = []
        birth = dt.date.fromisoformat(member[3])
        row = [self.messy_name(member[1], tags), self.messy_id(member[2], tags),
               self.messy_birth(birth, tags), member[4] if self.rnd() < 0.9 else "",
               self.messy_phone(member[5], tags), self.messy_address(member[7], tags),
               self.amount()]
        return row, ";".join(tags)

    def trap_id(self, number: str, tags: list[str]) -> str:
        if self.rnd() < self.mess.trap_id_missing:
            tags.append("id_missing")
            return ""
        return number

    def household_row(self, member: list[str]) -> tuple[list[str], str]:
        tags: list[str] = []
        birth = dt.date.fromisoformat(member[3])
        region = member[2][:6]
        sex = "M" if self.rnd() < 0.5 else "F"
        if self.rnd() < self.mess.twins:
            tags.append("twin")
            other = birth
        elif self.rnd() < 0.5:
            tags.append("spouse")
            other = birth + dt.timedelta(days=(1 if self.rnd() < 0.5 else -1)
                                         * (1 + int(self.rnd() * 1800)))
        else:
            tags.append("child")
            other = birth + dt.timedelta(days=7300 + int(self.rnd() * 3650))
        while True:
            name = self.people.name(sex)
            if self.rnd() < 0.6:
                name = member[1][0] + name[1:]
            if name != member[1]:
                break
        number = self.unique_id(birth_date=other, sex=sex, region_code=region)
        row = [name, self.trap_id(number, tags), self.messy_birth(other, tags),
               "男" if sex == "M" else "女", self.messy_phone(member[5], tags), member[7],
               self.amount()]
        return row, ";".join(tags)

    def namesake_row(self, member: list[str]) -> tuple[list[str], str]:
        tags: list[str] = []
        birth = dt.date.fromisoformat(member[3])
        start = dt.date(birth.year, 1, 1)
        while True:
            other = start + dt.timedelta(days=int(self.rnd() * 365))
            if other != birth and other.year == birth.year:
                break
        sex = "M" if member[4] == "男" else "F"
        region = member[2][:6] if self.rnd() < 0.5 else None
        number = self.unique_id(birth_date=other, sex=sex, region_code=region)
        row = [member[1], self.trap_id(number, tags), self.messy_birth(other, tags), member[4],
               self.messy_phone(self.people.phone(), tags),
               self.messy_address(self.address(number[:6]), tags), self.amount()]
        return row, ";".join(tags)

    def other_row(self) -> tuple[list[str], str]:
        tags: list[str] = []
        p = self.unique_person()
        row = [self.messy_name(p["name"], tags), self.messy_id(p["id_number"], tags),
               self.messy_birth(p["birth_date"], tags), "男" if p["sex"] == "M" else "女",
               self.messy_phone(p["phone"], tags),
               self.messy_address(self.address(p["id_number"][:6]), tags), self.amount()]
        return row, ";".join(tags)


def build(members: int, external: int, *, seed: int = 2026, mix: Mix | None = None,
          messiness: Messiness | None = None) -> Dataset:
    """The member roll, the external list and the truth, in memory (rows without header)."""
    mix = mix or Mix()
    b = _Builder(seed, mix, messiness or Messiness())
    roll = [b.member(n + 1) for n in range(members)]
    n_members = min(members, round(external * mix.members))
    n_households = round(external * mix.households) if members else 0
    n_namesakes = round(external * mix.namesakes) if members else 0
    n_members = min(n_members, external)
    n_households = min(n_households, external - n_members)
    n_namesakes = min(n_namesakes, external - n_members - n_households)
    kinds = (["member"] * n_members + ["household"] * n_households
             + ["namesake"] * n_namesakes
             + ["other"] * (external - n_members - n_households - n_namesakes))
    b.rng.shuffle(kinds)
    # each listed member appears once; household members and namesakes of any member
    listed = b.rng.sample(range(members), n_members) if members else []
    next_listed = iter(listed)
    rows: list[list[str]] = []
    truth: list[tuple[str, str, str]] = []
    for kind in kinds:
        if kind == "member":
            member = roll[next(next_listed)]
            row, tags = b.member_row(member)
            truth.append((member[0], kind, tags))
        elif kind == "household":
            row, tags = b.household_row(roll[int(b.rnd() * members)])
            truth.append(("", kind, tags))
        elif kind == "namesake":
            row, tags = b.namesake_row(roll[int(b.rnd() * members)])
            truth.append(("", kind, tags))
        else:
            row, tags = b.other_row()
            truth.append(("", kind, tags))
        rows.append(row)
    return Dataset(members=roll, external=rows, truth=truth)


def _write_csv(path: Path, header, rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _write_xlsx(path: Path, header, rows, title: str | None) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    offset = 0
    if title:
        sheet.write_row(0, 0, [title])
        offset = 1
    sheet.write_row(offset, 0, list(header))
    for i, row in enumerate(rows, start=offset + 1):
        sheet.write_row(i, 0, row)
    book.close()


def write(directory: Path | str, data: Dataset, *, xlsx: bool = False) -> dict[str, Path]:
    """Write members.csv, external.csv and truth.csv (and .xlsx copies when asked)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"members": directory / "members.csv", "external": directory / "external.csv",
             "truth": directory / "truth.csv"}
    _write_csv(paths["members"], MEMBER_HEADER, data.members)
    _write_csv(paths["external"], EXTERNAL_HEADER, data.external)
    _write_csv(paths["truth"], ("external_row", "member_key", "kind", "mess"),
               ([i, *t] for i, t in enumerate(data.truth, start=1)))
    if xlsx:
        paths["members_xlsx"] = directory / "members.xlsx"
        paths["external_xlsx"] = directory / "external.xlsx"
        _write_xlsx(paths["members_xlsx"], MEMBER_HEADER, data.members, None)
        _write_xlsx(paths["external_xlsx"], EXTERNAL_HEADER, data.external, "低保家庭名单（合成数据）")
    return paths


def cached(directory: Path | str, members: int, external: int, *, seed: int = 2026,
           xlsx: bool | None = None) -> dict[str, Path]:
    """The files for these sizes and seed under ``directory/match-<m>x<e>-<seed>/``, built once.

    xlsx copies are written for lists up to 20,000 rows unless ``xlsx`` says otherwise."""
    xlsx = max(members, external) <= 20_000 if xlsx is None else xlsx
    target = Path(directory) / f"match-{members}x{external}-{seed}"
    manifest = target / "manifest.json"
    spec = {"members": members, "external": external, "seed": seed, "xlsx": xlsx,
            "mix": asdict(Mix()), "messiness": asdict(Messiness()), "version": 1}
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        if saved.get("spec") == spec:
            return {k: Path(v) for k, v in saved["paths"].items()}
    data = build(members, external, seed=seed)
    paths = write(target, data, xlsx=xlsx)
    manifest.write_text(json.dumps({"spec": spec, "counts": data.counts(),
                                    "paths": {k: str(v) for k, v in paths.items()}},
                                   ensure_ascii=False, indent=1))
    return paths
