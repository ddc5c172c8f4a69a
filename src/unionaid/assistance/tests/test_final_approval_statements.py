"""What a final approval costs the database: the statements ``task_decide`` runs when the
last step is approved (benchmarked in ``benchmarks/``, guarded here by count, not by time)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from unionaid.accounts.access import access_for
from unionaid.approvals import services as approvals
from unionaid.assistance.models import ApplicationStatus

from .test_flow import file_and_submit, pending

# BEGIN/COMMIT (savepoints inside a test) not counted. Case lock, task lock, task update, case update, application
# lock, budget lock, disbursement check + insert, ledger insert, budget update, application
# update, the worker's login, their notice and its channel preferences (which outbound messages
# to queue), chain lock (PostgreSQL) + tail + insert: 17.
FINAL_APPROVAL_STATEMENTS = 17


def test_a_final_approval_reads_neither_the_flow_nor_the_approvers_posts(
        worker, staff, illness, flow, budget):
    application = file_and_submit(worker, worker.member, illness, "12000")
    approvals.task_decide(actor=staff.apply_cadre, task=pending(application), decision="approve")
    last = pending(application)
    access_for(staff.chairman)  # as in a request: the approver's rights are computed once

    with CaptureQueriesContext(connection) as ctx:
        approvals.task_decide(actor=staff.chairman, task=last.pk, decision="approve")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    sql = [q["sql"] for q in ctx.captured_queries
           if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]  # the test's own
    # the last step is known to be last from the task's own row, and the approver's post from
    # their access: neither the flow's steps nor the assignments are read again
    assert not [s for s in sql if s.startswith('SELECT "approvals_approvalstep"')]
    assert not [s for s in sql if 'FROM "accounts_assignment"' in s]
    assert len(sql) <= FINAL_APPROVAL_STATEMENTS, "\n".join(s[:120] for s in sql)
