"""Reads of export jobs. A job is its requester's alone: anyone else gets "not found"."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.exports.models import ExportJob

RECENT = 20


def export_jobs_for_user(*, user) -> QuerySet[ExportJob]:
    """The user's own jobs, newest first."""
    return ExportJob.objects.filter(created_by_id=user.pk)


def export_jobs_recent(*, user) -> list[ExportJob]:
    return list(export_jobs_for_user(user=user)[:RECENT])


@scoped_getter
def export_job_get_for_user(*, user, pk) -> ExportJob:
    """The job ``pk`` if ``user`` asked for it; otherwise NotFound. Another user's job looks
    like a missing one, and the attempt is journaled (``access.denied``)."""
    return get_in_scope(
        user=user, pk=pk, perm="exports.view", queryset=ExportJob.objects.all(),
        scope=Q(created_by_id=user.pk), target_type="exports.exportjob",
    )
