"""Reads of export jobs. A job is its requester's alone: anyone else gets "not found"."""

from __future__ import annotations

from django.db.models import QuerySet

from unionaid.core.errors import NotFound
from unionaid.exports.models import ExportJob
from unionaid.members.selectors import record_denial

RECENT = 20


def export_jobs_for_user(*, user) -> QuerySet[ExportJob]:
    """The user's own jobs, newest first."""
    return ExportJob.objects.filter(created_by_id=user.pk)


def export_jobs_recent(*, user) -> list[ExportJob]:
    return list(export_jobs_for_user(user=user)[:RECENT])


def export_job_get_for_user(*, user, pk) -> ExportJob:
    """The job ``pk`` if ``user`` asked for it; otherwise NotFound. Another user's job looks
    like a missing one, and the attempt is journaled (``access.denied``)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    job = export_jobs_for_user(user=user).filter(pk=pk).first()
    if job is None:
        if ExportJob.objects.filter(pk=pk).exists():
            record_denial(user=user, target_type="exports.exportjob", target_id=pk,
                          action="exports.view")
        raise NotFound()
    return job
