"""The match suite: ``unionaid match`` on synthetic messy lists, against a bare DuckDB anchor.

No database: everything runs on files. Each measurement is a fresh process under
``/usr/bin/time -v`` (wall time and peak resident memory of the whole process):

- ``anchor``: DuckDB loads the same two CSVs (all text) and joins them exactly on the ID number
  column — the floor any matching of these files stands on;
- ``match``: ``python -m unionaid.cli match MEMBERS EXTERNAL --out … --review …`` with
  ``DATABASE_URL`` pointing at nothing (it must not need one); precision, recall and F1 of its
  MATCHES.csv against the generator's truth, and which traps (household members, namesakes)
  it matched;
- ``probabilistic``: on the smaller lists, load + normalise + ``linkage.link`` in one process,
  timing each stage from the progress callback; the probabilistic stage (Splink training and
  prediction on what the exact stages left) is reported alone.

Also runnable by hand: ``python benchmarks/helpers/matching.py anchor|stages MEMBERS EXTERNAL``
prints the child's JSON.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = ("match", "anchor", "probabilistic")
TARGET_S = 15.0
AIM_S = 5.0
TARGET_GB = 3.0
PROB_TARGET_S = 30.0
F1_TARGET = 0.995
PRECISION_TARGET = 0.998
NOWHERE_DB = "postgres://nobody@127.0.0.1:9/nowhere"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
            "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": NOWHERE_DB,
            "DEBUG": "0", "LOG_LEVEL": "WARNING"}


def timed(cmd: list[str]) -> dict:
    """Run ``cmd`` under /usr/bin/time -v: wall seconds, peak RSS (MB), exit status, output."""
    load_before = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], env=_env(), cwd=ROOT,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return {"seconds": round(wall, 2), "peak_mb": round(int(rss.group(1)) / 1024) if rss else None,
            "status": done.returncode, "stdout": done.stdout[-4000:],
            "stderr": "" if done.returncode == 0 else done.stderr[-4000:],
            "load_avg": [load_before, round(os.getloadavg()[0], 2)]}


def accuracy(matches: Path, truth: Path) -> dict:
    """Precision, recall and F1 of MATCHES.csv against truth.csv, and the traps matched."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS FROM read_csv('{truth}', all_varchar=true)")
    con.execute(f"CREATE TABLE m AS FROM read_csv('{matches}', all_varchar=true)")
    tp, fp, fn, traps_h, traps_n = con.execute("""
        SELECT count(*) FILTER (WHERE m.member_key = t.member_key),
               count(*) FILTER (WHERE m.member_key IS NOT NULL
                                AND m.member_key IS DISTINCT FROM t.member_key),
               count(*) FILTER (WHERE t.member_key IS NOT NULL
                                AND m.member_key IS DISTINCT FROM t.member_key),
               count(*) FILTER (WHERE t.kind = 'household' AND m.member_key IS NOT NULL),
               count(*) FILTER (WHERE t.kind = 'namesake' AND m.member_key IS NOT NULL)
        FROM t LEFT JOIN m USING (external_row)""").fetchone()
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"true_pairs": tp + fn, "tp": tp, "fp": fp, "fn": fn,
            "precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5),
            "households_matched": traps_h, "namesakes_matched": traps_n}


def run(*, data_dir: Path, size: int, prob_size: int, seed: int, only=()) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from unionaid.matching import synthetic

    cases = [c for c in CASES if not only or c in only]
    result: dict = {"suite": "match", "size": size, "prob_size": prob_size, "seed": seed,
                    "cases": {}}
    started = time.perf_counter()
    big = synthetic.cached(data_dir, size, size, seed=seed)
    result["generate_s"] = round(time.perf_counter() - started, 1)  # 0 when cached
    manifest = json.loads((big["members"].parent / "manifest.json").read_text())
    result["mix"] = manifest["counts"]
    here = str(Path(__file__).resolve())
    if "anchor" in cases:
        t = timed([sys.executable, here, "anchor", str(big["members"]), str(big["external"])])
        result["cases"]["anchor"] = {**t, **_json_tail(t.pop("stdout"))}
    if "match" in cases:
        out, review = data_dir / "var" / "matches.csv", data_dir / "var" / "review.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        t = timed([sys.executable, "-m", "unionaid.cli", "match", str(big["members"]),
                   str(big["external"]), "--out", str(out), "--review", str(review)])
        if t["status"] == 0:
            t["accuracy"] = accuracy(out, big["truth"])
            t["review_rows"] = sum(1 for _ in review.open(encoding="utf-8")) - 1
        stdout = t.pop("stdout").strip()
        t["summary"] = stdout.splitlines()[0] if stdout else ""
        result["cases"]["match"] = t
    if "probabilistic" in cases:
        small = synthetic.cached(data_dir, prob_size, prob_size, seed=seed)
        t = timed([sys.executable, here, "stages", str(small["members"]),
                   str(small["external"])])
        result["cases"]["probabilistic"] = {**t, **_json_tail(t.pop("stdout"))}
    return result


def _json_tail(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


# -- children --------------------------------------------------------------------------------

def _anchor(members: str, external: str) -> dict:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE m AS FROM read_csv('{members}', all_varchar=true)")
    con.execute(f"CREATE TABLE x AS FROM read_csv('{external}', all_varchar=true)")
    loaded = time.perf_counter()
    con.execute('CREATE TABLE j AS SELECT x.rowid AS external_row, m."工号" AS member_key '
                'FROM x JOIN m ON x."身份证号码" = m."身份证号"')
    pairs = con.execute("SELECT count(*) FROM j").fetchone()[0]
    done = time.perf_counter()
    return {"load_s": round(loaded - started, 2), "join_s": round(done - loaded, 2),
            "inside_s": round(done - started, 2), "pairs": pairs}


def _stages(members: str, external: str) -> dict:
    import duckdb

    from unionaid.matching import files, normalise
    from unionaid.matching.linkage import link

    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    con = duckdb.connect()
    files.load_file(con, members, "members_raw")
    files.load_file(con, external, "external_raw")
    marks.append(("load", time.perf_counter()))
    normalise.install(con)
    normalise.normalise_table(con, "members_raw", "members_s", key=True)
    normalise.normalise_table(con, "external_raw", "external_s")
    marks.append(("normalise", time.perf_counter()))
    residue: dict = {}

    def progress(stage: str, done: int, total: int) -> None:
        marks.append((f"before_{stage}", time.perf_counter()))
        if stage == "finish" and not residue:
            for name in ("_lk_xr", "_lk_mr"):
                try:
                    residue[name] = con.cursor().execute(
                        f"SELECT count(*) FROM {name}").fetchone()[0]
                except duckdb.CatalogException:
                    residue[name] = 0

    result = link(con, "members_s", "external_s", progress=progress)
    end = time.perf_counter()
    at = {}
    for name, when in marks:
        at.setdefault(name, when)
    stage_s = {
        "load": at["load"] - started,  # the process's start (Python, Django) is not in it
        "normalise": at["normalise"] - at["load"],
        "prepare": at["before_exact"] - at["before_prepare"],
        "exact": at["before_deterministic"] - at["before_exact"],
        "deterministic": at["before_probabilistic"] - at["before_deterministic"],
        "probabilistic": at["before_finish"] - at["before_probabilistic"],
        "finish": end - at["before_finish"],
    }
    return {"stages_s": {k: round(v, 2) for k, v in stage_s.items()},
            "probabilistic_s": round(stage_s["probabilistic"], 2),
            "splink_external_rows": residue.get("_lk_xr"),
            "splink_member_rows": residue.get("_lk_mr"), "counts": result.counts}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    kind, members_path, external_path = sys.argv[1:4]
    if kind == "stages":
        import django

        django.setup()
    child = {"anchor": _anchor, "stages": _stages}[kind]
    print(json.dumps(child(members_path, external_path), ensure_ascii=False))
