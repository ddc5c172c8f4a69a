"""The linkage of :mod:`unionaid.matching.linkage` run on Spark (``unionaid match --engine spark``).

Same contract as :func:`linkage.link`: two DuckDB tables of schema S in, the DuckDB tables
``link_matches`` and ``link_review`` (external_row, member_key, score, method, reason) and the
counts out. In between, the rows go to Spark as Arrow and every stage runs there: the exact ID,
the guarded deterministic keys, Splink 5 through its Spark backend (``SparkAPI``) and the
reasons. Only the results (one row per matched or uncertain external row) come back.

One definition of the linkage: the comparisons, blocking rules, guards, scores and Chinese
reasons are linkage's own SQL (imported, not copied), written for DuckDB and translated to Spark
SQL with sqlglot, which Splink itself uses for the same job. Three functions have no Spark
built-in of the same name: ``jaro_winkler_similarity`` becomes Splink's jar function
``jaro_winkler``, ``damerau_levenshtein`` is the jar's, and ``hamming`` becomes a Spark
expression over the characters. The jar (``splink.backends.spark.similarity_jar_location()``)
must be on the session's classpath: :func:`spark_session` puts it there; a cluster gets it with
``spark-submit --jars`` (docs/matching-spark.md).

A local session (``local[2]``, few shuffle partitions, no UI, quiet logs) is made when none is
given; ``master`` or ``SPARK_MASTER`` names a cluster's. The temporary views are named
``_sk_*``: one linkage at a time per session.
"""

# SQL is composed from fixed fragments (linkage's, translated) and views named here; values
# from the lists never enter SQL text.
# ruff: noqa: S608

from __future__ import annotations

import atexit
import copy
import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from unionaid.core.errors import ServiceError
from unionaid.matching import linkage
from unionaid.matching.linkage import (
    DETERMINISTIC_SCORE,
    EXACT_NAME_DIFFERS_SCORE,
    STAGES,
    LinkResult,
    LinkSettings,
)

try:  # the spark extra is optional: production's offline kit carries the core dependencies
    from pyspark.sql import DataFrame, SparkSession
    from splink.backends.spark import SparkAPI, similarity_jar_location
except ImportError:  # pragma: no cover - exercised where pyspark is absent
    SparkSession = None

__all__ = ["LOCAL_MASTER", "link_spark", "spark_session", "spark_sql"]

LOCAL_MASTER = "local[2]"
# the roll's sample for Splink's u estimate, when LinkSettings does not say (linkage on wt-link
# moved it from a module constant into LinkSettings.u_sample_members)
U_SAMPLE_MEMBERS = 100_000
LOCAL_SHUFFLE_PARTITIONS = 4
# On one machine: a handful of shuffle partitions (the default 200 costs seconds of scheduling
# per query), and no adaptive execution — it re-plans every stage at run time, which on one
# machine's data costs more than it saves (10,000 x 10,000: 83 s with it, 47 s without, load 4)
_LOCAL_SQL_CONF = {"spark.sql.shuffle.partitions": str(LOCAL_SHUFFLE_PARTITIONS),
                   "spark.sql.adaptive.enabled": "false"}
Progress = Callable[[str, int, int], None]

# Columns sent to Spark (schema S after linkage's preparation; `unit` and `problems` are not
# used by any stage)
_COLUMNS = ("unique_id", "row_no", "source_row", "member_key", "name", "name_py", "id18",
            "id_ok", "id_key", "birth", "sex", "phone", "address", "birth_any", "surname_py")
_LOG4J2 = """rootLogger.level = %s
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %%d{HH:mm:ss} %%p %%c{1}: %%m%%n%%ex
"""
_VIEWS = ("_sk_m", "_sk_x", "_sk_pairs", "_sk_rest", "_sk_xr", "_sk_mr", "_sk_ms",
          "_sk_scored", "_sk_dup_keys")


# -- DuckDB SQL -> Spark SQL --------------------------------------------------------------

def _hamming(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """DuckDB's hamming(a, b) as a Spark expression (NULL when the lengths differ)."""
    a_sql, b_sql = a.sql(dialect="spark"), b.sql(dialect="spark")
    return sqlglot.parse_one(
        f"CASE WHEN length({a_sql}) = length({b_sql}) THEN aggregate(sequence(1, length({a_sql})), "
        f"0, (acc, i) -> acc + IF(substring({a_sql}, i, 1) = substring({b_sql}, i, 1), 0, 1)) END",
        read="spark")


def _to_spark(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hamming":
        return _hamming(*node.expressions)
    return node


@cache
def spark_sql(duckdb_sql: str) -> str:
    """A fragment of linkage's DuckDB SQL (an expression or a select list) in Spark SQL."""
    select = sqlglot.parse_one(f"SELECT {duckdb_sql}", read="duckdb").transform(_to_spark)
    return ", ".join(e.sql(dialect="spark") for e in select.expressions)


def _spark_settings(settings: LinkSettings, n_members: int):
    """linkage's Splink settings with every SQL condition and blocking rule in Spark SQL."""
    creator = linkage._splink_settings(settings, n_members)
    comparisons = copy.deepcopy(creator.comparisons)
    for comparison in comparisons:
        for level in comparison["comparison_levels"]:
            if level["sql_condition"] != "ELSE":
                level["sql_condition"] = spark_sql(level["sql_condition"])
    rules = [spark_sql(rule) for rule in creator.blocking_rules_to_generate_predictions]
    return dataclasses.replace(creator, comparisons=comparisons,
                               blocking_rules_to_generate_predictions=rules)


# -- the session --------------------------------------------------------------------------

def _require_pyspark() -> None:
    if SparkSession is None:
        raise ServiceError("未安装 pyspark，无法使用 --engine spark："
                           "请安装 unionaid[spark]，或使用默认的 duckdb 引擎。")


def spark_session(master: str | None = None) -> SparkSession:
    """The active session, else a new one with Splink's jar: on ``master``, else
    ``SPARK_MASTER``, else the master spark-submit was given, else ``local[2]``."""
    _require_pyspark()
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    master = master or os.environ.get("SPARK_MASTER")
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit
        master = LOCAL_MASTER
    builder = (SparkSession.builder.appName("unionaid-match")
               .config("spark.jars", similarity_jar_location())
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    if master is not None:
        builder = builder.master(master)
    if master is not None and master.startswith("local"):
        # the JVM's own start-up chatter off the terminal; no spark-warehouse/ in the cwd
        scratch = Path(tempfile.mkdtemp(prefix="unionaid-spark-"))  # this process's own
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        log_config = scratch / "log4j2.properties"
        log_config.write_text(_LOG4J2 % os.environ.get("SPARK_LOG_LEVEL", "error"),
                              encoding="utf-8")
        builder = (builder.config("spark.default.parallelism", LOCAL_SHUFFLE_PARTITIONS)
                   .config("spark.driver.memory",
                           os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
                   .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
                   .config("spark.driver.extraJavaOptions",
                           f"-Dlog4j2.configurationFile=file:{log_config}"))
    session = builder.getOrCreate()
    if session.sparkContext.master.startswith("local"):  # also a local master from spark-submit
        given = session.sparkContext.getConf()
        for key, value in _LOCAL_SQL_CONF.items():
            if not given.contains(key):
                session.conf.set(key, value)
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO: every connection it closes
    session.sparkContext.setLogLevel(os.environ.get("SPARK_LOG_LEVEL", "error").upper())
    return session


# -- the stages, in Spark SQL -------------------------------------------------------------

def _view(spark, name: str, sql: str) -> DataFrame:
    """Run ``sql`` into a cached temporary view ``name``."""
    df = spark.sql(sql).persist()
    df.createOrReplaceTempView(name)
    return df


def _drop(con, name: str) -> None:
    """Drop the DuckDB table or view ``name`` (linkage's preparation makes either)."""
    found = con.cursor().execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? "
        "AND table_schema = current_schema()", [name]).fetchone()
    if found:
        con.cursor().execute(f"DROP {'VIEW' if found[0] == 'VIEW' else 'TABLE'} {name}")


def _to_spark_df(spark, con, table: str) -> DataFrame:
    arrow = con.cursor().sql(f"SELECT {', '.join(_COLUMNS)} FROM {table}").to_arrow_table()
    if spark.version.startswith("3."):
        return spark.createDataFrame(arrow.to_pandas())  # Spark 3 takes no Arrow table
    return spark.createDataFrame(arrow)


def _exact(spark) -> None:
    name_ok = (f"({spark_sql(linkage._name_relation('m.{}', 'x.{}'))}) "
               "IS DISTINCT FROM 'differ'")
    score = (f"CAST(CASE WHEN {name_ok} THEN 1.0 ELSE {EXACT_NAME_DIFFERS_SCORE} END AS DOUBLE)")
    _view(spark, "_sk_dup_keys", """
        SELECT id_key FROM _sk_m WHERE id_key IS NOT NULL GROUP BY id_key HAVING count(*) > 1""")
    _view(spark, "_sk_pairs", f"""
        SELECT x.row_no AS external_row, m.row_no AS member_row, {score} AS score,
               'exact' AS method
        FROM _sk_x x JOIN _sk_m m ON x.id_key = m.id_key
        LEFT ANTI JOIN _sk_dup_keys d ON d.id_key = m.id_key
        UNION ALL
        SELECT external_row, member_row, score, method FROM (
            SELECT x.row_no AS external_row, m.row_no AS member_row, {score} AS score,
                   'exact' AS method,
                   row_number() OVER (PARTITION BY x.row_no ORDER BY ({name_ok}) DESC,
                                      m.member_key ASC NULLS LAST, m.row_no) AS rank
            FROM _sk_x x JOIN _sk_m m ON x.id_key = m.id_key
            LEFT SEMI JOIN _sk_dup_keys d ON d.id_key = m.id_key)
        WHERE rank = 1""")


def _rest(spark, any_member_without_id: bool) -> None:
    _view(spark, "_sk_rest", f"""
        SELECT x.* FROM _sk_x x LEFT ANTI JOIN _sk_pairs p ON p.external_row = x.row_no
        WHERE x.name IS NOT NULL AND (NOT x.id_ok OR {any_member_without_id})""")


def _deterministic(spark) -> DataFrame:
    idr = spark_sql(linkage._id_relation("m.{}", "x.{}"))
    candidates = []
    for priority, ((a, b), guard) in enumerate(linkage._DETERMINISTIC_KEYS):
        candidates.append(f"""
            SELECT external_row, member_row, {priority} AS priority FROM (
                SELECT x.row_no AS external_row, m.row_no AS member_row,
                       count(*) OVER (PARTITION BY x.row_no) AS holders,
                       coalesce(({idr}) IN ('same', 'typo', 'swap'), true)
                       AND NOT coalesce(m.sex <> x.sex, false) AND {spark_sql(guard)} AS ok
                FROM _sk_rest x JOIN _sk_m m ON m.{a} = x.{a} AND m.{b} = x.{b})
            WHERE holders = 1 AND ok""")
    return spark.sql(f"""
        SELECT external_row, member_row, CAST({DETERMINISTIC_SCORE} AS DOUBLE) AS score,
               'exact' AS method FROM (
            SELECT *, row_number() OVER (PARTITION BY external_row ORDER BY priority) AS rank
            FROM ({" UNION ALL ".join(candidates)}))
        WHERE rank = 1""")


def _add_pairs(spark, pairs: DataFrame) -> None:
    """Add a stage's pairs to ``_sk_pairs``, cut from their lineage: Splink drops (and
    uncaches) its tables afterwards, and a cached plan built on them would be recomputed."""
    (spark.table("_sk_pairs").unionByName(pairs).localCheckpoint()
     .createOrReplaceTempView("_sk_pairs"))


def _count(spark, sql: str) -> int:
    return spark.sql(sql).collect()[0][0]


def _probabilistic(spark, settings: LinkSettings, n_members: int) -> None:
    _view(spark, "_sk_xr", """
        SELECT r.* FROM _sk_rest r LEFT ANTI JOIN _sk_pairs p ON p.external_row = r.row_no""")
    if not n_members or not _count(spark, "SELECT count(*) FROM _sk_xr"):
        return
    _view(spark, "_sk_mr", """
        SELECT m.* FROM _sk_m m LEFT SEMI JOIN (
            SELECT m.row_no FROM _sk_m m LEFT SEMI JOIN _sk_xr x
                ON m.birth_any = x.birth_any AND m.surname_py = x.surname_py
            UNION SELECT m.row_no FROM _sk_m m LEFT SEMI JOIN _sk_xr x ON m.phone = x.phone
            UNION SELECT m.row_no FROM _sk_m m LEFT SEMI JOIN _sk_xr x
                ON m.name_py = x.name_py AND m.address = x.address) k
        ON k.row_no = m.row_no""")
    # u on a random sample of the roll (the whole roll when it is small), as linkage does: by
    # hashing the row id, so the same on every run whatever the partitioning (Spark's hash is
    # not DuckDB's: above the sample size the two engines sample different members)
    share = min(1.0, getattr(settings, "u_sample_members", U_SAMPLE_MEMBERS) / n_members)
    if share < 1.0:
        _view(spark, "_sk_ms", f"""
            SELECT * FROM _sk_m
            WHERE pmod(xxhash64(row_no, {settings.seed}), 1000000) < {round(share * 1_000_000)}""")
    else:
        spark.table("_sk_m").createOrReplaceTempView("_sk_ms")
    em_pairs = _count(spark, "SELECT count(*) FROM _sk_xr x JOIN _sk_mr m ON x.phone = m.phone")
    predictions = linkage.splink_predict(
        lambda: SparkAPI(spark_session=spark, break_lineage_method="persist"),
        sample="_sk_ms", members="_sk_mr", external="_sk_xr",
        model=_spark_settings(settings, n_members), settings=settings, em_pairs=em_pairs)
    idr = spark_sql(linkage._id_relation("m.{}", "x.{}"))
    namer = spark_sql(linkage._name_relation("m.{}", "x.{}"))
    pairs = spark.sql(f"""
        WITH pairs AS (
            SELECT CASE WHEN p.source_dataset_l = '__lk_members' THEN p.unique_id_l
                        ELSE p.unique_id_r END AS member_row,
                   CASE WHEN p.source_dataset_l = '__lk_members' THEN p.unique_id_r
                        ELSE p.unique_id_l END AS external_row,
                   p.match_probability AS score
            FROM {predictions.physical_name} p)
        SELECT external_row, member_row, score, method FROM (
            SELECT x.row_no AS external_row, m.row_no AS member_row,
                   CAST(least(greatest(p.score, 0.0D), 1.0D) AS DOUBLE) AS score,
                   'probabilistic' AS method,
                   row_number() OVER (PARTITION BY x.row_no ORDER BY p.score DESC,
                                      m.member_key ASC NULLS LAST, m.row_no) AS rank
            FROM pairs p JOIN _sk_m m ON m.row_no = p.member_row
                         JOIN _sk_xr x ON x.row_no = p.external_row
            WHERE (({namer}) IN ('same', 'pinyin')
                   OR (({namer}) = 'close' AND ({idr}) IN ('same', 'typo', 'swap')))
              AND coalesce(({idr}) NOT IN ('valid_differ', 'differ'), true)
              AND (coalesce(m.birth_any = x.birth_any, true)
                   OR ({idr}) IN ('same', 'typo', 'swap'))
              AND (NOT coalesce(m.sex <> x.sex, false) OR ({idr}) IN ('same', 'typo', 'swap')))
        WHERE rank = 1""")
    _add_pairs(spark, pairs)
    predictions.drop_table_from_database_and_remove_from_cache()


def _scored(spark) -> pa.Table:
    """Every pair with its source row, member key and Chinese reason, as Arrow."""
    df = spark.sql(f"""
        SELECT external_row, member_key, score, method,
               CASE WHEN other = '' THEN agreed WHEN agreed = '' THEN other
                    ELSE agreed || '；' || other END AS reason
        FROM (SELECT *, {spark_sql(linkage._AGREED_SQL)} AS agreed,
                        {spark_sql(linkage._OTHER_SQL)} AS other
              FROM (SELECT x.source_row AS external_row, m.member_key, p.score, p.method,
                           {spark_sql(linkage._relations_sql())}
                    FROM _sk_pairs p JOIN _sk_m m ON m.row_no = p.member_row
                                     JOIN _sk_x x ON x.row_no = p.external_row))""")
    if hasattr(df, "toArrow"):
        return df.toArrow()
    return pa.Table.from_pandas(df.toPandas(), preserve_index=False)  # Spark 3


def link_spark(con: duckdb.DuckDBPyConnection, members: str, external: str, *,
               settings: LinkSettings | None = None, progress: Progress | None = None,
               spark: SparkSession | None = None, master: str | None = None) -> LinkResult:
    """:func:`linkage.link` on Spark: same inputs, same result tables in ``con``."""
    _require_pyspark()
    settings = settings or LinkSettings()

    def step(stage: str) -> None:
        if progress is not None:
            progress(stage, STAGES.index(stage), len(STAGES))

    step("prepare")
    spark = spark or spark_session(master)
    SparkAPI(spark_session=spark)  # registers the jar's functions (jaro_winkler, …) in the session
    linkage._prepare(con, linkage._table(members), "_sk_m", key=True)
    linkage._prepare(con, linkage._table(external), "_sk_x", key=False)
    n_members = con.cursor().execute("SELECT count(*) FROM _sk_m").fetchone()[0]
    any_member_without_id = con.cursor().execute(
        "SELECT count(*) > 0 FROM _sk_m WHERE NOT id_ok").fetchone()[0]
    external_rows = con.cursor().execute("SELECT count(*) FROM _sk_x").fetchone()[0]
    for table in ("_sk_m", "_sk_x"):
        _to_spark_df(spark, con, table).persist().createOrReplaceTempView(table)
        _drop(con, table)
    try:
        step("exact")
        _exact(spark)
        step("deterministic")
        _rest(spark, any_member_without_id)
        _add_pairs(spark, _deterministic(spark))
        if settings.probabilistic:
            step("probabilistic")
            _probabilistic(spark, settings, n_members)
        step("finish")
        scored = _scored(spark)
    finally:
        for view in _VIEWS:
            if spark.catalog.tableExists(view):
                spark.table(view).unpersist()
            spark.catalog.dropTempView(view)
    cursor = con.cursor()  # a registered Arrow table is seen by the cursor that registered it
    cursor.register("_sk_scored_arrow", scored)
    try:
        for table, where in (
                ("link_matches", f"score >= {settings.match_threshold:.17g}"),
                ("link_review", f"score < {settings.match_threshold:.17g} "
                                f"AND score >= {settings.review_threshold:.17g}")):
            cursor.execute(f"""
                CREATE OR REPLACE TABLE {table} AS
                SELECT CAST(external_row AS BIGINT) AS external_row,
                       CAST(member_key AS VARCHAR) AS member_key, CAST(score AS DOUBLE) AS score,
                       CAST(method AS VARCHAR) AS method, CAST(reason AS VARCHAR) AS reason
                FROM _sk_scored_arrow WHERE {where} ORDER BY external_row""")
    finally:
        cursor.unregister("_sk_scored_arrow")
        cursor.close()
    by_method = dict(con.cursor().execute(
        "SELECT method, count(*) FROM link_matches GROUP BY method").fetchall())
    review = con.cursor().execute("SELECT count(*) FROM link_review").fetchone()[0]
    matched = sum(by_method.values())
    counts = {"external": external_rows, "exact": by_method.get("exact", 0),
              "probabilistic": by_method.get("probabilistic", 0), "review": review,
              "unmatched": external_rows - matched - review}
    if progress is not None:
        progress("finish", len(STAGES), len(STAGES))
    return LinkResult(matches="link_matches", review="link_review", counts=counts)
