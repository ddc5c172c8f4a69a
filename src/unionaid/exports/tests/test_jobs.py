"""Background export jobs through the service and the task (ImmediateBackend): the same file as
the direct export, the same scope and audit, refusals, and failures the user can read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conftest import make_role, make_staff
from unionaid.accounts import services as account_services
from unionaid.accounts.models import Assignment
from unionaid.archive.ledgers.archive_ledger import export_archive_ledger
from unionaid.archive.ledgers.visit_ledger import export_visit_ledger
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.exports import tasks
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.exports.services import export_job_create
from unionaid.exports.tests.support import END, START, Kinds, ledger_rows, xlsx_rows
from unionaid.members import exporting  # the roster kind calls it through the module
from unionaid.members.exporting import export_members


def run(capture, **kwargs) -> ExportJob:
    with capture(execute=True):
        job = export_job_create(**kwargs)
    job.refresh_from_db()
    return job


def test_a_members_job_writes_what_the_direct_export_writes(
        personas, roll, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre

    job = run(django_capture_on_commit_callbacks, actor=cadre, kind=Kinds.MEMBERS,
              params={"unit": None, "q": "", "reveal": False})

    assert job.status == ExportJobStatus.DONE
    assert job.row_count == 3  # station A's subtree, not station B
    assert job.total == 3
    assert job.revealed_count == 0
    assert job.file_name.startswith("职工名册-")
    assert job.file_path.startswith("exports/jobs/")
    assert job.finished_at is not None
    assert job.expires_at > job.finished_at
    direct = export_members(actor=cadre)
    assert xlsx_rows(tasks.job_file(job)) == xlsx_rows(direct.path)
    direct.path.unlink()
    names = {row[0] for row in xlsx_rows(tasks.job_file(job))[1:]}
    assert names == {"张一", "张二", "李三"}
    created = AuditEvent.objects.get(action="export.job_create")
    assert created.actor_id == cadre.pk
    assert created.target_id == str(job.pk)
    assert created.changes["kind"] == "members"
    assert created.changes["reveal"] is False
    exports = AuditEvent.objects.filter(action="member.export", actor_id=cadre.pk)
    assert [e.changes["count"] for e in exports] == [3, 3]  # the job's, then the direct one


def test_a_revealed_members_job_in_a_unit_is_masked_exactly_as_the_direct_one(
        personas, roll, union, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre

    job = run(django_capture_on_commit_callbacks, actor=cadre, kind=Kinds.MEMBERS,
              params={"unit": union.workshop_a.pk, "q": "张", "reveal": True})

    assert job.status == ExportJobStatus.DONE
    assert job.params == {"unit": union.workshop_a.pk, "unit_name": "甲车间", "q": "张",
                          "reveal": True}
    rows = xlsx_rows(tasks.job_file(job))
    assert {row[0] for row in rows[1:]} == {"张一", "张二"}
    assert roll["team_a"].id_number in {row[1] for row in rows}
    assert job.revealed_count == 2
    direct = export_members(actor=cadre, unit=union.workshop_a, query="张", reveal=True)
    assert rows == xlsx_rows(direct.path)
    direct.path.unlink()
    event = AuditEvent.objects.filter(action="member.export").first()
    assert event.changes["revealed_count"] == 2
    assert event.org_unit_path == union.workshop_a.path


@pytest.mark.parametrize("kind", [Kinds.ARCHIVE_LEDGER, Kinds.VISITS_LEDGER])
def test_a_ledger_job_writes_what_the_direct_export_writes(
        kind, ledger_data, django_capture_on_commit_callbacks):
    cadre = ledger_data.cadre_a
    direct_export = export_archive_ledger if kind == Kinds.ARCHIVE_LEDGER \
        else export_visit_ledger

    job = run(django_capture_on_commit_callbacks, actor=cadre, kind=kind,
              params={"unit": None, "start": START, "end": END})

    assert job.status == ExportJobStatus.DONE
    assert job.params["start"] == "2026-01-01"
    direct = direct_export(actor=cadre, unit=None, start=START, end=END)
    rows = ledger_rows(tasks.job_file(job))
    assert rows == ledger_rows(direct.path)
    direct.path.unlink()
    assert job.row_count == direct.count == len(rows) - 2 == 2
    assert job.file_name == direct.download_name
    action = "archive.ledger_export" if kind == Kinds.ARCHIVE_LEDGER \
        else "visits.ledger_export"
    assert AuditEvent.objects.filter(action=action, actor_id=cadre.pk).count() == 2
    assert AuditEvent.objects.get(action="export.job_create").changes["kind"] == kind


def test_an_archive_ledger_job_masks_unless_revealed(ledger_data,
                                                      django_capture_on_commit_callbacks):
    masked = run(django_capture_on_commit_callbacks, actor=ledger_data.cadre_a,
                 kind=Kinds.ARCHIVE_LEDGER, params={"start": START, "end": END})
    revealed = run(django_capture_on_commit_callbacks, actor=ledger_data.cadre_a,
                   kind=Kinds.ARCHIVE_LEDGER,
                   params={"start": START, "end": END, "reveal": True})

    masked_phones = {row[6] for row in ledger_rows(tasks.job_file(masked))[2:]}
    revealed_phones = {row[6] for row in ledger_rows(tasks.job_file(revealed))[2:]}
    assert "13812345678" not in masked_phones
    assert "138****5678" in masked_phones
    assert "13812345678" in revealed_phones
    assert (masked.revealed_count, revealed.revealed_count) == (0, 2)


def test_an_out_of_scope_unit_is_not_found_and_no_job_is_made(
        personas, roll, union, django_capture_on_commit_callbacks):
    for kind, params in [(Kinds.MEMBERS, {"unit": union.station_b.pk}),
                         (Kinds.MEMBERS, {"unit": 999_999})]:
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotFound):
            export_job_create(actor=personas.station_cadre, kind=kind, params=params)
    assert not ExportJob.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()
    assert not AuditEvent.objects.filter(action="member.export").exists()


def test_an_out_of_scope_ledger_unit_is_not_found(ledger_data):
    with pytest.raises(NotFound):
        export_job_create(actor=ledger_data.cadre_b, kind=Kinds.VISITS_LEDGER,
                          params={"unit": ledger_data.union.team_a.pk, "start": START,
                                  "end": END})
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("query", ["110105199001011234", "13812345678", "+86 138 1234 5678"])
def test_an_identifier_in_the_query_is_refused(personas, roll, query):
    with pytest.raises(ServiceError) as caught:
        export_job_create(actor=personas.station_cadre, kind=Kinds.MEMBERS,
                          params={"q": query})
    assert caught.value.code == "identifier_in_query"
    assert "身份证号或手机号" in caught.value.message
    assert not ExportJob.objects.exists()
    assert not AuditEvent.objects.filter(action="export.job_create").exists()


def test_rights_are_checked_as_the_direct_export_checks_them(personas, union, ledger_data):
    with pytest.raises(PermissionDenied, match="没有导出职工名册的权限"):
        export_job_create(actor=personas.team_cadre, kind=Kinds.MEMBERS, params={})
    exporter = make_staff("exporter", union.station_a,
                          [make_role("exporter", ["members.view", "members.export"])])
    with pytest.raises(PermissionDenied, match="无权导出完整"):
        export_job_create(actor=exporter, kind=Kinds.MEMBERS, params={"reveal": True})
    with pytest.raises(PermissionDenied, match="无权导出完整"):
        export_job_create(actor=ledger_data.cadre_b, kind=Kinds.ARCHIVE_LEDGER,
                          params={"start": START, "end": END, "reveal": True})
    with pytest.raises(PermissionDenied):
        export_job_create(actor=ledger_data.viewer_a, kind=Kinds.VISITS_LEDGER,
                          params={"start": START, "end": END})
    with pytest.raises(ServiceError, match="开始日期不能晚于结束日期"):
        export_job_create(actor=ledger_data.cadre_a, kind=Kinds.ARCHIVE_LEDGER,
                          params={"start": END, "end": START})
    with pytest.raises(ServiceError, match="请填写开始日期"):
        export_job_create(actor=ledger_data.cadre_a, kind=Kinds.ARCHIVE_LEDGER,
                          params={"start": "not a date", "end": END})
    with pytest.raises(ServiceError, match="不支持的导出内容"):
        export_job_create(actor=ledger_data.cadre_a, kind="funds", params={})
    assert not ExportJob.objects.exists()


def test_a_user_deactivated_before_the_task_runs_gets_a_failed_job(
        personas, roll, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_job_create(actor=cadre, kind=Kinds.MEMBERS, params={})
    account_services.user_set_active(actor=personas.security_admin, user=cadre, active=False)

    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert job.status == ExportJobStatus.FAILED
    assert job.error_message == "申请导出的账号已停用，导出未执行。"
    assert job.file_path == ""
    assert not list((tasks.private_root() / "exports").rglob("*.xlsx"))
    assert not AuditEvent.objects.filter(action="member.export").exists()


def test_a_user_who_lost_the_right_before_the_task_runs_gets_a_failed_job(
        personas, roll, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_job_create(actor=cadre, kind=Kinds.MEMBERS, params={"reveal": True})
    Assignment.objects.filter(user=cadre).delete()

    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert job.status == ExportJobStatus.FAILED
    assert job.error_message == "您没有导出职工名册的权限。"
    assert not AuditEvent.objects.filter(action="member.export").exists()


def test_an_unexpected_error_fails_the_job_without_showing_it(
        personas, roll, monkeypatch, django_capture_on_commit_callbacks, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom near 13812345678")

    monkeypatch.setattr(exporting, "export_members", broken)

    job = run(django_capture_on_commit_callbacks, actor=personas.station_cadre,
              kind=Kinds.MEMBERS, params={})

    assert job.status == ExportJobStatus.FAILED
    assert job.error_message == "系统内部错误，请联系系统管理员。"
    assert "boom" not in job.error_message
    assert f"export job {job.pk} (members) failed" in caplog.text


def test_a_second_delivery_of_the_task_does_nothing(personas, roll,
                                                    django_capture_on_commit_callbacks):
    job = run(django_capture_on_commit_callbacks, actor=personas.station_cadre,
              kind=Kinds.MEMBERS, params={})

    assert tasks.run_export_job.call(job.pk) == {"job": job.pk, "skipped": True}
    assert AuditEvent.objects.filter(action="member.export").count() == 1


def test_a_failure_recording_the_finished_job_fails_it(
        personas, roll, monkeypatch, django_capture_on_commit_callbacks):
    real_export = exporting.export_members

    def export_without_a_name(**kwargs):
        result = real_export(**kwargs)
        # The update marking the job done then fails (no name to cut to length).
        return SimpleNamespace(count=result.count, revealed_count=result.revealed_count,
                               download_name=None)

    monkeypatch.setattr(exporting, "export_members", export_without_a_name)

    job = run(django_capture_on_commit_callbacks, actor=personas.station_cadre,
              kind=Kinds.MEMBERS, params={})

    assert job.status == ExportJobStatus.FAILED  # not running forever
    assert job.error_message == "系统内部错误，请联系系统管理员。"
    assert job.file_path == ""
    assert not list((tasks.private_root() / "exports").rglob("*.xlsx"))


def test_a_user_may_have_two_exports_queued_or_running_at_a_time(
        personas, roll, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    with django_capture_on_commit_callbacks(execute=False):
        first = export_job_create(actor=cadre, kind=Kinds.MEMBERS, params={})
        second = export_job_create(actor=cadre, kind=Kinds.MEMBERS, params={"q": "张"})
    ExportJob.objects.filter(pk=first.pk).update(status=ExportJobStatus.RUNNING)

    with pytest.raises(Conflict) as caught:
        export_job_create(actor=cadre, kind=Kinds.MEMBERS, params={"q": "李"})

    assert caught.value.code == "too_many_exports"
    assert "2 个导出正在排队或进行中" in caught.value.message
    assert ExportJob.objects.count() == 2
    assert AuditEvent.objects.filter(action="export.job_create").count() == 2
    # Someone else is not held up; and once one of the two is over, the user may ask again.
    with django_capture_on_commit_callbacks(execute=False):
        export_job_create(actor=personas.other_cadre, kind=Kinds.MEMBERS, params={})
    ExportJob.objects.filter(pk=second.pk).update(status=ExportJobStatus.DONE)
    with django_capture_on_commit_callbacks(execute=False):
        third = export_job_create(actor=cadre, kind=Kinds.MEMBERS, params={"q": "李"})
    assert third.status == ExportJobStatus.QUEUED
    assert ExportJob.objects.filter(created_by=cadre).count() == 3
