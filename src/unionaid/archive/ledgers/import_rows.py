"""Reading and checking the rows of an archive ledger (困难职工档案台账) for the import
(``archive_import``): the headers and their synonyms, one row to values (no query), and the
rules across rows and against the database, in batches (a few queries per batch).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.archive.models import OPEN_STATUSES, HardshipCategory, HardshipRecord
from unionaid.core import idcard
from unionaid.members import roster_files
from unionaid.members.models import HouseholdMember, Member
from unionaid.members.roster_files import RowError, normalise_header
from unionaid.members.selectors import id_number_hash
from unionaid.visits import profile as profilelib
from unionaid.visits.models import HardshipCause

PERM = "archive.manage"
BATCH = 1000
CENT = Decimal("0.01")

HEADERS: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证号", "身份证号码", "证件号码", "公民身份号码", "身份证"),
    "name": ("姓名", "职工姓名", "困难职工姓名"),
    "category": ("困难类别", "困难类型", "困难程度", "困难职工类别", "类别"),
    "household_size": ("家庭人口", "家庭人口数", "家庭人数", "家庭成员人数", "人口数"),
    "annual_income": ("家庭年收入", "家庭年可支配收入", "家庭年总收入", "家庭总收入", "年收入"),
    "rigid_expenses": ("刚性支出", "年刚性支出", "刚性支出合计", "医疗教育等刚性支出"),
    "sudden_loss": ("意外支出", "突发支出", "意外支出金额"),
    "causes": ("致困原因", "困难原因", "主要致困原因"),
    "enrolled_on": ("建档日期", "建档时间", "建档年月", "入档时间", "入档日期"),
    "status": ("状态", "档案状态", "在档状态"),
    "exited_on": ("脱困日期", "脱困时间", "解困脱困日期", "解困脱困时间", "出档日期", "出档时间"),
    "exit_reason": ("脱困原因", "解困脱困原因"),
}
REQUIRED = ("id_number", "category", "household_size", "annual_income", "enrolled_on")
HEADER_TO_FIELD = {text: name for name, texts in HEADERS.items() for text in texts}
HEADER_SEARCH_ROWS = 10

CATEGORY_SYNONYMS = {
    "深度": HardshipCategory.DEEP, "深度困难职工": HardshipCategory.DEEP,
    "相对": HardshipCategory.RELATIVE, "相对困难职工": HardshipCategory.RELATIVE,
    "意外": HardshipCategory.SUDDEN, "意外致困职工": HardshipCategory.SUDDEN,
    "突发困难": HardshipCategory.SUDDEN, "突发": HardshipCategory.SUDDEN,
}
CAUSE_SYNONYMS = {
    "因病致困": HardshipCause.ILLNESS, "疾病": HardshipCause.ILLNESS, "大病": HardshipCause.ILLNESS,
    "因残致困": HardshipCause.DISABILITY, "残疾": HardshipCause.DISABILITY,
    "意外": HardshipCause.ACCIDENT, "因意外": HardshipCause.ACCIDENT,
    "因灾": HardshipCause.DISASTER, "灾害": HardshipCause.DISASTER,
    "因灾致困": HardshipCause.DISASTER,
    "因学": HardshipCause.SCHOOLING, "子女就学": HardshipCause.SCHOOLING,
    "因学致困": HardshipCause.SCHOOLING,
    "失业": HardshipCause.UNEMPLOYMENT, "下岗": HardshipCause.UNEMPLOYMENT,
    "低收入": HardshipCause.LOW_INCOME, "单亲": HardshipCause.SINGLE_PARENT,
}
ACTIVE_WORDS = ("在档", "在册", "正常", "建档", "")
EXITED_WORDS = ("已脱困", "脱困", "已解困脱困", "解困脱困", "已出档", "出档")
_SEPARATORS = re.compile(r"[、,，;；/\s]+")


def _map(choices, synonyms: dict) -> dict[str, str]:
    mapping = {value: value for value in choices.values}
    mapping.update({str(label): value for value, label in choices.choices})
    mapping.update(synonyms)
    return mapping


@dataclass
class ArchiveImportResult:
    file_name: str
    dry_run: bool
    total: int = 0
    created: int = 0
    active: int = 0
    exited: int = 0
    flagged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def bad_rows(self) -> int:
        return len({e.row_number for e in self.errors})


@dataclass(slots=True)
class LedgerRow:
    number: int
    id_hash: str
    name: str
    category: str
    size: int
    income: Decimal
    rigid: Decimal
    loss: Decimal
    causes: list[str]
    enrolled_on: dt.date
    exited: bool
    exited_on: dt.date | None
    exit_reason: str
    member: Member | None = None


def find_header(rows) -> tuple[dict[str, int] | None, dict[str, str], int, list[RowError]]:
    for row_number, values in rows:
        columns: dict[str, int] = {}
        headers: dict[str, str] = {}
        errors: list[RowError] = []
        for index, value in enumerate(values):
            text = normalise_header(value)
            name = HEADER_TO_FIELD.get(text)
            if name is None:
                continue
            if name in columns:
                errors.append(RowError(row_number, text, _("列“%(a)s”与列“%(b)s”重复。") % {
                    "a": text, "b": headers[name]}))
                continue
            columns[name], headers[name] = index, text
        if "id_number" in columns and len(columns) >= 3:
            errors += [RowError(row_number, HEADERS[n][0], _("缺少必填列“%(label)s”。") % {
                "label": HEADERS[n][0]}) for n in REQUIRED if n not in columns]
            return columns, headers, row_number, errors
        if row_number >= HEADER_SEARCH_ROWS:
            break
    return None, {}, 0, [RowError(1, "", _(
        "没有找到表头：应有“身份证号”“困难类别”“家庭人口”“家庭年收入”“建档日期”等列。"))]


class RowConverter:
    """One raw row → a ``LedgerRow`` or RowErrors. No query."""

    def __init__(self, columns: dict[str, int], headers: dict[str, str], today: dt.date):
        self.columns, self.headers, self.today = columns, headers, today
        self.categories = _map(HardshipCategory, CATEGORY_SYNONYMS)
        self.causes = _map(HardshipCause, CAUSE_SYNONYMS)

    def _cell(self, values: list, name: str):
        index = self.columns.get(name)
        return values[index] if index is not None and index < len(values) else ""

    def _text(self, values, name: str, *, long_number: bool = False) -> tuple[str, str]:
        return roster_files.cell_text(self._cell(values, name), long_number=long_number)

    def _money(self, values, name: str, fail) -> Decimal:
        raw = self._cell(values, name)
        if raw in (None, ""):
            return Decimal("0.00")
        try:
            amount = Decimal(str(raw).replace(",", "").replace("，", "").strip())
        except InvalidOperation:
            fail(name, _("金额格式不正确。"))
            return Decimal("0.00")
        if not amount.is_finite() or amount < 0 or amount >= profilelib.MAX_MONEY:
            fail(name, _("金额须在 0 到 1 亿元之间。"))
            return Decimal("0.00")
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)

    def _date(self, values, name: str, fail) -> dt.date | None:
        day, problem = roster_files.cell_date(self._cell(values, name))
        if problem:
            fail(name, problem)
            return None
        if day and day > self.today:
            fail(name, _("日期不能晚于今天。"))
            return None
        return day

    def convert(self, row_number: int, values: list) -> tuple[LedgerRow | None, list[RowError]]:
        errors: list[RowError] = []
        failed: set[str] = set()

        def fail(name: str, message: str) -> None:
            if name not in failed:
                failed.add(name)
                errors.append(RowError(row_number, self.headers.get(name, HEADERS[name][0]),
                                       message))

        id_text, problem = self._text(values, "id_number", long_number=True)
        id_hash = ""
        if problem:
            fail("id_number", problem)
        elif not id_text:
            fail("id_number", _("请填写身份证号。"))
        else:
            try:
                id_hash = id_number_hash(idcard.parse_id_number(id_text).number)
            except idcard.IdNumberError as exc:
                fail("id_number", str(exc))
        name = self._text(values, "name")[0][:50]
        category_text = self._text(values, "category")[0]
        category = self.categories.get(category_text, "")
        if not category:
            fail("category", _("困难类别应为“深度困难”“相对困难”或“意外致困”。")
                 if category_text else _("请填写困难类别。"))
        size_text = self._text(values, "household_size")[0]
        size = int(size_text) if size_text.isdigit() else 0
        if not 1 <= size <= profilelib.MAX_PEOPLE:
            fail("household_size", _("家庭人口须为 1 到 %(n)s 之间的整数。") % {
                "n": profilelib.MAX_PEOPLE})
        if "annual_income" in self.columns and self._cell(values, "annual_income") in (None, ""):
            fail("annual_income", _("请填写家庭年收入（没有收入填 0）。"))
        income = self._money(values, "annual_income", fail)
        rigid = self._money(values, "rigid_expenses", fail)
        loss = self._money(values, "sudden_loss", fail)
        causes: list[str] = []
        for word in _SEPARATORS.split(self._text(values, "causes")[0]):
            if not word:
                continue
            code = self.causes.get(word)
            if code is None:
                fail("causes", _("无法识别的致困原因“%(word)s”。") % {"word": word[:20]})
            elif code not in causes:
                causes.append(code)
        enrolled_on = self._date(values, "enrolled_on", fail)
        if enrolled_on is None and "enrolled_on" not in failed:
            fail("enrolled_on", _("请填写建档日期。"))
        status_text = self._text(values, "status")[0]
        exited = status_text in EXITED_WORDS
        if not exited and status_text not in ACTIVE_WORDS:
            fail("status", _("状态应为“在档”或“已脱困”。"))
        exited_on = self._date(values, "exited_on", fail)
        if exited and exited_on is None and "exited_on" not in failed:
            fail("exited_on", _("状态为已脱困时须填写脱困日期。"))
        if not exited and exited_on is not None:
            fail("exited_on", _("状态为在档时不应填写脱困日期。"))
        if exited_on and enrolled_on and exited_on < enrolled_on:
            fail("exited_on", _("脱困日期不能早于建档日期。"))
        if errors:
            return None, errors
        return LedgerRow(
            number=row_number, id_hash=id_hash, name=name, category=category, size=size,
            income=income, rigid=rigid, loss=loss, causes=causes, enrolled_on=enrolled_on,
            exited=exited, exited_on=exited_on,
            exit_reason=self._text(values, "exit_reason")[0][:300]), []


class ErrorSink:
    """Collects RowErrors into the result, keeping at most ``max_errors`` of them."""

    def __init__(self, result: ArchiveImportResult, max_errors: int | None):
        self.result = result
        self.max_errors = max_errors

    def error(self, row: LedgerRow | int, column: str, message: str) -> None:
        number = row if isinstance(row, int) else row.number
        self.result.error_count += 1
        if self.max_errors is None or len(self.result.errors) < self.max_errors:
            self.result.errors.append(RowError(number, column, message))


class RowChecker(ErrorSink):
    """The rules across rows and against the database, in batches of ``BATCH`` rows."""

    def __init__(self, actor, result: ArchiveImportResult, max_errors: int | None, *, lock: bool):
        super().__init__(result, max_errors)
        self.access = access_for(actor)
        self.lock = lock
        self.covered: dict[int, bool] = {}

    def resolve_members(self, rows: list[LedgerRow]) -> list[LedgerRow]:
        """Attach each row's member; unknown or out of scope → a row error."""
        good = []
        for start in range(0, len(rows), BATCH):
            batch = rows[start:start + BATCH]
            members = Member.objects.filter(id_number_hash__in={r.id_hash for r in batch})
            if self.lock:
                members = members.select_for_update(of=("self",))
            found = {m.id_number_hash: m for m in members.select_related("org_unit")}
            for row in batch:
                member = found.get(row.id_hash)
                if member is not None and member.org_unit_id not in self.covered:
                    self.covered[member.org_unit_id] = self.access.covers_unit(
                        PERM, member.org_unit)
                if member is None or not self.covered[member.org_unit_id]:
                    self.error(row, _("身份证号"), _("名册中无此身份证号（或不在您的管辖范围内）。"))
                elif row.name and row.name != member.name:
                    self.error(row, _("姓名"), _("姓名与名册中该身份证号的职工不符。"))
                else:
                    row.member = member
                    good.append(row)
        return good

    def check_rules(self, rows: list[LedgerRow]) -> list[LedgerRow]:
        bad: set[int] = set()
        by_key: dict[tuple[int, dt.date], int] = {}
        active_of: dict[int, LedgerRow] = {}
        for row in rows:
            key = (row.member.pk, row.enrolled_on)
            if key in by_key:
                self.error(row, _("建档日期"), _("与第 %(row)d 行是同一职工、同一建档日期，重复。")
                           % {"row": by_key[key]})
                bad.add(row.number)
                continue
            by_key[key] = row.number
            if not row.exited:
                if row.member.pk in active_of:
                    self.error(row, _("状态"), _("同一职工只能有一条在档记录（与第 %(row)d 行重复）。")
                               % {"row": active_of[row.member.pk].number})
                    bad.add(row.number)
                else:
                    active_of[row.member.pk] = row
        for row in rows:
            current = active_of.get(row.member.pk)
            if (row.exited and current is not None and row.number not in bad
                    and row.exited_on > current.enrolled_on):
                self.error(row, _("脱困日期"), _("脱困日期晚于第 %(row)d 行在档记录的建档日期。")
                           % {"row": current.number})
                bad.add(row.number)
        self._check_households(active_of, bad)
        self._check_existing(rows, bad)
        return [r for r in rows if r.number not in bad]

    def _check_households(self, active_of: dict[int, LedgerRow], bad: set[int]) -> None:
        """One open file per household: in the file, and against the database."""
        households = household_ids_bulk(list(active_of))
        open_holders: set[int] = set()
        everyone = sorted({i for ids in households.values() for i in ids})
        for start in range(0, len(everyone), BATCH):
            open_holders |= set(HardshipRecord.objects.filter(
                member_id__in=everyone[start:start + BATCH], status__in=OPEN_STATUSES)
                .values_list("member_id", flat=True))
        for member_id, row in sorted(active_of.items(), key=lambda item: item[1].number):
            if row.number in bad:
                continue
            household = households.get(member_id, {member_id})
            if household & open_holders:
                self.error(row, _("状态"), _(
                    "该职工或其家庭成员已有在档或审批中的档案（一户一档）。"))
                bad.add(row.number)
                continue
            earlier = [active_of[other].number for other in household - {member_id}
                       if other in active_of and active_of[other].number < row.number
                       and active_of[other].number not in bad]
            if earlier:
                self.error(row, _("状态"), _(
                    "与第 %(row)d 行的职工属同一家庭，一户只能有一份在档档案。")
                    % {"row": min(earlier)})
                bad.add(row.number)

    def _check_existing(self, rows: list[LedgerRow], bad: set[int]) -> None:
        ids = sorted({r.member.pk for r in rows})
        existing: set[tuple[int, dt.date]] = set()
        for start in range(0, len(ids), BATCH):
            existing |= set(HardshipRecord.objects.filter(
                member_id__in=ids[start:start + BATCH], enrolled_on__isnull=False)
                .values_list("member_id", "enrolled_on"))
        for row in rows:
            if row.number not in bad and (row.member.pk, row.enrolled_on) in existing:
                self.error(row, _("建档日期"), _("档案中已有该职工同一建档日期的记录。"))
                bad.add(row.number)


def household_ids_bulk(member_ids: list[int]) -> dict[int, set[int]]:
    """member id → the member and every other member of their household, for many members
    at once (the rule of ``archive.household.household_member_ids``, a few queries per batch)."""
    result: dict[int, set[int]] = {m: {m} for m in member_ids}
    for start in range(0, len(member_ids), BATCH):
        batch = member_ids[start:start + BATCH]
        own_hash = dict(Member.objects.filter(pk__in=batch).values_list("pk", "id_number_hash"))
        listed = defaultdict(set)
        for member_id, digest in (HouseholdMember.objects.filter(member_id__in=batch)
                                  .exclude(id_number_hash="")
                                  .values_list("member_id", "id_number_hash")):
            listed[digest].add(member_id)
        for pk, digest in Member.objects.filter(id_number_hash__in=list(listed)).values_list(
                "pk", "id_number_hash"):
            for member_id in listed[digest]:
                result[member_id].add(pk)
        by_hash = defaultdict(set)
        for member_id, digest in own_hash.items():
            by_hash[digest].add(member_id)
        for lister, digest in HouseholdMember.objects.filter(
                id_number_hash__in=list(by_hash)).values_list("member_id", "id_number_hash"):
            for member_id in by_hash[digest]:
                result[member_id].add(lister)
    return result
