"""Results as JSON and a markdown table under benchmarks/results/ (commit-friendly)."""

from __future__ import annotations

import json
from pathlib import Path

P95_TARGET_MS = 100
IMPORT_TARGET_S = 600
APPROVALS_TARGET_PER_S = 100
SERVE_MEMBER_RATIO = 0.5  # member reads under load, against the bare view in the same run
SERVE_TODO_PAGE_PER_S = 100


def _stamp(row: dict, machine: dict, when: str) -> None:
    """What every result row records: when, on which commit, on what machine."""
    row["ran_at"] = when
    row["commit"] = machine.get("commit", "?")
    row["machine"] = f"{machine.get('nproc', '?')} CPU, {machine.get('memory_gib', '?')} GiB"


def _run_cell(row: dict) -> str:
    return " · ".join(str(row.get(k) or "?") for k in ("ran_at", "commit", "machine"))


def _invariants_line(inv: dict | None) -> list[str]:
    if not inv:
        return []
    if inv.get("ok"):
        return [f"Invariants after the run ✅: {inv.get('members', '?'):,} members, ledger "
                f"matches ({inv.get('ledger_mismatches')} mismatches), audit chain intact "
                f"({inv.get('audit_events', '?'):,} events).", ""]
    return ["Invariants after the run ❌ BROKEN: " + "; ".join(inv.get("problems", [])), ""]


def _merge_assistance(by_db: dict, run: dict, machine: dict, when: str) -> None:
    """Put an assistance-suite run under ``assistance`` of its database's entry; a ``--reuse``
    run keeps the earlier history-load timing, a ``--cases`` run the other measurements."""
    base = by_db.get(run["db"]) or {"db": run["db"], "database": run["database"],
                                    "members": run["members"], "machine": machine,
                                    "ran_at": when, "cases": {}}
    run["machine"], run["ran_at"] = machine, when
    for case in [*run["cases"].values(), *run["throughput"].values(),
                 *run.get("http", {}).values()]:
        _stamp(case, machine, when)
    old = base.get("assistance")
    if old and (old.get("members"), old.get("history_target")) == (
            run["members"], run["history_target"]):
        if run.get("history") is None and old.get("history"):
            run["history"] = {**old["history"],
                              "ran_at": old["history"].get("ran_at", old["ran_at"])}
        if run.get("partial"):
            run["cases"] = {**old.get("cases", {}), **run["cases"]}
            run["throughput"] = {**old.get("throughput", {}), **run["throughput"]}
            run["http"] = {**old.get("http", {}), **run.get("http", {})}
    if run.get("history") and "ran_at" not in run["history"]:
        _stamp(run["history"], machine, when)
    base["assistance"] = run
    by_db[run["db"]] = base


def _merge_serve(by_db: dict, run: dict, machine: dict, when: str) -> None:
    """Put a serve-suite run under ``serve`` of its database's entry (replacing the last)."""
    base = by_db.get(run["db"]) or {"db": run["db"], "database": run["database"],
                                    "members": run["members"], "machine": machine,
                                    "ran_at": when, "cases": {}}
    run["machine"], run["ran_at"] = machine, when
    for case in run["cases"].values():
        _stamp(case, machine, when)
    base["serve"] = run
    by_db[run["db"]] = base


def merge(results_dir: Path, machine: dict, runs: list[dict], when: str) -> dict:
    """Keep earlier results of databases not run this time; replace the others.

    A run that skipped the import (``--reuse``) keeps the import timing of the earlier run of
    the same size; a run limited to some measurements (``--cases``) replaces only those.
    """
    path = results_dir / "results.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    by_db = {r["db"]: r for r in previous.get("runs", [])}
    for run in runs:
        if run.get("suite") == "assistance":
            _merge_assistance(by_db, run, machine, when)
            continue
        if run.get("suite") == "serve":
            _merge_serve(by_db, run, machine, when)
            continue
        run["machine"] = machine
        run["ran_at"] = when
        for case in run["cases"].values():
            _stamp(case, machine, when)
        if run.get("import"):
            _stamp(run["import"], machine, when)
        old = by_db.get(run["db"])
        if old and old.get("members") == run["members"]:
            if run.get("import") is None and old.get("import"):
                run["import"] = {**old["import"],
                                 "ran_at": old["import"].get("ran_at", old["ran_at"])}
            if run.get("partial"):
                run["cases"] = {**old.get("cases", {}), **run["cases"]}
        for kept in ("assistance", "serve"):
            if old and kept in old:
                run[kept] = old[kept]
        by_db[run["db"]] = run
    merged = {"targets": {"import_s": IMPORT_TARGET_S, "p95_ms": P95_TARGET_MS,
                          "approvals_per_s": APPROVALS_TARGET_PER_S,
                          "serve_member_ratio": SERVE_MEMBER_RATIO,
                          "serve_todo_page_per_s": SERVE_TODO_PAGE_PER_S},
              "runs": [by_db[k] for k in sorted(by_db)]}
    if previous.get("match"):
        merged["match"] = previous["match"]  # the match suite has its own entry (no database)
    path.write_text(json.dumps(merged, ensure_ascii=False, indent=2) + "\n")
    return merged


def _ok(flag: bool) -> str:
    return "✅" if flag else "❌"


def _latency_rows(cases: dict) -> list[str]:
    rows = ["| measurement | p50 ms | p95 ms | p99 ms | samples | queries | load avg | "
            "p95 ≤ 100 ms | run (date · commit · machine) |",
            "|---|---:|---:|---:|---:|---:|---:|:-:|---|"]
    for case in cases.values():
        rows.append(
            f"| {case['label']} | {case['p50_ms']} | {case['p95_ms']} | {case['p99_ms']} | "
            f"{case['samples']} | {case['queries']} | "
            f"{'–'.join(str(x) for x in case.get('load_avg', [])) or '?'} | "
            f"{_ok(case['p95_ms'] <= P95_TARGET_MS)} | {_run_cell(case)} |"
        )
    return rows


def _http_rows(http: dict) -> list[str]:
    rows = ["| final approvals through HTTP (POST /api/v1/approvals/tasks/<id>/decide) | "
            "gunicorn sync workers | clients | approvals | seconds | per second | p50 / p95 ms | "
            "errors | anchor GET /healthz /s (p50 ms) | anchor GET /api/v1/auth/me /s (p50 ms) | "
            f"load avg | ≥ {APPROVALS_TARGET_PER_S}/s | run (date · commit · machine) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|---|"]

    def anchor(t: dict, name: str) -> str:
        parts = [t.get(f"anchor_{when}", {}).get(name) for when in ("before", "after")]
        return " → ".join(f"{a['per_s']} ({a['p50_ms']})" for a in parts if a) or "?"

    for key, t in http.items():
        rows.append(
            f"| {key} | {t['workers']} | {t['clients']} | {t['approvals']:,} | {t['seconds']} | "
            f"{t['per_s']} | {t['p50_ms']} / {t['p95_ms']} | {t['errors']} | "
            f"{anchor(t, 'healthz')} | {anchor(t, 'api_me')} | "
            f"{'–'.join(str(x) for x in t.get('load_avg', []))} | "
            f"{_ok(t['per_s'] >= APPROVALS_TARGET_PER_S and not t['errors'])} | "
            f"{_run_cell(t)} |")
    return rows


def assistance_markdown(run: dict) -> list[str]:
    a = run["assistance"]
    m = a["machine"]
    lines = [f"## {a['database']} — assistance: {a['members']:,} members, "
             f"{a['history_target']:,} historical applications", "",
             f"Last run {a['ran_at']} on {m['cpu_model']}, {m['nproc']} CPUs, "
             f"{m['memory_gib']} GiB RAM.", ""]
    h = a.get("history")
    if h:
        lines += ["| history load (bulk) | applications | cases | tasks | pending tasks | time | "
                  "rows/s | run (date · commit · machine) |",
                  "|---|---:|---:|---:|---:|---:|---:|---|",
                  f"| COPY / executemany | {h['applications']:,} | {h['cases']:,} | "
                  f"{h['tasks']:,} | {h['pending_tasks']:,} | {h['load_s']} s | "
                  f"{h['rows_per_s']:,} | {_run_cell(h)} |", ""]
    counts = a.get("todo_counts", {})
    lines += [f"Pending tasks in the to-do lists: 站段 cadre {counts.get('station_cadre', '?'):,}, "
              f"路局 cadre {counts.get('bureau_cadre', '?'):,}; the worker has "
              f"{a.get('worker_applications', '?')} applications.", ""]
    lines += _latency_rows(a["cases"])
    if a.get("throughput"):
        lines += ["", "| final approvals, service layer (task_decide → reserve) | processes | "
                  "approvals | seconds | per second | p50 / p95 ms | queries each | load avg | "
                  f"≥ {APPROVALS_TARGET_PER_S}/s | run (date · commit · machine) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|:-:|---|"]
        for key, t in a["throughput"].items():
            lat = f"{t['p50_ms']} / {t['p95_ms']}" if "p50_ms" in t else "–"
            lines.append(
                f"| {key} | {t['processes']} | {t['approvals']:,} | {t['seconds']} | "
                f"{t['per_s']} | {lat} | {t['queries_per_approval']} | "
                f"{'–'.join(str(x) for x in t.get('load_avg', []))} | "
                f"{_ok(t['per_s'] >= APPROVALS_TARGET_PER_S)} | {_run_cell(t)} |")
    if a.get("http"):
        lines += ["", *_http_rows(a["http"]), "",
                  "HTTP: gunicorn (sync workers, DEBUG=0) on 127.0.0.1, the clients are threads "
                  "of the benchmark process on the same machine; each approval authenticates "
                  "the 路局 cadre's API token and computes their rights afresh. Anchors: "
                  "before → after the approvals, same server and clients. Load avg: before "
                  "the server, before and after the approvals, at the end."]
    failed = [f"{k}: {'; '.join(t['invariants']['problems'])}"
              for k, t in [*a.get("throughput", {}).items(), *a.get("http", {}).items()]
              if t.get("invariants") and not t["invariants"].get("ok")]
    if failed:
        lines += ["", "❌ INVARIANTS BROKEN after " + " | ".join(failed)]
    lines += ["", *_invariants_line(a.get("invariants"))]
    return [*lines, ""]


SERVE_LABELS = {
    "member_read": "GET /api/v1/members/<id> (token of the 站段 cadre)",
    "name_search": "GET /api/v1/members?q=<2 characters> (first page of 50)",
    "todo_api": "GET /api/v1/approvals/todo (first page of 50)",
    "todo_page": "页面 GET /approvals/todo/ (站段干事, session)",
    "bare_member_read_before": "bare view: member by id (.values().get), before",
    "bare_name_search_before": "bare view: name prefix, 50 rows, before",
    "bare_member_read_after": "bare view: member by id, after",
    "bare_name_search_after": "bare view: name prefix, after",
}


def serve_markdown(run: dict) -> list[str]:
    s = run["serve"]
    m = s["machine"]
    lines = [f"## {s['database']} — under load: `unionaid serve` ({s['members']:,} members, "
             f"{s['history_target']:,} historical applications)", "",
             f"Last run {s['ran_at']} on {m['cpu_model']}, {m['nproc']} CPUs, "
             f"{m['memory_gib']} GiB RAM. `unionaid serve --role web --workers "
             f"{s['workers']}` (gunicorn sync workers, DEBUG=0, real keys) on 127.0.0.1; wrk "
             f"with {s['connections']} connections and {s['threads']} threads on the same "
             f"machine, {s['seconds']} s per measurement after an untimed warm-up; the bare "
             "site (`benchmarks/bare`, same settings and gunicorn config) before and after "
             "unionaid, in the same run.", "",
             "| measurement | req/s | p50 ms | p99 ms | requests | non-200 | socket errors | "
             "load avg | run (date · commit · machine) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for key, c in s["cases"].items():
        errors = sum(c.get("socket_errors", {}).values())
        lines.append(f"| {SERVE_LABELS.get(key, key)} | {c['per_s']} | {c.get('p50_ms')} | "
                     f"{c.get('p99_ms')} | {c.get('requests', '?'):,} | {c['non_200']} | "
                     f"{errors} | {'–'.join(str(x) for x in c.get('load_avg', []))} | "
                     f"{_run_cell(c)} |")
    lines += ["", "| target | figure | met |", "|---|---|:-:|"]
    for key, r in s["ratios"].items():
        ratio = " / ".join(f"{x}×" for x in r["ratio"])
        lines.append(f"| {key} ≥ {SERVE_MEMBER_RATIO}× the bare view (before / after) | "
                     f"{ratio} | {_ok(min(r['ratio']) >= SERVE_MEMBER_RATIO)} |")
    page = s["cases"]["todo_page"]["per_s"]
    lines.append(f"| to-do page ≥ {SERVE_TODO_PAGE_PER_S} req/s | {page} | "
                 f"{_ok(page >= SERVE_TODO_PAGE_PER_S)} |")
    load = s.get("load", {})
    lines += ["", "Load average (1 min): " + ", ".join(f"{k} {v}" for k, v in load.items())
              + ".", ""]
    inv = s.get("invariants", {})
    lines.append("Answers checked after the run (right rows for the cadre, every wrk answer a "
                 "200): " + ("✅" if inv.get("ok") else "❌ " + "; ".join(inv.get("problems", []))))
    return [*lines, ""]


def markdown(merged: dict) -> str:
    lines = ["# unionaid benchmark results", ""]
    for run in merged["runs"]:
        if not run.get("station"):  # only the assistance/serve suites ran on this database
            if run.get("assistance"):
                lines += assistance_markdown(run)
            if run.get("serve"):
                lines += serve_markdown(run)
            continue
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
                "| import | rows | total | check pass | write pass | rows/s | target ≤ 600 s | "
                "run (date · commit · machine) |",
                "|---|---:|---:|---:|---:|---:|:-:|---|",
                f"| import_roster (CSV) | {imp['rows']:,} | {imp['total_s']} s | "
                f"{imp['check_pass_s']} s | {imp['write_pass_s']} s | {imp['rows_per_s']:,} | "
                f"{_ok(imp['total_s'] <= IMPORT_TARGET_S)} | {_run_cell(imp)} |",
                "",
            ]
        lines += [
            f"Latency as the 站段 cadre of {run['station']} "
            f"({run['station_members']:,} members in the subtree):",
            "",
            *_latency_rows(run["cases"]),
        ]
        lines += ["", *_invariants_line(run.get("invariants")),
                  "load avg: the machine's 1-minute load average before–after the measurement "
                  f"({m['nproc']} CPUs; '?' = not recorded). Above the CPU count, other work "
                  "competed for the CPUs and the times are pessimistic.", ""]
        if run.get("assistance"):
            lines += assistance_markdown(run)
        if run.get("serve"):
            lines += serve_markdown(run)
    return "\n".join(lines)


def merge_match(results_dir: Path, machine: dict, run: dict, when: str) -> dict:
    """Put a match-suite run under ``match`` (it uses no database); a ``--cases`` run keeps the
    other cases of the last run of the same size."""
    path = results_dir / "results.json"
    merged = json.loads(path.read_text()) if path.exists() else {"targets": {}, "runs": []}
    run["machine"], run["ran_at"] = machine, when
    for case in run["cases"].values():
        _stamp(case, machine, when)
    old = merged.get("match")
    if old and (old.get("size"), old.get("prob_size")) == (run["size"], run["prob_size"]):
        run["cases"] = {**old.get("cases", {}), **run["cases"]}
    merged["match"] = run
    path.write_text(json.dumps(merged, ensure_ascii=False, indent=2) + "\n")
    return merged


def match_markdown(run: dict) -> list[str]:
    from helpers.matching import (
        AIM_S,
        F1_TARGET,
        PRECISION_TARGET,
        PROB_TARGET_S,
        TARGET_GB,
        TARGET_S,
    )

    m = run["machine"]
    mix = run.get("mix", {})
    lines = [f"## unionaid match — {run['size']:,} members × {run['size']:,} external rows "
             "(no database)", "",
             f"Last run {run['ran_at']} on {m['cpu_model']}, {m['nproc']} CPUs, "
             f"{m['memory_gib']} GiB RAM. Synthetic lists (`unionaid.matching.synthetic`, seed "
             f"{run['seed']}): external rows {mix.get('member', '?'):,} members written messily, "
             f"{mix.get('household', '?'):,} household members and {mix.get('namesake', '?'):,} "
             f"namesakes of members (traps), {mix.get('other', '?'):,} other people. Each "
             "measurement is one fresh process under /usr/bin/time -v.", "",
             "| measurement | wall s | peak MB | load avg before–after | target | met | "
             "run (date · commit · machine) |",
             "|---|---:|---:|---:|---|:-:|---|"]
    cases = run["cases"]

    def load(c):
        return "–".join(str(x) for x in c.get("load_avg", []))

    a = cases.get("anchor")
    if a:
        inside = (f" (inside: load {a.get('load_s')} s, join {a.get('join_s')} s, "
                  f"{a.get('pairs', 0):,} pairs)") if a.get("load_s") is not None else ""
        lines.append(f"| anchor: DuckDB loads both CSVs and joins on the ID column{inside} | "
                     f"{a['seconds']} | {a['peak_mb']} | {load(a)} | – | – | {_run_cell(a)} |")
    c = cases.get("match")
    if c:
        gb = (c.get("peak_mb") or 0) / 1024
        lines.append(f"| `unionaid match` MEMBERS EXTERNAL --out --review | {c['seconds']} | "
                     f"{c['peak_mb']} | {load(c)} | ≤ {TARGET_S:g} s (aim {AIM_S:g} s), "
                     f"≤ {TARGET_GB:g} GB | "
                     f"{_ok(c['status'] == 0 and c['seconds'] <= TARGET_S and gb <= TARGET_GB)} | "
                     f"{_run_cell(c)} |")
    p = cases.get("probabilistic")
    if p:
        stages = ", ".join(f"{k} {v} s" for k, v in p.get("stages_s", {}).items())
        lines.append(
            f"| probabilistic stage alone, {run['prob_size']:,} × {run['prob_size']:,} "
            f"(Splink on {p.get('splink_external_rows', '?'):,} external × "
            f"{p.get('splink_member_rows', '?'):,} member rows; whole process: {stages}) | "
            f"{p.get('probabilistic_s')} | {p['peak_mb']} | {load(p)} | ≤ {PROB_TARGET_S:g} s | "
            f"{_ok(p['status'] == 0 and (p.get('probabilistic_s') or 1e9) <= PROB_TARGET_S)} | "
            f"{_run_cell(p)} |")
    acc = (c or {}).get("accuracy")
    if acc:
        lines += ["", "| accuracy of MATCHES.csv against the truth | precision | recall | F1 | "
                  "true pairs | false matches | missed | households matched | namesakes "
                  "matched | met |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|",
                  f"| default settings | {acc['precision']} | {acc['recall']} | {acc['f1']} | "
                  f"{acc['true_pairs']:,} | {acc['fp']:,} | {acc['fn']:,} | "
                  f"{acc['households_matched']} | {acc['namesakes_matched']} | "
                  f"{_ok(acc['f1'] >= F1_TARGET and acc['precision'] >= PRECISION_TARGET)} |",
                  "", f"Targets: F1 ≥ {F1_TARGET}, precision ≥ {PRECISION_TARGET}. "
                  f"The command said: {c.get('summary', '')}"]
    failed = [f"{k} (exit {v['status']}): {v.get('stderr', '')[-300:]}" for k, v in cases.items()
              if v.get("status")]
    if failed:
        lines += ["", "❌ FAILED: " + " | ".join(failed)]
    return [*lines, ""]


def write_markdown(results_dir: Path, merged: dict) -> str:
    text = markdown(merged)
    if merged.get("match"):
        text = "\n".join([text.rstrip("\n"), "", *match_markdown(merged["match"])])
    (results_dir / "results.md").write_text(text)
    return text
