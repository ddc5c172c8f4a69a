#!/usr/bin/env python
"""What-if measurements for final approvals per second (not part of ``make bench``).

Runs the assistance suite's throughput measurement (``helpers.assistance.throughput``) on an
already loaded benchmark database, once per configuration, each in a fresh process with some
proposed changes patched in at run time. Nothing in the application is changed. Example::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/unionaid_bench \\
        python benchmarks/whatif_approvals.py --approvals 500 --rounds 2

Configurations (see docs/benchmarks.md, "Final approvals per second"):

* ``baseline`` — the code as it is;
* ``prepared`` — psycopg server-side binding with prepared statements
  (``OPTIONS={"server_side_binding": True, "prepare_threshold": 2}``): a statement run twice on
  a connection is prepared, so PostgreSQL stops re-planning the same joins;
* ``audit_once`` — ``audit_record`` takes the chain's advisory lock and reads the chain's tail
  once per transaction instead of once per event (the tail is kept until the transaction ends
  or a savepoint rolls back);
* ``lean`` — ``funds.services.reserve`` without its own savepoint (its only caller lets errors
  propagate), and the steps of a flow version (immutable) cached per process;
* ``late_audit`` — the audit events of one approval are collected and written together at the
  end of ``task_decide``'s transaction, so the chain's lock is held for the last milliseconds
  only (what lets two processes work in parallel);
* ``all`` — prepared + audit_once + lean; ``all_late`` — prepared + lean + late_audit.

``--processes 2`` runs each configuration with two processes deciding in parallel.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (str(ROOT), str(ROOT / "src"), str(ROOT / "benchmarks")):
    if extra not in sys.path:
        sys.path.insert(0, extra)

CONFIGS = {
    "baseline": (),
    "prepared": ("prepared",),
    "audit_once": ("audit_once",),
    "lean": ("lean",),
    "late_audit": ("late_audit",),
    "lean_audit": ("audit_once", "lean"),  # "all" without "prepared" (for SQLite)
    "all": ("prepared", "audit_once", "lean"),
    "all_late": ("prepared", "lean", "late_audit"),
}


def _patch_everywhere(original, replacement) -> None:
    for module in list(sys.modules.values()):
        for name, value in list(vars(module).items() if module else ()):
            if value is original:
                setattr(module, name, replacement)


def patch_audit_once() -> None:
    """One advisory lock and one tail read per transaction (see the module docstring)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from unionaid.audit import services as audit
    from unionaid.audit.models import AuditEvent

    original = audit.audit_record

    def audit_record(*, actor, action, target=None, target_type="", target_id="",
                     target_label="", changes=None, outcome="ok", org_unit_path="",
                     actor_label=""):
        actor_id, label, positions = audit._actor_fields(actor)
        if target is not None:
            target_type = target_type or target._meta.label_lower
            target_id = target_id or target.pk
            target_label = target_label or str(target)[:200]
        with transaction.atomic(savepoint=False):
            state = getattr(connection, "_audit_tail", None)
            # run_on_commit is replaced at commit, rollback and savepoint rollback: a new list
            # means a new transaction (or undone events), so lock and read the tail again.
            if state is None or state[0] is not connection.run_on_commit:
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [audit._PG_LOCK_KEY])
                last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
                state = (connection.run_on_commit, *(last or (0, audit.GENESIS)))
            _token, prev_id, prev_hash = state
            event = AuditEvent(
                id=prev_id + 1, occurred_at=timezone.now(), actor_id=actor_id,
                actor_label=(actor_label or label)[:150], actor_positions=positions,
                ip=audit.context.current().ip, action=action, outcome=outcome,
                target_type=target_type, target_id=str(target_id),
                target_label=target_label[:200], org_unit_path=org_unit_path,
                changes=changes or {}, prev_hash=prev_hash,
            )
            event.hash = audit.compute_hash(event)
            event.save(force_insert=True)
            connection._audit_tail = (connection.run_on_commit, event.id, event.hash)
        return event

    _patch_everywhere(original, audit_record)


def patch_late_audit() -> None:
    """Buffer audit_record's events during task_decide; write them at its end in one INSERT."""
    from django.db import connection, transaction
    from django.utils import timezone

    from unionaid.approvals import services as approval_services
    from unionaid.audit import services as audit
    from unionaid.audit.models import AuditEvent

    original_record, original_decide = audit.audit_record, approval_services.task_decide

    def audit_record(**kwargs):
        buffer = getattr(connection, "_audit_buffer", None)
        if buffer is None:
            return original_record(**kwargs)
        actor = kwargs.pop("actor")
        actor_id, label, positions = audit._actor_fields(actor)
        target = kwargs.pop("target", None)
        if target is not None:
            kwargs["target_type"] = kwargs.get("target_type") or target._meta.label_lower
            kwargs["target_id"] = kwargs.get("target_id") or target.pk
            kwargs["target_label"] = kwargs.get("target_label") or str(target)[:200]
        buffer.append(AuditEvent(
            occurred_at=timezone.now(), actor_id=actor_id,
            actor_label=(kwargs.get("actor_label") or label)[:150], actor_positions=positions,
            ip=audit.context.current().ip, action=kwargs["action"],
            outcome=kwargs.get("outcome", "ok"), target_type=kwargs.get("target_type", ""),
            target_id=str(kwargs.get("target_id", "")),
            target_label=kwargs.get("target_label", "")[:200],
            org_unit_path=kwargs.get("org_unit_path", ""), changes=kwargs.get("changes") or {},
        ))
        return buffer[-1]

    @transaction.atomic
    def task_decide(**kwargs):
        connection._audit_buffer = []
        try:
            result = original_decide(**kwargs)
        finally:
            events, connection._audit_buffer = connection._audit_buffer, None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [audit._PG_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
        prev_id, prev_hash = last or (0, audit.GENESIS)
        for event in events:
            prev_id += 1
            event.id, event.prev_hash = prev_id, prev_hash
            event.hash = prev_hash = audit.compute_hash(event)
        AuditEvent.objects.bulk_create(events)
        return result

    _patch_everywhere(original_record, audit_record)
    _patch_everywhere(original_decide, task_decide)


def patch_lean() -> None:
    from django.db import transaction

    from unionaid.approvals.services import flows
    from unionaid.funds import services as fund_services

    reserve = fund_services.reserve
    _patch_everywhere(reserve, transaction.atomic(savepoint=False)(reserve.__wrapped__))
    steps_of = flows.steps_of

    @functools.lru_cache(maxsize=256)
    def cached(version_id: int, after: int):
        return tuple(steps_of(version_id, after=after))

    def steps(version, *, after=0):
        return list(cached(getattr(version, "pk", version), after))

    _patch_everywhere(steps_of, steps)


def child(config: str, approvals: int, seed: int, processes: int) -> dict:
    import django
    from django.conf import settings

    patches = CONFIGS[config]
    if "prepared" in patches:
        settings.DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=2)
    django.setup()
    from helpers import assistance

    if "audit_once" in patches:
        patch_audit_once()
    if "lean" in patches:
        patch_lean()
    if "late_audit" in patches:
        patch_late_audit()
    return assistance.throughput(approvals, seed, processes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approvals", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--child", default="")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # the keys the benchmark database was encrypted with (helpers/keys.py)
    from helpers.keys import use_bench_keys

    use_bench_keys()
    if args.child:
        result = child(args.child, args.approvals, args.seed, args.processes)
        print("RESULT " + json.dumps({k: v for k, v in result.items() if k != "queries"}))
        return 0
    rows = []
    for n in range(args.rounds):
        for config in args.configs.split(","):
            done = subprocess.run(
                [sys.executable, __file__, "--child", config, "--approvals",
                 str(args.approvals), "--seed", str(args.seed + n), "--processes",
                 str(args.processes)],
                capture_output=True, text=True, check=True, cwd=ROOT)
            line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
            result = json.loads(line[7:])
            rows.append({"config": config, "round": n + 1, **result})
            print(f"round {n + 1} {config:10s} x{args.processes} {result['per_s']:7.1f}/s  "
                  f"p50 {result.get('p50_ms', '-')} ms  p95 {result.get('p95_ms', '-')} ms  "
                  f"{result['queries_per_approval']} queries  load {result['load_avg']}  "
                  f"check {result['check']}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
