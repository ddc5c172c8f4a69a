"""The matching domain's background tasks (django-tasks): loading an uploaded list and running
a linkage. Each is a thin wrapper around a plain function the command line calls too
(``loading.dataset_load_run``, ``linking.match_run_execute``); both claim their row first, so a
second delivery of the same task does nothing."""

from __future__ import annotations

from django_tasks import task

from unionaid.matching.linking import match_run_execute
from unionaid.matching.loading import dataset_load_run


@task()
def load_dataset(dataset_id: int, dry_run: bool) -> dict:
    return dataset_load_run(dataset_id, dry_run=dry_run)


@task()
def run_match(run_id: int) -> dict:
    return match_run_execute(run_id)
