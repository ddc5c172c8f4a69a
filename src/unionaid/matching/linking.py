"""Running a match: a dataset's records against the members its starter may match, linked by
``linkage.link`` in DuckDB, written as Match rows in one transaction.

Both sides are built as schema-S tables (MATCHING_SPEC) through ``normalise.normalise_table``,
the same normalisation the command line uses. Member ID numbers, phones and the records'
encrypted fields are decrypted in this worker's memory only (never written to disk: DuckDB
runs in memory with spilling switched off, ``storage.duckdb_connect``). The exact stage joins
on ``id_key``, the keyed hash both sides already store (``Member.id_number_hash``,
``ExternalRecord.id_hash``, same purpose).

Kept decisions are applied as the matches are written: a pair a cadre rejected never appears
again; one they confirmed is written confirmed. Progress goes to the run row; a cancel asked
stops the run at its next progress report, and nothing is written. A worker whose run was
cancelled as stale (presumed dead) and retried by another writes nothing either: it checks the
run is still running on its own attempt (``MatchRun.attempts``) before each write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import pyarrow as pa
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.audit.services import audit_record
from unionaid.core.errors import ServiceError
from unionaid.matching import files, normalise, storage
from unionaid.matching.bulk import bulk_insert
from unionaid.matching.leads.services import leads_raise
from unionaid.matching.linkage import link
from unionaid.matching.models import (
    Dataset,
    DatasetStatus,
    Decision,
    ExternalRecord,
    Match,
    MatchMethod,
    MatchRun,
    MatchStatus,
    PairDecision,
    RunStatus,
)
from unionaid.matching.progress import Cancelled, RowProgress
from unionaid.matching.selectors import run_members

logger = logging.getLogger(__name__)

BATCH = 5000
MATCH_FIELDS = ["run", "dataset", "record", "member", "score", "method", "reason", "status",
                "decided_by", "decided_at", "created_at"]
RAW_COLUMNS = ("sheet", "member_key", "name", "id_number", "birth_date", "sex", "phone",
               "unit", "address", "id_key")


def _link(con, members: str, external: str, progress: Callable[[str, int, int], None]):
    """``linkage.link`` (the tests put a stand-in here)."""
    return link(con, members, external, progress=progress)


def _table(con, name: str, rows: Iterable[tuple], *, key: bool) -> int:
    """Build the schema-S table ``name`` (plus ``id_key``) from raw rows
    ``(row_no, *RAW_COLUMNS)``, through the one normalisation."""
    columns: dict[str, list] = {c: [] for c in ("row_no", *RAW_COLUMNS)}
    for row in rows:
        for column, value in zip(columns.values(), row, strict=True):
            column.append(value)
    arrow = pa.table({"row_no": pa.array(columns.pop("row_no"), pa.int64()),
                      **{c: pa.array(v, pa.string()) for c, v in columns.items()}})
    cur = con.cursor()
    cur.register(f"{name}_arrow", arrow)
    cur.execute(f"CREATE TABLE {name}_raw AS SELECT * FROM {name}_arrow")  # noqa: S608
    cur.unregister(f"{name}_arrow")
    del arrow, columns
    normalise.normalise_table(con, f"{name}_raw", f"{name}_s", key=key)
    con.cursor().execute(f"""CREATE TABLE {name} AS SELECT s.*, r.id_key
                             FROM {name}_s s JOIN {name}_raw r USING (row_no)""")  # noqa: S608
    return con.cursor().execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _member_rows(run: MatchRun, progress) -> Iterable[tuple]:
    qs = run_members(run=run).values_list("pk", "name", "id_number", "id_number_hash",
                                          "birth_date", "sex", "phone", "org_unit__name")
    total = qs.count()
    for done, (pk, name, id_number, id_hash, birth, sex, phone, unit) in enumerate(
            qs.iterator(chunk_size=BATCH), start=1):
        if done % BATCH == 0:
            progress("members", done, total)
        yield (pk, "", str(pk), name, id_number, _iso(birth), sex, phone or None, unit, None,
               id_hash)


def _record_rows(dataset: Dataset, progress) -> Iterable[tuple]:
    qs = ExternalRecord.objects.filter(dataset=dataset).values_list(
        "pk", "sheet", "name", "id_number", "birth_date", "sex", "phone", "unit_name",
        "address", "id_hash")
    total = qs.count()
    for done, (pk, sheet, name, id_number, birth, sex, phone, unit, address, id_hash) in (
            enumerate(qs.iterator(chunk_size=BATCH), start=1)):
        if done % BATCH == 0:
            progress("records", done, total)
        yield (pk, sheet, None, name or None, id_number or None, _iso(birth), sex or None,
               phone or None, unit or None, address or None, id_hash or None)


def _pairs(con, result) -> list[tuple[int, int, float, str, str, str]]:
    """(record id, member id, score, method, reason, status) of the confident and review
    bands, one member per record (the link's own guarantee, kept here too)."""
    pairs: dict[int, tuple] = {}
    for table, status in ((result.review, MatchStatus.REVIEW),
                          (result.matches, MatchStatus.MATCHED)):
        cur = con.cursor()
        cur.execute(f"SELECT external_row, member_key, score, method, reason FROM {table}")  # noqa: S608
        while rows := cur.fetchmany(BATCH):
            for external_row, member_key, score, method, reason in rows:
                method = method if method in MatchMethod.values else MatchMethod.PROBABILISTIC
                pairs[int(external_row)] = (int(external_row), int(member_key),
                                            float(score or 0), method, (reason or "")[:500],
                                            status)
    return list(pairs.values())


def write_matches(run: MatchRun, pairs: list[tuple], counts: dict) -> dict:
    """Write a run's matches with the kept decisions applied, mark it done and the dataset
    matched, journal it — one transaction. Returns the run's counts."""
    with transaction.atomic():
        mine = run.attempts
        run = MatchRun.objects.select_for_update().get(pk=run.pk)
        # cancelled, or cancelled as stale and taken over by a retry: this worker writes nothing
        if run.cancel_requested or run.status != RunStatus.RUNNING or run.attempts != mine:
            raise Cancelled()
        dataset = Dataset.objects.select_for_update().select_related("org_unit").get(
            pk=run.dataset_id)
        keys = dict(ExternalRecord.objects.filter(dataset=dataset).values_list("pk",
                                                                              "person_key"))
        members = {member for _record, member, *_rest in pairs}
        decisions = {}
        if pairs:
            decisions = {
                (member, key): (decision, by, at) for member, key, decision, by, at in
                PairDecision.objects.filter(
                    member__org_unit__path__startswith=dataset.org_unit.path)
                .values_list("member_id", "person_key", "decision", "decided_by_id",
                             "decided_at")
                if member in members}
        kept_rejected = kept_confirmed = 0
        now = timezone.now()
        batch: list[Match] = []
        for record, member, score, method, reason, status in pairs:
            if record not in keys:
                continue  # not a record of this dataset: never trust an engine's row id
            match = Match(run=run, dataset=dataset, record_id=record, member_id=member,
                          score=score, method=method, reason=reason, status=status,
                          created_at=now)
            kept = decisions.get((member, keys[record])) if keys[record] else None
            if kept is not None:
                if kept[0] == Decision.REJECTED:
                    kept_rejected += 1
                    continue
                match.status, match.decided_by_id, match.decided_at = kept
                kept_confirmed += 1
            batch.append(match)
            if len(batch) >= BATCH:
                bulk_insert(Match, batch, fields=MATCH_FIELDS)
                batch = []
        bulk_insert(Match, batch, fields=MATCH_FIELDS)
        counts = {**{k: int(v) for k, v in counts.items()}, "kept_rejected": kept_rejected,
                  "kept_confirmed": kept_confirmed}
        # the linkage names the external rows "external" (MATCHING_SPEC: "external rows")
        counts.setdefault("external_rows", counts.pop("external", len(keys)))
        run.status, run.stage, run.counts, run.finished_at = RunStatus.DONE, "", counts, now
        run.done = run.total = counts.get("external_rows", len(keys))
        run.save(update_fields=["status", "stage", "counts", "finished_at", "done", "total"])
        dataset.status, dataset.current_run = DatasetStatus.MATCHED, run
        dataset.save(update_fields=["status", "current_run"])
        audit_record(actor=run.started_by, action="matching.run_done", target=run,
                     org_unit_path=dataset.org_unit.path, changes=counts)
    return counts


def _finish(run_id: int, attempt: int, status: str, error: str = "") -> None:
    """End this worker's attempt; a run since cancelled as stale or retried is left alone."""
    with transaction.atomic():
        run = MatchRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING or run.attempts != attempt:
            return
        run.status, run.error, run.finished_at, run.stage = status, error[:500], timezone.now(), ""
        run.save(update_fields=["status", "error", "finished_at", "stage"])
        dataset = Dataset.objects.select_for_update().get(pk=run.dataset_id)
        if dataset.status == DatasetStatus.MATCHING:
            dataset.status = (DatasetStatus.MATCHED if dataset.current_run_id
                              else DatasetStatus.LOADED)
            dataset.save(update_fields=["status"])


def _claim(run_id: int) -> MatchRun | None:
    with transaction.atomic():
        run = (MatchRun.objects.select_for_update().select_related("started_by")
               .filter(pk=run_id, status=RunStatus.QUEUED).first())
        if run is None:
            return None
        dataset = Dataset.objects.select_for_update().select_related("org_unit").get(
            pk=run.dataset_id)
        run.status, run.started_at, run.stage = RunStatus.RUNNING, timezone.now(), "members"
        run.attempts += 1
        run.save(update_fields=["status", "started_at", "stage", "attempts"])
        if dataset.status in (DatasetStatus.LOADED, DatasetStatus.MATCHED):
            dataset.status = DatasetStatus.MATCHING
            dataset.save(update_fields=["status"])
        run.dataset = dataset
        return run


def _raise_leads(run: MatchRun) -> int:
    """The run's leads (``matching.leads``), after its matches are written; a failure here is
    logged and does not undo the run (raising again later is safe)."""
    try:
        return leads_raise(run)
    except Exception as exc:
        files.log_failure(logger, "raising the leads of run %s failed", run.pk, exc=exc)
        return 0


def match_run_execute(run_id: int, *, echo=None) -> dict:
    """Run one queued match run (the task ``run_match``, or the command line)."""
    run = _claim(run_id)
    if run is None:
        return {"run": run_id, "skipped": True}
    progress = RowProgress(MatchRun, run_id, echo=echo,
                           alive={"status": RunStatus.RUNNING, "attempts": run.attempts})
    con = storage.duckdb_connect()
    try:
        if run.dataset.status != DatasetStatus.MATCHING:
            raise ServiceError(_("数据已被清除或尚未导入，无法比对。"), code="dataset_not_loaded")
        normalise.install(con)
        members = _table(con, "members", _member_rows(run, progress), key=True)
        records = _table(con, "external", _record_rows(run.dataset, progress), key=False)
        progress.check_cancel()
        if members and records:
            result = _link(con, "members", "external", progress)
            pairs, counts = _pairs(con, result), dict(result.counts)
        else:
            pairs, counts = [], {"external_rows": records, "exact": 0, "probabilistic": 0,
                                 "review": 0, "unmatched": records}
        counts["members"] = members
        progress("writing", 0, len(pairs))
        counts = write_matches(run, pairs, counts)
        counts["leads"] = _raise_leads(run)
    except Cancelled:
        _finish(run_id, run.attempts, RunStatus.CANCELLED)
        return {"run": run_id, "status": RunStatus.CANCELLED}
    except ServiceError as exc:
        _finish(run_id, run.attempts, RunStatus.FAILED, exc.message)
        return {"run": run_id, "status": RunStatus.FAILED}
    except Exception as exc:
        files.log_failure(logger, "match run %s failed", run_id, exc=exc)
        _finish(run_id, run.attempts, RunStatus.FAILED,
                _("比对失败：系统内部错误，可稍后重试或联系系统管理员。"))
        return {"run": run_id, "status": RunStatus.FAILED}
    finally:
        progress.close()
        con.close()
    return {"run": run_id, "status": RunStatus.DONE, **counts}
