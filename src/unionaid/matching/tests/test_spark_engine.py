"""unionaid match --engine spark: the linkage on a local Spark gives what the DuckDB engine gives.

One Spark run (module fixture, one local session) on a synthetic messy list of a few hundred
rows with households and namesakes, through the command, against the DuckDB engine's run on the
same files. Needs Java (17 on these machines and in CI); skipped, saying so, where it is absent.
"""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from unionaid.matching import spark_engine, synthetic
from unionaid.matching.linkage import STAGES

pytestmark = pytest.mark.skipif(shutil.which("java") is None,
                                reason="Spark needs Java (java is not on PATH)")


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig") as fh:  # with or without a BOM
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def spark():
    session = spark_engine.spark_session()
    yield session
    session.stop()


@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory):
    lists = synthetic.cached(tmp_path_factory.mktemp("lists"), 500, 400, seed=12)
    out = tmp_path_factory.mktemp("out")
    stages = []
    original = spark_engine.link_spark

    def recording(*args, progress=None, **kwargs):
        def record(stage, done, total):
            stages.append((stage, done, total))
            if progress is not None:
                progress(stage, done, total)
        return original(*args, progress=record, **kwargs)

    spark_engine.link_spark = recording
    try:
        for engine in ("duckdb", "spark"):
            call_command("match", str(lists["members"]), str(lists["external"]), engine=engine,
                         out=str(out / f"{engine}.csv"), review=str(out / f"{engine}-review.csv"))
    finally:
        spark_engine.link_spark = original
        logging.getLogger("splink").setLevel(logging.NOTSET)
    with lists["truth"].open(encoding="utf-8") as fh:
        truth = {int(r["external_row"]): r for r in csv.DictReader(fh)}
    return {"out": out, "truth": truth, "stages": stages,
            **{name: read(out / f"{name}.csv") for name in
               ("duckdb", "spark", "duckdb-review", "spark-review")}}


def pairs(rows) -> set[tuple[str, str]]:
    return {(r["external_row"], r["member_key"]) for r in rows}


def test_spark_finds_the_confident_matches_duckdb_finds(runs):
    duck, spark = pairs(runs["duckdb"]), pairs(runs["spark"])
    assert len(duck) > 100
    assert len(duck & spark) >= 0.99 * len(duck)
    assert len(spark - duck) <= 0.01 * len(duck)
    probabilistic = [r for r in runs["spark"] if r["method"] == "probabilistic"]
    assert probabilistic  # Splink's stage ran on Spark and matched someone


def test_the_files_are_the_same_format(runs):
    assert (runs["out"] / "spark.csv").read_bytes().splitlines()[0] == (
        (runs["out"] / "duckdb.csv").read_bytes().splitlines()[0])
    by_pair = {(r["external_row"], r["member_key"]): r for r in runs["duckdb"]}
    same = [(r, by_pair[(r["external_row"], r["member_key"])]) for r in runs["spark"]
            if (r["external_row"], r["member_key"]) in by_pair]
    # the same method and the same Chinese reason; the scores of the deterministic stages agree
    # exactly, Splink's within its sampling
    assert all(s["method"] == d["method"] and s["reason"] == d["reason"] for s, d in same)
    assert all(abs(float(s["score"]) - float(d["score"])) < 0.05 for s, d in same)
    assert all(s["score"] == d["score"] for s, d in same if s["method"] == "exact")


def test_households_and_namesakes_do_not_match_on_spark(runs):
    traps = {row for row, t in runs["truth"].items() if t["kind"] in ("household", "namesake")}
    assert traps
    assert [r for r in runs["spark"] if int(r["external_row"]) in traps] == []


def test_spark_matches_are_right_against_the_truth(runs):
    wrong = [r for r in runs["spark"]
             if runs["truth"][int(r["external_row"])]["member_key"] != r["member_key"]]
    assert wrong == []


def test_it_reports_the_linkage_stages(runs):
    assert [s for s, _, _ in runs["stages"]][:4] == ["prepare", "exact", "deterministic",
                                                     "probabilistic"]
    assert runs["stages"][-1] == ("finish", len(STAGES), len(STAGES))


def test_it_leaves_no_temporary_views_behind(runs, spark):
    assert [t.name for t in spark.catalog.listTables() if t.name.startswith("_sk_")] == []


def test_the_duckdb_fragments_become_spark_functions():
    sql = spark_engine.spark_sql("hamming(a, b) = 1 AND jaro_winkler_similarity(c, d) >= 0.9")
    assert "HAMMING" not in sql.upper()
    assert "JARO_WINKLER(" in sql.upper()
    assert "JAROWINKLER_SIMILARITY" not in sql.upper()


def test_the_hamming_translation_counts_differing_characters(spark):
    sql = spark_engine.spark_sql("hamming('140105197605160231', '140105197605160213')")
    assert spark.sql(f"SELECT {sql}").collect()[0][0] == 2
    sql = spark_engine.spark_sql("hamming('abc', 'abcd')")
    assert spark.sql(f"SELECT {sql}").collect()[0][0] is None


def test_the_local_session_is_small_quiet_and_has_splinks_jar(spark):
    assert spark.sparkContext.master == spark_engine.LOCAL_MASTER
    assert spark.conf.get("spark.sql.shuffle.partitions") == str(
        spark_engine.LOCAL_SHUFFLE_PARTITIONS)
    assert spark.conf.get("spark.sql.adaptive.enabled") == "false"
    assert spark.conf.get("spark.ui.enabled") == "false"
    assert "scala-udf-similarity" in spark.conf.get("spark.jars")
