"""On SQLite (the `make run` database) the export task must not write progress while it streams
rows: in the worker's autocommit mode on a file database, that write on the connection reading
the export failed with "database is locked" and every background export failed (seen with
`unionaid db_worker` on the demo; an in-memory test database does not lock, so this checks that
no progress write happens at all). PostgreSQL publishes progress."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from unionaid.exports import tasks
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.exports.tests.support import Kinds


def test_sqlite_exports_write_no_progress_while_streaming(
        personas, union, make_member, monkeypatch):
    from unionaid.members import exporting

    monkeypatch.setattr(exporting, "CHUNK", 2)  # several chunks: progress is due between them
    for n in range(5):
        make_member(union.team_a, name=f"测试{n}")  # in the station cadre's subtree
    job = ExportJob.objects.create(kind=Kinds.MEMBERS, created_by=personas.station_cadre,
                                   params={}, file_path="exports/jobs/test/one.xlsx",
                                   expires_at=timezone.now() + dt.timedelta(hours=24))

    with CaptureQueriesContext(connection) as ctx:
        tasks.run_export_job.func(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error_message) == (ExportJobStatus.DONE, "")
    assert job.row_count >= 5
    progress = [q["sql"] for q in ctx.captured_queries
                if q["sql"].startswith('UPDATE "exports_exportjob"') and "row_count" in q["sql"]
                and "done" not in q["sql"]]
    if connection.vendor == "sqlite":
        assert progress == []
    else:
        assert progress  # the job page shows the rows written so far
