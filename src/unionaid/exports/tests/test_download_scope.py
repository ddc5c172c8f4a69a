"""The download checks the scope again: a requester who no longer covers all the file may
contain (moved to another unit in the same role, narrowed, lost the reveal right where the file
revealed) gets nothing, and the refusal is journaled."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import make_role
from unionaid.accounts import services as account_services
from unionaid.accounts.models import Assignment, DataScope, User
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.exports.services import export_job_create, export_job_download
from unionaid.exports.tests.support import Kinds

MEMBERS_EXPORT = reverse("members_io:export")
# the roster form's background box is handed on (307) to the exports engine's start page
BACKGROUND_MEMBERS_EXPORT = reverse("exports:start", args=["members"])
SCOPE_CHANGED = "管辖范围已变更"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def background_members_export(client, capture, **data) -> ExportJob:
    with capture(execute=True):
        client.post(BACKGROUND_MEMBERS_EXPORT, {"background": "1", "reveal": "0", **data})
    job = ExportJob.objects.get()
    assert job.status == ExportJobStatus.DONE
    return job


def run(capture, **kwargs) -> ExportJob:
    with capture(execute=True):
        job = export_job_create(**kwargs)
    job.refresh_from_db()
    return job


def move(user, *posts) -> User:
    """End all of ``user``'s posts and give them ``posts`` (unit, roles) instead; returns a
    fresh user object (rights computed anew)."""
    Assignment.objects.filter(user=user).delete()
    for n, (unit, roles) in enumerate(posts):
        position = account_services.position_create(
            actor=None, org_unit=unit, name=f"moved-{n}", roles=roles)
        account_services.assignment_grant(actor=None, user=user, position=position)
    return User.objects.get(pk=user.pk)


def refusals(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor_id=user.pk, outcome="denied"))


def test_a_user_moved_to_another_unit_cannot_download_a_revealed_job_of_the_old_unit(
        personas, roll, roles, union, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    client = logged_in(cadre)
    job = background_members_export(client, django_capture_on_commit_callbacks,
                                    reveal="1", unit=union.station_a.pk)
    assert job.revealed_count > 0
    move(cadre, (union.station_b, [roles["revealer"]]))  # same role, station B

    response = client.get(reverse("exports:download", args=[job.pk]))

    assert response.status_code == 404  # as for anyone else's job: the plain 404 page
    assert "exports/error.html" not in [t.name for t in response.templates]
    job.refresh_from_db()
    assert job.downloaded_at is None
    assert not AuditEvent.objects.filter(action="export.download", outcome="ok").exists()
    [denied] = refusals(cadre)
    assert denied.action == "access.denied"
    assert denied.target_type == "exports.exportjob"
    assert denied.target_id == str(job.pk)
    assert denied.changes == {"attempted": "exports.download"}


def test_a_user_moved_to_another_unit_cannot_download_a_job_of_their_whole_old_scope(
        personas, roll, roles, union, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    client = logged_in(cadre)
    job = background_members_export(client, django_capture_on_commit_callbacks, reveal="1")
    assert job.params["unit"] is None
    assert job.scope_roots == [
        {"perm": "members.export", "scope": DataScope.UNIT_AND_BELOW,
         "unit_id": union.station_a.pk, "unit_path": union.station_a.path},
        {"perm": "members.reveal", "scope": DataScope.UNIT_AND_BELOW,
         "unit_id": union.station_a.pk, "unit_path": union.station_a.path},
    ]
    move(cadre, (union.station_b, [roles["revealer"]]))

    response = client.get(reverse("exports:download", args=[job.pk]))

    assert response.status_code == 403
    assert SCOPE_CHANGED in response.content.decode()
    job.refresh_from_db()
    assert job.downloaded_at is None
    [denied] = refusals(cadre)
    assert denied.action == "export.download"
    assert denied.target_id == str(job.pk)
    assert denied.changes == {"reason": "scope_changed", "kind": "members"}


def test_the_api_refuses_the_download_after_a_move(
        personas, roll, roles, union, as_token, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    with django_capture_on_commit_callbacks(execute=True):
        whole = as_token(cadre).post("/exports", {"kind": "members"}).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        in_unit = as_token(cadre).post(
            "/exports", {"kind": "members", "unit_id": union.workshop_a.pk}).json()["id"]
    move(cadre, (union.station_b, [roles["revealer"]]))
    api = as_token(User.objects.get(pk=cadre.pk))

    refused = api.get(f"/exports/{whole}/download")
    hidden = api.get(f"/exports/{in_unit}/download")

    assert refused.status_code == 403
    assert refused.json()["code"] == "scope_changed"
    assert SCOPE_CHANGED in refused.json()["message"]
    assert hidden.status_code == 404
    assert {(e.action, e.target_id) for e in refusals(cadre)} == {
        ("export.download", str(whole)), ("access.denied", str(in_unit))}
    assert not AuditEvent.objects.filter(action="export.download", outcome="ok").exists()


def test_a_narrowed_scope_at_the_same_unit_is_refused(
        personas, roll, union, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    job = background_members_export(logged_in(cadre), django_capture_on_commit_callbacks,
                                    unit=union.station_a.pk)
    unit_only = make_role("unit-exporter", ["members.view", "members.export"], DataScope.UNIT)
    cadre = move(cadre, (union.station_a, [unit_only]))  # station A's own members only

    with pytest.raises(PermissionDenied) as caught:
        export_job_download(actor=cadre, job=job)

    assert caught.value.code == "scope_changed"
    assert [e.changes["reason"] for e in refusals(cadre)] == ["scope_changed"]


def test_a_revealed_file_needs_the_reveal_right_where_it_was_held(
        personas, roll, roles, union, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    revealed = run(django_capture_on_commit_callbacks, actor=cadre, kind=Kinds.MEMBERS,
                   params={"reveal": True})
    masked = run(django_capture_on_commit_callbacks, actor=cadre, kind=Kinds.MEMBERS,
                 params={"reveal": False})
    assert (revealed.revealed_count, masked.revealed_count) == (3, 0)
    exporter = make_role("exporter", ["members.view", "members.export"])
    # Still exports station A, but may reveal only in station B now.
    cadre = move(cadre, (union.station_a, [exporter]), (union.station_b, [roles["revealer"]]))

    with pytest.raises(PermissionDenied) as caught:
        export_job_download(actor=cadre, job=revealed)
    export_job_download(actor=cadre, job=masked).close()

    assert caught.value.code == "scope_changed"
    assert [e.target_id for e in refusals(cadre)] == [str(revealed.pk)]
    assert AuditEvent.objects.get(action="export.download", outcome="ok").target_id == \
        str(masked.pk)


def test_a_wider_scope_still_downloads(personas, roll, roles, union,
                                       django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    client = logged_in(cadre)
    job = background_members_export(client, django_capture_on_commit_callbacks, reveal="1")
    move(cadre, (union.bureau, [roles["revealer"]]))  # promoted to the bureau

    response = client.get(reverse("exports:download", args=[job.pk]))

    assert response.status_code == 200
    assert not refusals(cadre)
    assert AuditEvent.objects.filter(action="export.download", outcome="ok").count() == 1


def test_a_unit_job_records_only_the_roots_inside_its_unit(
        personas, roll, union, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = export_job_create(actor=personas.station_cadre, kind=Kinds.MEMBERS,
                                params={"unit": union.workshop_a.pk, "reveal": True})
    assert job.scope_roots == [
        {"perm": perm, "scope": DataScope.UNIT_AND_BELOW, "unit_id": union.workshop_a.pk,
         "unit_path": union.workshop_a.path}
        for perm in ("members.export", "members.reveal")
    ]


def test_a_job_without_recorded_roots_for_its_whole_scope_is_refused(
        personas, roll, django_capture_on_commit_callbacks):
    cadre = personas.station_cadre
    job = background_members_export(logged_in(cadre), django_capture_on_commit_callbacks)
    ExportJob.objects.filter(pk=job.pk).update(scope_roots=[])  # asked for before roots were kept

    with pytest.raises(PermissionDenied) as caught:
        export_job_download(actor=cadre, job=job)

    assert caught.value.code == "scope_changed"
