"""Post-run invariants: a benchmark that leaves the data wrong has measured nothing.

``check(...)`` returns a dict with the figures and ``problems`` (empty when all holds); the suites
record it in their results and then fail the run (non-zero exit) through ``enforce``.

* the ledger: every budget's cached balances recomputed from the entries, every transaction
  summing to zero (``funds.services.ledger_recompute``, what ``unionaid ledger_check`` runs);
* the audit journal: the whole hash chain (``audit.services.audit_verify``, what
  ``unionaid audit verify`` runs);
* the approvals of the run: every decided task approved (none left pending), its case and its
  application approved, exactly one live disbursement per application for the application's
  amount, with its reservation in the ledger;
* the members: as many members as the roster had rows.
"""

from __future__ import annotations

from collections.abc import Iterable


class InvariantsBroken(SystemExit):
    pass


def _ledger(out: dict, problems: list[str]) -> None:
    from unionaid.funds.services import ledger_recompute

    mismatches = ledger_recompute()
    out["ledger_mismatches"] = len(mismatches)
    for m in mismatches[:5]:
        problems.append(f"ledger: budget {m.budget_id} {m.column} cached {m.cached}, entries "
                        f"give {m.computed}" if m.txn is None else
                        f"ledger: transaction {m.txn} sums to {m.computed}")
    if len(mismatches) > 5:
        problems.append(f"ledger: … {len(mismatches) - 5} more")


def _audit(out: dict, problems: list[str]) -> None:
    from unionaid.audit.models import AuditEvent
    from unionaid.audit.services import audit_verify

    found = list(audit_verify())
    out["audit_events"] = AuditEvent.objects.count()
    out["audit_problems"] = len(found)
    problems += [f"audit: event {p.event_id}: {p.reason}" for p in found[:5]]


def _approvals(task_ids: list[int], out: dict, problems: list[str]) -> None:
    from django.db.models import Count, Sum

    from unionaid.approvals.models import ApprovalTask, CaseStatus, TaskStatus
    from unionaid.assistance.models import Application
    from unionaid.funds.models import Disbursement, LedgerEntry

    expected = len(set(task_ids))
    tasks = ApprovalTask.objects.filter(pk__in=task_ids)
    by_status = dict(tasks.values_list("status").annotate(n=Count("pk")).order_by())
    apps = Application.objects.filter(case_id__in=tasks.values("case_id"))
    live = Disbursement.objects.filter(subject_kind="assistance.application",
                                       subject_id__in=apps.values("pk"),
                                       status="reserved")
    figures = {
        "tasks": sum(by_status.values()),
        "tasks_approved": by_status.get(TaskStatus.APPROVED, 0),
        "tasks_pending": by_status.get(TaskStatus.PENDING, 0),
        "cases_approved": tasks.filter(case__status=CaseStatus.APPROVED).count(),
        "applications_approved": apps.filter(status="approved").count(),
        "disbursements": live.count(),
        "disbursed_applications": live.values("subject_id").distinct().count(),
        "disbursed_amount": str(live.aggregate(s=Sum("amount"))["s"] or 0),
        "approved_amount": str(apps.aggregate(s=Sum("amount"))["s"] or 0),
        "reserved_in_ledger": str(LedgerEntry.objects.filter(
            disbursement__in=live, account="reserved").aggregate(s=Sum("amount"))["s"] or 0),
    }
    out["approvals"] = {"expected": expected, **figures}
    for key in ("tasks", "tasks_approved", "cases_approved", "applications_approved",
                "disbursements", "disbursed_applications"):
        if figures[key] != expected:
            problems.append(f"approvals: {key} = {figures[key]}, expected {expected}")
    if figures["tasks_pending"]:
        problems.append(f"approvals: {figures['tasks_pending']} task(s) left pending")
    if not (figures["disbursed_amount"] == figures["approved_amount"]
            == figures["reserved_in_ledger"]):
        problems.append(f"approvals: disbursed {figures['disbursed_amount']}, approved "
                        f"{figures['approved_amount']}, reserved in the ledger "
                        f"{figures['reserved_in_ledger']}")


def check(*, task_ids: Iterable[int] = (), members: int | None = None) -> dict:
    """Check the invariants after a run; ``task_ids``: the tasks the run approved."""
    out: dict = {}
    problems: list[str] = []
    if members is not None:
        from unionaid.members.models import Member

        out["members"] = Member.objects.count()
        if out["members"] != members:
            problems.append(f"members: {out['members']:,} in the database, expected {members:,}")
    task_ids = list(task_ids)
    if task_ids:
        _approvals(task_ids, out, problems)
    _ledger(out, problems)
    _audit(out, problems)
    out["problems"] = problems
    out["ok"] = not problems
    return out


def enforce(results: dict) -> None:
    """Fail the run (non-zero exit) when any recorded invariant check found a problem."""
    broken = [f"{name}: {p}" for name, inv in _recorded(results) for p in inv["problems"]]
    if broken:
        raise InvariantsBroken("post-run invariants broken:\n  " + "\n  ".join(broken))


def _recorded(results: dict):
    if "invariants" in results:
        yield "run", results["invariants"]
    for group in ("throughput", "http"):
        for key, stats in (results.get(group) or {}).items():
            if "invariants" in stats:
                yield key, stats["invariants"]
