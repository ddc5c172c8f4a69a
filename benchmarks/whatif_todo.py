#!/usr/bin/env python
"""What-if measurement for the to-do page (not part of ``make bench``).

``GET /approvals/todo/`` also lists the fast-tracked cases that wait for the user's review
(``approvals.selectors.fast_track_reviews_for_user``). With a million historical cases that
query reads every case (PostgreSQL: parallel seq scan) or every task (SQLite: the subquery's
``assigned_position OR assigned_user`` defeats the indexes). This script measures the page as it
is, then inside a transaction that is rolled back at the end (the database is left unchanged):

* ``index`` — a partial index on the cases still waiting for their review
  (``WHERE fast_track AND fast_track_reviewed_at IS NULL``);
* ``index+exists`` — the same index, and the selector asking for its tasks with a correlated
  ``EXISTS`` per waiting case instead of ``pk IN (tasks of my posts)``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/unionaid_bench python benchmarks/whatif_todo.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (str(ROOT), str(ROOT / "src"), str(ROOT / "benchmarks")):
    if extra not in sys.path:
        sys.path.insert(0, extra)

INDEX = ("CREATE INDEX case_fast_track_review_idx ON approvals_approvalcase (started_at, id) "
         "WHERE fast_track AND fast_track_reviewed_at IS NULL")


def reviews_with_exists(*, user):
    """``fast_track_reviews_for_user`` with a correlated EXISTS (the proposed query)."""
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from unionaid.approvals.models import ApprovalCase, ApprovalTask, SkipKind
    from unionaid.approvals.selectors import _reach

    if user is None or not getattr(user, "is_authenticated", False):
        return ApprovalCase.objects.none()
    positions, users = _reach(user, timezone.now())
    mine = ApprovalTask.objects.filter(
        Q(assigned_position_id__in=positions) | Q(assigned_user_id__in=users),
        case_id=OuterRef("pk"), skip_kind=SkipKind.FAST_TRACK,
    )
    return (ApprovalCase.objects.filter(Exists(mine), fast_track=True,
                                        fast_track_reviewed_at__isnull=True)
            .exclude(filed_by_id=user.pk).select_related("org_unit", "applicant")
            .order_by("started_at", "pk"))


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # the keys the benchmark database was encrypted with (helpers/keys.py)
    from helpers.keys import use_bench_keys

    use_bench_keys()
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client
    from helpers.timing import measure

    from unionaid.accounts.models import User
    from unionaid.approvals import selectors
    from unionaid.approvals.views import tasks as task_views

    samples = int(os.environ.get("SAMPLES", "300"))
    out = {}
    for username in ("station_cadre", "bureau_cadre"):
        client = Client()
        client.force_login(User.objects.get(username=username))

        def page(i, client=client):
            response = client.get("/approvals/todo/")
            assert response.status_code == 200, response.status_code
            return response

        original = task_views.fast_track_reviews_for_user
        with transaction.atomic():
            out[(username, "as is")] = measure(page, samples=samples, warmup=10)
            with connection.cursor() as cursor:
                cursor.execute(INDEX)
                cursor.execute("ANALYZE approvals_approvalcase")
            out[(username, "index")] = measure(page, samples=samples, warmup=10)
            task_views.fast_track_reviews_for_user = reviews_with_exists
            try:
                out[(username, "index+exists")] = measure(page, samples=samples, warmup=10)
                user = User.objects.get(username=username)
                plan = reviews_with_exists(user=user)[:50].explain(
                    **({"analyze": True} if connection.vendor == "postgresql" else {}))
            finally:
                task_views.fast_track_reviews_for_user = original
            transaction.set_rollback(True)
        print(f"{username}: plan with index+exists:\n{plan}\n")
        assert selectors.fast_track_reviews_for_user is not reviews_with_exists
    for (username, variant), stats in out.items():
        print(f"{connection.vendor:10s} {username:14s} {variant:13s} p50 {stats['p50_ms']:7.2f} ms "
              f"p95 {stats['p95_ms']:7.2f} ms  load {os.getloadavg()[0]:.2f}")
    print(json.dumps({f"{u}/{v}": s for (u, v), s in out.items()}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
