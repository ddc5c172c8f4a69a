"""Importing a member roster (.xlsx / .csv with Chinese headers), all or nothing.

Two passes over the file keep memory flat for a million rows:

1. *check*: every row is converted and validated (``clean_member_fields``), its unit resolved
   from a prefetched lookup, its ID number hashed once and compared with earlier rows and, in
   batches, with the database. Every bad row is reported; nothing is written.
2. *write* (real runs with no bad row only): the file is read again and the rows are inserted
   with ``bulk_create`` in one transaction, reusing the hashes of pass 1, with one summary audit
   event. A clash that appears between the passes rolls everything back.

Row numbers are those the user sees in Excel (header = row 1 unless title rows sit above it).
Messages never contain a clear ID number, phone or bank account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.core.spreadsheets import ReadLimits
from unionaid.members import roster_files
from unionaid.members.models import EmploymentForm, Member, MembershipStatus
from unionaid.members.roster_files import HEADERS, RowError, data_rows, find_header
from unionaid.members.selectors import id_number_hash, members_visible_to, phone_hash
from unionaid.members.services import clean_member_fields
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import units_visible_to

logger = logging.getLogger(__name__)

PERM = "members.import"
BATCH = 2000

EMPLOYMENT_SYNONYMS = {
    "合同制": EmploymentForm.REGULAR, "合同工": EmploymentForm.REGULAR,
    "正式职工": EmploymentForm.REGULAR, "正式工": EmploymentForm.REGULAR,
    "派遣": EmploymentForm.DISPATCHED, "劳务派遣工": EmploymentForm.DISPATCHED,
    "新就业形态": EmploymentForm.NEW_EMPLOYMENT_FORM,
    "非全日制用工": EmploymentForm.PART_TIME, "返聘": EmploymentForm.RETIRED_REHIRED,
}
STATUS_SYNONYMS = {
    "会员": MembershipStatus.ACTIVE, "在籍": MembershipStatus.ACTIVE,
    "是": MembershipStatus.ACTIVE, "否": MembershipStatus.NON_MEMBER,
    "转出": MembershipStatus.TRANSFERRED_OUT, "退休": MembershipStatus.RETIRED,
    "死亡": MembershipStatus.DECEASED, "去世": MembershipStatus.DECEASED,
}

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def read_limits() -> ReadLimits:
    """How big a roster may be (settings ``MEMBERS_IMPORT_MAX_ROWS``,
    ``MEMBERS_IMPORT_MAX_UNPACKED_MB``, ``IMPORT_MAX_COLUMNS``)."""
    return ReadLimits(
        max_rows=int(settings.MEMBERS_IMPORT_MAX_ROWS),
        max_columns=int(settings.IMPORT_MAX_COLUMNS),
        max_bytes=int(settings.MEMBERS_IMPORT_MAX_UNPACKED_MB) << 20,
    )


@dataclass
class ImportResult:
    file_name: str
    dry_run: bool
    total: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def bad_rows(self) -> int:
        return len({e.row_number for e in self.errors})


def _choices_map(choices, synonyms: dict) -> dict[str, str]:
    mapping = {value: value for value in choices.values}
    mapping.update({str(label): value for value, label in choices.choices})
    mapping.update(synonyms)
    return mapping


class _RowConverter:
    """Turns one raw row into Member field values, or into RowErrors. No query per row."""

    def __init__(self, actor, columns: dict[str, int], headers: dict[str, str]):
        self.access = access_for(actor)
        self.columns = columns
        self.headers = headers  # field -> header text as written in the file
        self.by_code: dict[str, OrgUnit] = {}
        self.by_name: dict[str, list[OrgUnit]] = {}
        for unit in units_visible_to(user=actor, perm=PERM).only(
            "pk", "path", "depth", "name", "code", "is_closed"
        ):
            self.by_code[unit.code] = unit
            self.by_name.setdefault(unit.name, []).append(unit)
        self.unit_cache: dict[str, OrgUnit | str] = {}
        self.employment = _choices_map(EmploymentForm, EMPLOYMENT_SYNONYMS)
        self.status = _choices_map(MembershipStatus, STATUS_SYNONYMS)
        self.today = timezone.localdate()

    def _cell(self, values: list, name: str):
        index = self.columns.get(name)
        if index is None or index >= len(values):
            return ""
        return values[index]

    def _unit(self, raw: str) -> OrgUnit | str:
        cached = self.unit_cache.get(raw)
        if cached is not None:
            return cached
        unit = self.by_code.get(raw)
        if unit is None:
            matches = self.by_name.get(raw, [])
            if len(matches) > 1:
                result: OrgUnit | str = _("有多个单位名为“%(unit)s”，请改填单位编码。") % {
                    "unit": raw}
                self.unit_cache[raw] = result
                return result
            unit = matches[0] if matches else None
        if unit is None or not self.access.covers_unit(PERM, unit):
            result = _("找不到单位“%(unit)s”，或您无权向该单位导入职工。") % {"unit": raw}
        elif unit.is_closed:
            result = _("单位“%(unit)s”已撤销。") % {"unit": raw}
        else:
            result = unit
        self.unit_cache[raw] = result
        return result

    def convert(self, row_number: int, values: list) -> tuple[dict | None, list[RowError]]:
        errors: list[RowError] = []
        failed: set[str] = set()

        def fail(name: str, message: str) -> None:
            if name not in failed:
                failed.add(name)
                errors.append(RowError(row_number, self.headers.get(name, ""), message))

        texts = {}
        for name in ("name", "id_number", "phone", "bank_account"):
            texts[name], problem = roster_files.cell_text(
                self._cell(values, name), long_number=name != "name")
            if problem:
                fail(name, problem)
        try:
            cleaned = clean_member_fields(**texts)
        except ServiceError as exc:
            cleaned = None
            for name, message in exc.fields.items():
                fail(name, str(message))
        unit_name = "unit_code" if roster_files.cell_text(self._cell(values, "unit_code"))[0] \
            else "unit"
        unit_raw = roster_files.cell_text(self._cell(values, unit_name))[0]
        unit: OrgUnit | str | None = None
        if not unit_raw:
            fail(unit_name, _("请填写单位。"))
        else:
            unit = self._unit(unit_raw)
            if isinstance(unit, str):
                fail(unit_name, unit)
        employment = self._pick(values, "employment_form", self.employment,
                                EmploymentForm.REGULAR, fail)
        status = self._pick(values, "membership_status", self.status,
                            MembershipStatus.ACTIVE, fail)
        joined_on, problem = roster_files.cell_date(self._cell(values, "joined_on"))
        if problem:
            fail("joined_on", problem)
        elif joined_on and joined_on > self.today:
            fail("joined_on", _("入会日期不能晚于今天。"))
        if errors or cleaned is None or not isinstance(unit, OrgUnit):
            return None, errors
        cleaned.update(org_unit=unit, employment_form=employment, membership_status=status,
                       joined_on=joined_on)
        return cleaned, errors

    def _pick(self, values, name, mapping, default, fail) -> str:
        raw = roster_files.cell_text(self._cell(values, name))[0]
        if not raw:
            return default
        value = mapping.get(raw)
        if value is None:
            fail(name, _("“%(value)s”不是有效的%(label)s。") % {
                "value": raw[:20], "label": self.headers.get(name, name)})
            return default
        return value


def import_roster(
    *, actor, path, dry_run: bool, progress: Progress | None = None,
    file_name: str | None = None, max_errors: int | None = None,
    limits: ReadLimits | None = None,
) -> ImportResult:
    """Check (``dry_run``) or import the roster at ``path`` on behalf of ``actor``.

    Returns an ImportResult; a real run writes either every row or, if any row is bad, none.
    ``max_errors`` caps the RowErrors kept in the result (``error_count`` is always the total).
    ``limits`` (default ``read_limits()``) are checked before the file is read; a file past them
    raises ``SpreadsheetTooLarge`` and nothing is written.
    Raises ServiceError if the file can't be read at all, PermissionDenied without the right.
    """
    path = Path(path)
    result = ImportResult(file_name=file_name or path.name, dry_run=dry_run)
    if not access_for(actor).has_perm(PERM):
        raise PermissionDenied(_("您没有导入职工名册的权限。"))
    run = _Run(actor, result, progress, max_errors)
    roster = roster_files.open_roster(path, limits or read_limits())
    try:
        sheet, header_row, converter = run.find_header(actor, roster)
        if converter is None:
            return result
        hashes = run.check(roster, sheet, header_row, converter)
        run.journal_hidden_clashes()
        if dry_run or result.error_count:
            return result
        run.report("writing", 0, result.total)
        try:
            with transaction.atomic(), _roomy_sqlite_cache():
                result.created = _write(actor, roster, sheet, header_row, converter, hashes,
                                        run.report, result.total)
                audit_record(
                    actor=actor, action="member.import", target_type="members.import",
                    target_label=result.file_name[:200],
                    org_unit_path=_common_path(converter),
                    changes={"file": result.file_name, "total": result.total,
                             "created": result.created},
                )
        except IntegrityError:
            raise Conflict(
                _("导入期间有相同身份证号的职工被登记，未导入任何数据，请重新导入。"),
                code="import_conflict",
            ) from None
        return result
    finally:
        roster.close()
        logger.info(
            "roster %s: file=%s total=%d created=%d errors=%d",
            "checked" if dry_run else "import", result.file_name, result.total,
            result.created, result.error_count,
        )


class _Run:
    """State of one pass-1 check: errors (capped), progress, seen ID hashes."""

    def __init__(self, actor, result: ImportResult, progress: Progress | None,
                 max_errors: int | None):
        self.actor = actor
        self.result = result
        self.report: Progress = progress or (lambda stage, done, total: None)
        self.max_errors = max_errors
        # Existing members out of the importer's sight whose ID number a row repeats:
        # pk -> unit path. Journaled once per file (journal_hidden_clashes).
        self.hidden_clashes: dict[int, str] = {}

    def add_error(self, error: RowError) -> None:
        self.result.error_count += 1
        if self.max_errors is None or len(self.result.errors) < self.max_errors:
            self.result.errors.append(error)

    def find_header(self, actor, roster):
        columns, errors = None, []
        for sheet in range(roster.sheet_count):
            columns, headers, header_row, errors = find_header(roster.rows(sheet))
            if columns is not None:
                break
        for error in errors:
            self.add_error(error)
        if columns is None or errors:
            return None, 0, None
        return sheet, header_row, _RowConverter(actor, columns, headers)

    def check(self, roster, sheet: int, header_row: int, converter: _RowConverter) -> list[bytes]:
        """Pass 1. Returns the ID hash of every good row, in file order."""
        result, column = self.result, converter.headers["id_number"]
        estimate = max(roster.estimated_rows(sheet) - header_row, 0)
        seen: dict[bytes, int] = {}
        hashes: list[bytes] = []
        pending: dict[str, int] = {}

        def check_pending() -> None:
            # As _duplicate_id_conflict (members.services): a member the importer may see gets
            # the plain answer; any other, neither whose nor where (and a journal entry).
            clashes = list(Member.objects.filter(id_number_hash__in=list(pending)).values_list(
                "pk", "id_number_hash", "org_unit__path"))
            visible = set(members_visible_to(user=self.actor).filter(
                pk__in=[pk for pk, _digest, _path in clashes]).values_list("pk", flat=True))
            for pk, digest, unit_path in clashes:
                if pk in visible:
                    message = _("该身份证号已登记为职工。")
                else:
                    message = _("该身份证号已登记，请联系上级工会核实。")
                    self.hidden_clashes[pk] = unit_path
                self.add_error(RowError(pending[digest], column, message))
            pending.clear()

        self.report("checking", 0, estimate)
        for row_number, values in data_rows(roster.rows(sheet), header_row):
            result.total += 1
            cleaned, errors = converter.convert(row_number, values)
            for error in errors:
                self.add_error(error)
            if cleaned is not None:
                digest_hex = id_number_hash(cleaned["id_number"])
                digest = bytes.fromhex(digest_hex)
                first = seen.setdefault(digest, row_number)
                if first != row_number:
                    self.add_error(RowError(row_number, column, _(
                        "与第 %(row)d 行的身份证号重复。") % {"row": first}))
                else:
                    pending[digest_hex] = row_number
                hashes.append(digest)
            if len(pending) >= BATCH:
                check_pending()
            if result.total % BATCH == 0:
                self.report("checking", result.total, max(estimate, result.total))
        if pending:
            check_pending()
        result.errors.sort(key=lambda e: e.row_number)
        self.report("checking", result.total, result.total)
        return hashes

    def journal_hidden_clashes(self) -> None:
        """One ``member.duplicate_id_number`` entry (denied) for the whole file, naming the
        existing members out of the importer's sight, for the auditors of their units."""
        if not self.hidden_clashes:
            return
        with transaction.atomic():
            audit_record(
                actor=self.actor, action="member.duplicate_id_number", outcome="denied",
                target_type="members.import", target_label=self.result.file_name[:200],
                org_unit_path=_common_prefix(list(self.hidden_clashes.values())),
                changes={"attempted": "member.import", "file": self.result.file_name,
                         "dry_run": self.result.dry_run,
                         "members": sorted(self.hidden_clashes)},
            )


@contextmanager
def _roomy_sqlite_cache():
    """A million-row transaction thrashes SQLite's default 2 MB page cache (most of the time
    then goes to re-reading spilled index pages); give this connection 256 MB while writing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _write(actor, roster, sheet, header_row, converter, hashes, report, total) -> int:
    created, batch = 0, []
    actor_id = getattr(actor, "pk", None)
    for index, (row_number, values) in enumerate(data_rows(roster.rows(sheet), header_row)):
        cleaned, _errors = converter.convert(row_number, values)
        if cleaned is None:  # the file can't change between the passes; be safe anyway
            raise ServiceError(_("第 %(row)d 行数据异常，未导入任何数据。") % {"row": row_number})
        phone = cleaned["phone"]
        batch.append(Member(
            name=cleaned["name"], id_number=cleaned["id_number"],
            id_number_hash=hashes[index].hex(), birth_date=cleaned["birth_date"],
            sex=cleaned["sex"], phone=phone, phone_hash=phone_hash(phone) if phone else "",
            bank_account=cleaned["bank_account"], org_unit_id=cleaned["org_unit"].pk,
            employment_form=cleaned["employment_form"],
            membership_status=cleaned["membership_status"], joined_on=cleaned["joined_on"],
            created_by_id=actor_id,
        ))
        if len(batch) >= BATCH:
            Member.objects.bulk_create(batch, batch_size=BATCH)
            created += len(batch)
            batch = []
            report("writing", created, total)
    if batch:
        Member.objects.bulk_create(batch, batch_size=BATCH)
        created += len(batch)
    report("writing", created, total)
    return created


def _common_path(converter: _RowConverter) -> str:
    """The deepest unit path shared by every unit the file named (for scoped audit views)."""
    return _common_prefix([u.path for u in converter.unit_cache.values()
                           if isinstance(u, OrgUnit)])


def _common_prefix(paths: list[str]) -> str:
    """The deepest unit path shared by ``paths`` ("" for none)."""
    if not paths:
        return ""
    low, high = min(paths), max(paths)
    size = 0
    while size < len(low) and low[size] == high[size]:
        size += 1
    return low[: size - size % OrgUnit.steplen]


__all__ = ["HEADERS", "ImportResult", "RowError", "import_roster", "read_limits"]
