"""Loading an uploaded list into a dataset: read (``files.load_file``), normalise in DuckDB
(``normalise.normalise_table``, the one normalisation the command line uses too), then write the
records in one transaction — all of them or none.

Row problems (an unreadable ID number, birth date or phone, a missing name; the reader's own
row problems) are reported by row, on the dataset (the first ``Dataset.MAX_STORED_PROBLEMS``)
and on each record; such rows are still imported (a row without an ID number is ordinary in
these lists and may still match on name, birth date and phone). A file that cannot be read, or
has no identifying columns, fails as a whole and nothing is written. A check (dry run) reads and
normalises, reports the problems, writes no record and keeps the file for "import now".

The uploaded file holds clear ID numbers: it is deleted once imported, cancelled, or refused
(unreadable); after a system failure it is kept for a retry until the retention purge.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.audit.services import audit_record
from unionaid.core import crypto
from unionaid.core.errors import ServiceError
from unionaid.core.spreadsheets import ReadLimits
from unionaid.matching import files, normalise, storage
from unionaid.matching.bulk import bulk_insert
from unionaid.matching.models import PERSON_PURPOSE, Dataset, DatasetStatus, ExternalRecord
from unionaid.matching.progress import Cancelled, RowProgress
from unionaid.members.selectors import id_number_hash, phone_hash

logger = logging.getLogger(__name__)

BATCH = 2000
# normalise's problem code -> the canonical field whose column it is about
PROBLEM_FIELDS = {"id_unreadable": "id_number", "id_check_digit": "id_number",
                  "birth_unreadable": "birth_date", "phone_unreadable": "phone",
                  "name_missing": "name"}
EXTRA_FIELDS = ("amount", "date")
RECORD_FIELDS = ["dataset", "row_no", "sheet", "sheet_row", "name", "id_number", "id_hash",
                 "id_ok", "birth_date", "sex", "phone", "phone_hash", "address", "unit_name",
                 "extra", "person_key", "problems"]


def read_limits() -> ReadLimits:
    """How big an uploaded list may be (``MATCHING_IMPORT_MAX_ROWS``, default 2 million rows;
    ``MATCHING_IMPORT_MAX_UNPACKED_MB``, default 1024; ``IMPORT_MAX_COLUMNS``). The command line
    may lift them (``--no-limits``) for a trusted file on the server."""
    return ReadLimits(
        max_rows=int(getattr(settings, "MATCHING_IMPORT_MAX_ROWS", 2_000_000)),
        max_columns=int(getattr(settings, "IMPORT_MAX_COLUMNS", 100)),
        max_bytes=int(getattr(settings, "MATCHING_IMPORT_MAX_UNPACKED_MB", 1024)) << 20,
    )


def person_key_for(*, id18: str | None, name: str | None, birth: dt.date | None,
                   phone: str | None) -> str:
    """The stable fingerprint of an external person, for kept review decisions: the ID number's
    keyed hash; else a keyed hash of name + birth date; else of name + phone; else none."""
    if id18:
        return "i:" + id_number_hash(id18)
    if name and birth:
        return "b:" + crypto.blind_index(f"{name}|{birth.isoformat()}", purpose=PERSON_PURPOSE)
    if name and phone:
        return "p:" + crypto.blind_index(f"{name}|{phone}", purpose=PERSON_PURPOSE)
    return ""


@dataclass
class LoadResult:
    rows: int = 0
    written: int = 0
    problems: list[dict] = field(default_factory=list)
    problem_count: int = 0
    columns: dict[str, str] = field(default_factory=dict)

    def add_problem(self, *, row: int, column: str, message: str, sheet: str = "") -> None:
        self.problem_count += 1
        if len(self.problems) < Dataset.MAX_STORED_PROBLEMS:
            self.problems.append({"row": row, "sheet": sheet, "column": column,
                                  "message": message})


def _columns_of(con, table: str) -> set[str]:
    cur = con.cursor()
    return {row[0] for row in cur.execute(f"DESCRIBE {table}").fetchall()}


def _as_dict(value) -> dict:
    """The reader's ``extra`` column: a MAP (dict, or key/value lists) or JSON text."""
    if value is None:
        return {}
    if isinstance(value, dict):
        if set(value) == {"key", "value"} and isinstance(value["key"], list):
            return dict(zip(value["key"], value["value"], strict=False))
        return dict(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _rows(con, raw_columns: set[str]) -> Iterator[tuple]:
    """The normalised rows joined with the raw sheet name and list-specific values."""
    sheet = "r.sheet" if "sheet" in raw_columns else "NULL"
    sheet_row = "r.sheet_row" if "sheet_row" in raw_columns else "NULL"
    extra = "r.extra" if "extra" in raw_columns else "NULL"
    extras = ", ".join(f"r.{f}" if f in raw_columns else "NULL" for f in EXTRA_FIELDS)
    # row_no identifies a row across the sheets of the file (files.load_file numbers them on)
    cur = con.cursor()
    cur.execute(f"""
        SELECT n.row_no, {sheet}, {sheet_row}, n.name, n.id18, n.id_ok, n.birth, n.sex, n.phone, n.address,
               n.unit, n.problems, {extra}, {extras}
        FROM norm n JOIN raw r ON r.row_no = n.row_no
        ORDER BY n.row_no
    """)  # noqa: S608 (column names from this module)
    while rows := cur.fetchmany(BATCH):
        yield from rows


def _record(dataset: Dataset, row: tuple, header_row: int, result: LoadResult,
            headers: dict[str, str]) -> ExternalRecord:
    (row_no, sheet, sheet_row, name, id18, id_ok, birth, sex, phone, address, unit, codes,
     extra, *extra_values) = row
    sheet = sheet or ""
    sheet_row = sheet_row or header_row + row_no
    messages = []
    for code in codes or []:
        message = str(normalise.PROBLEM_MESSAGES.get(code, code))
        messages.append(message)
        result.add_problem(row=sheet_row, sheet=sheet, message=message,
                           column=headers.get(PROBLEM_FIELDS.get(code, ""), ""))
    values = {k: str(v) for k, v in _as_dict(extra).items() if v not in (None, "")}
    values.update({f: str(v) for f, v in zip(EXTRA_FIELDS, extra_values, strict=True)
                   if v not in (None, "")})
    return ExternalRecord(
        dataset=dataset, row_no=row_no, sheet=sheet[:100], sheet_row=sheet_row,
        name=(name or "")[:100],
        id_number=id18 or "", id_hash=id_number_hash(id18) if id18 else "", id_ok=bool(id_ok),
        birth_date=birth, sex=sex or "", phone=phone or "",
        phone_hash=phone_hash(phone) if phone else "", address=address or "",
        unit_name=(unit or "")[:200],
        extra=json.dumps(values, ensure_ascii=False) if values else "",
        person_key=person_key_for(id18=id18, name=name, birth=birth, phone=phone),
        problems=messages,
    )


def write_records(batch: list[ExternalRecord]) -> int:
    return bulk_insert(ExternalRecord, batch, fields=RECORD_FIELDS)


def read_dataset(*, dataset: Dataset, path, dry_run: bool, progress: RowProgress,
                 limits: ReadLimits | None) -> LoadResult:
    """Read, normalise and (unless ``dry_run``) write a dataset's records in one transaction."""
    con = storage.duckdb_connect()
    try:
        progress("reading", 0, 0)
        normalise.install(con)
        loaded = files.load_file(con, str(path), "raw", limits=limits,
                                 mapping=dataset.source.column_mapping or None)
        result = LoadResult(rows=loaded.rows, columns=dict(loaded.columns))
        for problem in loaded.problems:
            result.add_problem(row=problem.row_number, column=problem.column,
                               message=problem.message)
        progress("normalising", 0, loaded.rows)
        normalise.normalise_table(con, "raw", "norm")
        progress.check_cancel()
        rows = _rows(con, _columns_of(con, "raw"))
        if dry_run:
            for done, row in enumerate(rows, start=1):
                _record(dataset, row, loaded.header_row, result, loaded.columns)
                if done % BATCH == 0:
                    progress("checking", done, loaded.rows)
            return result
        with transaction.atomic():
            progress.in_transaction = True
            batch: list[ExternalRecord] = []
            for row in rows:
                batch.append(_record(dataset, row, loaded.header_row, result, loaded.columns))
                if len(batch) >= BATCH:
                    result.written += write_records(batch)
                    batch = []
                    progress("writing", result.written, loaded.rows)
                    progress.check_cancel()
            result.written += write_records(batch)
            _finish_load(dataset, result)
        return result
    finally:
        progress.in_transaction = False
        con.close()


def _finish_load(dataset: Dataset, result: LoadResult) -> None:
    """Mark the dataset loaded with its retention deadline and journal it (in the import's
    transaction: the records and their journal entry commit together)."""
    now = timezone.now()
    # a load cancelled meanwhile (as stale: its worker presumed dead) writes nothing
    updated = Dataset.objects.filter(pk=dataset.pk, status=DatasetStatus.LOADING).update(
        status=DatasetStatus.LOADED, stage="", done=result.written, total=result.written,
        row_count=result.written, problem_count=result.problem_count, problems=result.problems,
        columns=result.columns, loaded_at=now, message="",
        purge_after=now + dt.timedelta(days=dataset.source.retention_days))
    if not updated:
        raise Cancelled()
    audit_record(actor=dataset.uploaded_by, action="matching.dataset_load", target=dataset,
                 org_unit_path=dataset.org_unit.path,
                 changes={"records": result.written, "problems": result.problem_count,
                          "columns": sorted(result.columns)})


def dataset_load_run(dataset_id: int, *, dry_run: bool, echo=None,
                     unlimited: bool = False) -> dict:
    """Check or import one uploaded dataset (the task ``load_dataset``, or the command line,
    which may lift the size limits). A dataset not waiting (a second delivery, a cancelled
    upload) is left alone."""
    claimed = Dataset.objects.filter(pk=dataset_id, status=DatasetStatus.UPLOADED).update(
        status=DatasetStatus.LOADING, stage="reading", done=0, total=0, cancel_requested=False,
        started_at=timezone.now())
    if not claimed:
        return {"dataset": dataset_id, "skipped": True}
    dataset = Dataset.objects.select_related("source", "org_unit", "uploaded_by").get(
        pk=dataset_id)
    path = storage.dataset_file(dataset)
    progress = RowProgress(Dataset, dataset_id, echo=echo,
                           alive={"status": DatasetStatus.LOADING})
    keep_file = False
    outcome: dict = {"dataset": dataset_id}
    try:
        if not path or not path.exists():
            raise ServiceError(_("上传的文件已不存在，请重新上传。"), code="file_missing")
        result = read_dataset(dataset=dataset, path=path, dry_run=dry_run, progress=progress,
                              limits=None if unlimited else read_limits())
    except Cancelled:
        Dataset.objects.filter(pk=dataset_id, status=DatasetStatus.LOADING).update(
            status=DatasetStatus.CANCELLED, stage="")
        outcome["status"] = DatasetStatus.CANCELLED
    except ServiceError as exc:
        _failed(dataset_id, exc.message)
        outcome["status"] = DatasetStatus.FAILED
    except Exception as exc:
        # not the file's fault: it is kept (until the retention purge) so the import can be
        # retried without a second upload (services.dataset_retry)
        files.log_failure(logger, "dataset %s failed to load", dataset_id, exc=exc)
        _failed(dataset_id, _("导入失败：系统内部错误，可稍后重试或联系系统管理员。"))
        outcome["status"] = DatasetStatus.FAILED
        keep_file = True
    else:
        if dry_run:
            Dataset.objects.filter(pk=dataset_id, status=DatasetStatus.LOADING).update(
                status=DatasetStatus.UPLOADED, checked=True, stage="", done=result.rows,
                total=result.rows, row_count=result.rows, problem_count=result.problem_count,
                problems=result.problems, columns=result.columns)
            keep_file = True
        outcome.update(status="checked" if dry_run else DatasetStatus.LOADED, rows=result.rows,
                       problems=result.problem_count)
    finally:
        progress.close()
        if not keep_file and path:
            path.unlink(missing_ok=True)
            Dataset.objects.filter(pk=dataset_id).update(stored_path="")
    return outcome


def _failed(dataset_id: int, message: str) -> None:
    Dataset.objects.filter(pk=dataset_id, status=DatasetStatus.LOADING).update(
        status=DatasetStatus.FAILED, stage="", message=message[:500])

