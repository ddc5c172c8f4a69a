"""Results as JSON and a markdown table under benchmarks/results/ (commit-friendly)."""

from __future__ import annotations

import json
from pathlib import Path

P95_TARGET_MS = 100
IMPORT_TARGET_S = 600


def merge(results_dir: Path, machine: dict, runs: list[dict], when: str) -> dict:
    """Keep earlier results of databases not run this time; replace the others.

    A run that skipped the import (``--reuse``) keeps the import timing of the earlier run of
    the same size; a run limited to some measurements (``--cases``) replaces only those.
    """
    path = results_dir / "results.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    by_db = {r["db"]: r for r in previous.get("runs", [])}
    for run in runs:
        run["machine"] = machine
        run["ran_at"] = when
        for case in run["cases"].values():
            case["ran_at"] = when
        old = by_db.get(run["db"])
        if old and old.get("members") == run["members"]:
            if run.get("import") is None and old.get("import"):
                run["import"] = {**old["import"],
                                 "ran_at": old["import"].get("ran_at", old["ran_at"])}
            if run.get("partial"):
                run["cases"] = {**old.get("cases", {}), **run["cases"]}
        by_db[run["db"]] = run
    merged = {"targets": {"import_s": IMPORT_TARGET_S, "p95_ms": P95_TARGET_MS},
              "runs": [by_db[k] for k in sorted(by_db)]}
    path.write_text(json.dumps(merged, ensure_ascii=False, indent=2) + "\n")
    return merged


def _ok(flag: bool) -> str:
    return "✅" if flag else "❌"


def markdown(merged: dict) -> str:
    lines = ["# unionaid benchmark results", ""]
    for run in merged["runs"]:
        m = run["machine"]
        lines += [
            f"## {run['database']} — {run['members']:,} members",
            "",
            f"Last run {run['ran_at']} (earlier parts kept, see results.json) on {m['cpu_model']}, {m['nproc']} CPUs, "
            f"{m['memory_gib']} GiB RAM, {m['os']}, Python {m['python']}, "
            f"Django {m['django']}.",
            "",
        ]
        imp = run.get("import")
        if imp:
            lines += [
                "| import | rows | total | check pass | write pass | rows/s | target ≤ 600 s |",
                "|---|---:|---:|---:|---:|---:|:-:|",
                f"| import_roster (CSV) | {imp['rows']:,} | {imp['total_s']} s | "
                f"{imp['check_pass_s']} s | {imp['write_pass_s']} s | {imp['rows_per_s']:,} | "
                f"{_ok(imp['total_s'] <= IMPORT_TARGET_S)} |",
                "",
            ]
        lines += [
            f"Latency as the 站段 cadre of {run['station']} "
            f"({run['station_members']:,} members in the subtree):",
            "",
            "| measurement | p50 ms | p95 ms | p99 ms | samples | queries | load avg | p95 ≤ 100 ms |",
            "|---|---:|---:|---:|---:|---:|---:|:-:|",
        ]
        for case in run["cases"].values():
            lines.append(
                f"| {case['label']} | {case['p50_ms']} | {case['p95_ms']} | {case['p99_ms']} | "
                f"{case['samples']} | {case['queries']} | "
                f"{'–'.join(str(x) for x in case.get('load_avg', [])) or '?'} | "
                f"{_ok(case['p95_ms'] <= P95_TARGET_MS)} |"
            )
        lines += ["", "load avg: the machine's 1-minute load average before–after the measurement "
                  f"({m['nproc']} CPUs; '?' = not recorded). Above the CPU count, other work "
                  "competed for the CPUs and the times are pessimistic.", ""]
    return "\n".join(lines)


def write_markdown(results_dir: Path, merged: dict) -> str:
    text = markdown(merged)
    (results_dir / "results.md").write_text(text)
    return text
