"""Importing an existing archive ledger (困难职工档案台账, .xlsx or .csv), all or nothing.

The rules are the member import's (``members.importing``): Chinese headers with synonyms
(``HEADERS``), a check (dry run) that names every bad row with its row number as Excel shows it
and the reason, and a real run that writes every row or, if any row is bad, none (one
transaction). Messages never contain a clear ID number.

Each row is one record of one member, matched by ID number (keyed hash; a number not on the
roll, or of a member outside the importer's ``archive.manage`` scope, is the row error
"名册中无此身份证号（或不在您的管辖范围内）" — the same words for both, so the importer can't
probe the roll). Columns: 身份证号, 困难类别, 家庭人口, 家庭年收入, 建档日期 (required); 姓名 (checked
against the roll when given), 刚性支出, 意外支出, 致困原因 (several, separated by 、 , ， ; or /),
状态 (在档 / 已脱困, default 在档), 脱困日期 (required when 已脱困), 脱困原因. 单位 and the other
columns of an exported ledger are ignored (the record belongs to the member's own unit).

What a row creates (a historical import: no approval flow, audited once as
``archive.import``):

* a ``HouseholdProfile`` snapshot dated the enrolment date, built through
  ``visits.profile.clean_profile``: the member as "本人" and ``家庭人口 − 1`` placeholder rows
  ("家庭成员2" … "家庭成员N", relation 其他) because a ledger only has the count; one income row
  of 家庭年收入 ÷ 12; the rigid expenses as "other rigid"; the sudden loss; the causes. The plain
  columns keep the ledger's exact figures (annual income as written, per-capita monthly income
  = max(0, income − rigid) ÷ 12 ÷ size, to the fen);
* a ``HardshipRecord``, ACTIVE or EXITED, with the ledger's category. The category is also
  computed (``archive.category``) when a 低保 line exists for the member's unit and the
  enrolment year; a different result is a review flag (``category_mismatch``), a missing line
  the flag ``no_dibao_line``. ``calculation`` notes "台账导入" with the file and row. An active
  record's next re-check is the first anniversary (per the unit's ``recheck_months``) on or
  after today; an exited one's follow-up ends ``follow_up_months`` after its exit.

One household, one file: at most one 在档 row per household in the file, and none for a
household that already holds an open record (pending, returned, active or exiting); the same
member and enrolment date twice (in the file, or already in the archive) is a duplicate. An
exited row may sit beside an open record (it is history). Several rows of one member are
chained through ``previous`` in enrolment order.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.archive.category import compute_category, dibao_standard_for, rules_for
from unionaid.archive.ledgers.import_rows import (
    BATCH,
    CENT,
    HEADERS,
    PERM,
    ArchiveImportResult,
    ErrorSink,
    LedgerRow,
    RowChecker,
    RowConverter,
    find_header,
)
from unionaid.archive.ledgers.uploads import (
    read_limits,
    upload_discard,
    upload_path,
    upload_store,
)
from unionaid.archive.models import HardshipCategory, HardshipRecord, RecordStatus
from unionaid.archive.services.common import add_months
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.members import roster_files
from unionaid.members.roster_files import data_rows
from unionaid.visits import profile as profilelib
from unionaid.visits.models import HouseholdProfile

logger = logging.getLogger(__name__)


# -- building the rows to write ------------------------------------------------------------------

def _profile_for(row: LedgerRow, actor) -> tuple[HouseholdProfile, dict]:
    member = row.member
    household = [{"name": member.name, "relation": "self"}] + [
        {"name": _("家庭成员%(n)d") % {"n": n}, "relation": "other"}
        for n in range(2, row.size + 1)]
    monthly = (row.income / 12).quantize(CENT, rounding=ROUND_HALF_UP)
    data = profilelib.clean_profile({
        "household": household,
        "incomes": [{"source": "other", "monthly": str(monthly),
                     "note": _("台账导入：家庭年收入 %(n)s 元") % {"n": row.income}}]
        if row.income else [],
        "causes": row.causes,
        "expenses": {"other_rigid_annual": str(row.rigid)},
        "sudden_loss": {"kind": "", "amount": str(row.loss),
                        "note": _("台账导入") if row.loss else ""},
    })
    derived = profilelib.derive(data)
    derived.update(
        household_size=row.size, annual_income=row.income, rigid_expenses=row.rigid,
        per_capita_monthly=(max(Decimal(0), row.income - row.rigid) / 12 / row.size).quantize(
            CENT, rounding=ROUND_HALF_UP))
    profile = HouseholdProfile(
        member=member, org_unit_id=member.org_unit_id, taken_on=row.enrolled_on,
        data_json=json.dumps(data, ensure_ascii=False), recorded_by=actor, **derived)
    return profile, data


def _next_recheck(enrolled_on: dt.date, months: int, today: dt.date) -> dt.date:
    months = max(int(months or 12), 1)
    step = 1
    due = add_months(enrolled_on, months)
    while due < today:
        step += 1
        due = add_months(enrolled_on, months * step)
    return due


class _Builder:
    """Profiles and records for good rows; memoises the rules and lines per unit (and year)."""

    def __init__(self, actor, file_name: str, today: dt.date):
        self.actor, self.file_name, self.today = actor, file_name, today
        self.rules: dict[int, object] = {}
        self.lines: dict[tuple[int, int], Decimal | None] = {}

    def _rules(self, unit):
        if unit.pk not in self.rules:
            self.rules[unit.pk] = rules_for(unit)
        return self.rules[unit.pk]

    def _line(self, unit, year: int) -> Decimal | None:
        if (unit.pk, year) not in self.lines:
            try:
                self.lines[(unit.pk, year)] = dibao_standard_for(unit, year).monthly_amount
            except ServiceError as exc:
                if exc.code != "no_dibao_line":
                    raise
                self.lines[(unit.pk, year)] = None
        return self.lines[(unit.pk, year)]

    def build(self, row: LedgerRow) -> tuple[HouseholdProfile, HardshipRecord]:
        member = row.member
        unit = member.org_unit
        profile, data = _profile_for(row, self.actor)
        rules = self._rules(unit)
        line = self._line(unit, row.enrolled_on.year)
        calculation: dict = {"source": "台账导入", "file": self.file_name[:200], "row": row.number,
                             "ledger_category": row.category}
        flags: list[dict[str, str]] = []
        computed = ""
        if line is None:
            flags.append({"code": "no_dibao_line", "message": _(
                "未设置 %(year)s 年的低保标准，未测算困难类别。") % {"year": row.enrolled_on.year}})
        else:
            outcome = compute_category(profile=profile, line=line, rules=rules, data=data)
            computed = outcome.category
            calculation.update(outcome.as_calculation())
            flags += outcome.review_flags
            if computed != row.category:
                flags.append({"code": "category_mismatch", "message": _(
                    "台账类别为“%(ledger)s”，按台账数据测算为“%(computed)s”，须复核。") % {
                    "ledger": HardshipCategory(row.category).label,
                    "computed": HardshipCategory(computed).label if computed
                    else _("不符合建档条件")}})
        calculation["category"] = row.category
        calculation["computed_category"] = computed
        calculation.setdefault("lines", []).insert(0, _("台账导入（%(file)s 第 %(row)d 行）") % {
            "file": self.file_name[:100], "row": row.number})
        calculation["review_flags"] = flags
        record = HardshipRecord(
            member=member, org_unit_id=member.org_unit_id,
            status=RecordStatus.EXITED if row.exited else RecordStatus.ACTIVE,
            category=row.category, computed_category=computed, calculation=calculation,
            per_capita_monthly=profile.per_capita_monthly, dibao_standard=line or Decimal("0"),
            review_flags=flags, causes=",".join(row.causes), reason=_("台账导入"),
            enrolled_on=row.enrolled_on, created_by=self.actor,
        )
        if row.exited:
            record.exited_on = row.exited_on
            record.exit_reason = row.exit_reason or _("台账导入")
            record.follow_up_until = add_months(row.exited_on, int(rules.follow_up_months))
        else:
            record.next_recheck_on = _next_recheck(row.enrolled_on, rules.recheck_months,
                                                   self.today)
        return profile, record


# -- the run -------------------------------------------------------------------------------------

def import_archive_ledger(
    *, actor, path, dry_run: bool, file_name: str | None = None,
    max_errors: int | None = 500,
) -> ArchiveImportResult:
    """Check (``dry_run``) or import the archive ledger at ``path`` for ``actor``.

    A real run writes every row or, if any row is bad, none. ``max_errors`` caps the RowErrors
    kept (``error_count`` is the total). Raises ServiceError if the file can't be read,
    PermissionDenied without ``archive.manage``, Conflict if the database changed under it."""
    path = Path(path)
    result = ArchiveImportResult(file_name=file_name or path.name, dry_run=dry_run)
    if not access_for(actor).has_perm(PERM):
        raise PermissionDenied(_("您没有导入困难职工档案的权限。"))
    today = timezone.localdate()
    roster = roster_files.open_roster(path, read_limits())
    try:
        parsed = _parse(roster, result, max_errors, today)
        if parsed is None:
            return result
        if dry_run:
            _check_and_build(actor, parsed, result, max_errors, today, lock=False)
            return result
        try:
            with transaction.atomic():
                built = _check_and_build(actor, parsed, result, max_errors, today, lock=True)
                if not result.ok:
                    transaction.set_rollback(True)
                    return result
                _write(built, result)
                audit_record(
                    actor=actor, action="archive.import", target_type="archive.import",
                    target_label=result.file_name[:200],
                    changes={"file": result.file_name, "total": result.total,
                             "created": result.created, "active": result.active,
                             "exited": result.exited, "flagged": result.flagged},
                )
        except IntegrityError:
            result.created = result.active = result.exited = 0
            raise Conflict(_("导入期间档案有变动（同一职工已有在档记录），未导入任何数据，请重新检查。"),
                           code="import_conflict") from None
        return result
    finally:
        roster.close()
        logger.info("archive ledger %s: total=%d created=%d errors=%d",
                    "checked" if dry_run else "import", result.total, result.created,
                    result.error_count)


def _parse(roster, result: ArchiveImportResult, max_errors, today) -> list[LedgerRow] | None:
    checker = ErrorSink(result, max_errors)
    columns, headers, header_row, errors, sheet = None, {}, 0, [], 0
    for sheet in range(roster.sheet_count):
        columns, headers, header_row, errors = find_header(roster.rows(sheet))
        if columns is not None:
            break
    for error in errors:
        checker.error(error.row_number, error.column, error.message)
    if columns is None or errors:
        return None
    converter = RowConverter(columns, headers, today)
    rows = []
    for row_number, values in data_rows(roster.rows(sheet), header_row):
        result.total += 1
        row, problems = converter.convert(row_number, values)
        for problem in problems:
            checker.error(problem.row_number, problem.column, problem.message)
        if row is not None:
            rows.append(row)
    if not result.total:
        checker.error(header_row, "", _("表头下面没有数据行。"))
    return rows


def _check_and_build(actor, rows, result, max_errors, today, *, lock: bool):
    checker = RowChecker(actor, result, max_errors, lock=lock)
    rows = checker.check_rules(checker.resolve_members(rows))
    result.errors.sort(key=lambda e: e.row_number)
    builder = _Builder(actor, result.file_name, today)
    built = []
    for row in rows:
        try:
            built.append((row, *builder.build(row)))
        except ServiceError as exc:
            checker.error(row, "", exc.message)
    result.errors.sort(key=lambda e: e.row_number)
    result.flagged = sum(1 for _row, _profile, record in built if record.review_flags)
    result.active = sum(1 for row, _profile, _record in built if not row.exited)
    result.exited = len(built) - result.active
    return built


def _write(built, result: ArchiveImportResult) -> None:
    built.sort(key=lambda item: (item[0].member.pk, item[0].enrolled_on))
    # Chain each member's records in enrolment order, after the newest earlier record of the
    # member that was already in the archive — read BEFORE writing, so the new rows need not
    # be excluded by id (an IN list as long as the file: past SQLite's parameter limit).
    members = sorted({row.member.pk for row, _p, _r in built})
    earlier: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for start in range(0, len(members), BATCH):
        for member_id, enrolled_on, pk in HardshipRecord.objects.filter(
                member_id__in=members[start:start + BATCH], enrolled_on__isnull=False
        ).values_list("member_id", "enrolled_on", "pk"):
            earlier[member_id].append((enrolled_on, pk))
    for start in range(0, len(built), BATCH):
        batch = built[start:start + BATCH]
        HouseholdProfile.objects.bulk_create([profile for _row, profile, _record in batch])
        for _row, profile, record in batch:
            record.profile = profile
        HardshipRecord.objects.bulk_create([record for _row, _profile, record in batch])
    chained = []
    previous: dict[int, tuple[dt.date, int]] = {}
    for row, _profile, record in built:
        before = [item for item in earlier[row.member.pk] if item[0] < row.enrolled_on]
        candidates = before + ([previous[row.member.pk]] if row.member.pk in previous else [])
        if candidates:
            record.previous_id = max(candidates)[1]
            chained.append(record)
        previous[row.member.pk] = (row.enrolled_on, record.pk)
    HardshipRecord.objects.bulk_update(chained, ["previous"], batch_size=BATCH)
    result.created = len(built)


__all__ = ["HEADERS", "ArchiveImportResult", "import_archive_ledger", "upload_discard",
           "upload_path", "upload_store"]
