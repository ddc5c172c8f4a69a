"""The periodic jobs every app registers with the scheduler: all there, each runs to a summary
on a small install, and the journal check fails (with a message fit to show) on a broken
chain."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from unionaid.audit.models import AuditEvent
from unionaid.audit.services import audit_record
from unionaid.schedules import registry, runner
from unionaid.schedules.models import Schedule

pytestmark = pytest.mark.django_db

REGISTERED = {"approvals.escalate", "archive.recheck_remind", "archive.watch_refresh",
              "assistance.storage_sweep", "audit.backup", "audit.verify", "exports.cleanup",
              "matching.leads_catch_up", "matching.purge", "notifications.send_due", "portal.login_codes_purge", "portal.login_codes_send"}
# The backup cannot copy the test's in-memory database inside its transaction; its job runs in
# test_the_backup_job_writes_a_backup on a file database (audit/tests/test_backups.py covers
# both kinds of database).
RUN_HERE = REGISTERED - {"audit.backup"}


def run_now(key: str):
    now = timezone.now()
    Schedule.objects.create(key=key, expression=registry.job_or_none(key).default_schedule,
                            not_before=now, run_requested_at=now)
    [run] = [r for r in runner.scheduler_tick(now=now) if r.schedule.key == key]
    return run


def test_every_periodic_job_is_registered_with_a_schedule_a_label_and_words():
    jobs = {job.key: job for job in registry.jobs()}
    assert set(jobs) >= REGISTERED
    for job in jobs.values():
        assert str(job.label)
        assert str(job.description)


@pytest.mark.parametrize("key", sorted(RUN_HERE))
def test_each_job_runs_to_a_summary(key, settings, tmp_path, personas):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    run = run_now(key)
    assert run.outcome == "ok", run.error
    assert run.summary


def test_the_journal_check_fails_on_a_broken_chain(settings, tmp_path, personas):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL's trigger refuses the edit that breaks the chain")
    audit_record(actor=None, action="test.event", target_type="test", target_id=1)
    AuditEvent.objects.filter(action="test.event").update(target_label="edited")
    run = run_now("audit.verify")
    assert run.outcome == "failed"
    assert run.error.startswith("审计日志哈希链校验发现 1 处问题")


@pytest.fixture
def committing(transactional_db):
    """The backup copies committed rows only (see audit/tests/test_backups.py)."""
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")


@pytest.mark.django_db(transaction=True)
def test_the_backup_job_writes_a_backup(committing, settings, tmp_path):
    settings.BACKUP_DIR, settings.BACKUP_KEEP = tmp_path, 3
    run = run_now("audit.backup")
    assert run.outcome == "ok", run.error
    [backup] = [p for p in tmp_path.iterdir() if not p.name.endswith(".sha256")]
    assert backup.name in run.summary
    assert (tmp_path / (backup.name + ".sha256")).exists()
