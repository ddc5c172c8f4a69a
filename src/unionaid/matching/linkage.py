"""Linking an external list to the member roll (issue 12, 政策找职工), in DuckDB.

Both inputs are DuckDB tables of schema S (``normalise.normalise_table``; the members' side has
``member_key``), optionally with ``id_key`` (the exact stage's join key: in the Django path the
keyed hash of the ID number; else ``id18``). Three stages, each on what the earlier ones left:

1. **exact**: the same ID number (``id_key``). An ID that agrees while the names do not goes to
   the review band: lists sometimes carry the householder's number on every row.
2. **deterministic**: the same name and one more field — birth date, else phone, else address —
   when no other member holds that pair, and guarded: the ID numbers are the same, missing or
   one a typo of the other (two valid numbers that differ are two people); sexes do not
   differ; for name + birth date, not both phone and address differ; for name + phone, birth
   dates do not differ (a father and son of one name share a phone); for name + address,
   neither birth dates nor phones differ.
3. **probabilistic**: Splink 5 on DuckDB (Fellegi–Sunter) for the rows still unmatched that can
   match at all (a valid ID number the exact stage did not find matches no one when every
   member has a valid one), against the members sharing a blocking key with them (birth date +
   surname pinyin, phone, or name pinyin + address). u from random pairs of a random sample of
   the roll, m by EM on the candidates' phone-sharing pairs (at most ``max_em_pairs``; the
   starting m values stay when there are too few). Comparisons: name (same / same pinyin /
   close), birth date, sex, phone, address and an ID comparison that knows the GB 11643 check
   digit: two numbers one digit (or one swap) apart are a typo only when one of them fails its
   check digit; two valid numbers that differ are two people. Then the guards, whatever the
   score: the names agree (same or same pinyin; merely close only when the ID numbers vouch);
   the ID numbers do not contradict; birth dates and sexes do not differ unless the ID numbers
   vouch. A household member (same phone and address, another person) fails on the name or
   the birth date, a namesake (same name and birth year) on the birth date.

One member per external row (the best; the exact stage first). Scores are 0–1 (the exact ID 1.0,
name + birth 0.99, Splink's match probability for the rest); ``[review_threshold,
match_threshold)`` is the review band. Every pair carries a Chinese reason: what agreed, then
what did not (e.g. "姓名拼音一致（同音字）、出生日期一致、手机号一致；身份证号差一位（对方校验位不符，
判为录入错误）").
"""

# SQL is composed here from table names the calling code chose (checked by _table) and from
# fixed fragments; values from the lists never enter SQL text.
# ruff: noqa: S608

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
from splink import DuckDBAPI, Linker, SettingsCreator

__all__ = ["METHODS", "LinkResult", "LinkSettings", "link"]

METHODS = ("exact", "probabilistic")
Progress = Callable[[str, int, int], None]

# Stages reported to ``progress(stage, done, total)``; done/total count the stages.
STAGES = ("prepare", "exact", "deterministic", "probabilistic", "finish")

DETERMINISTIC_SCORE = 0.99
EXACT_NAME_DIFFERS_SCORE = 0.6
MIN_EM_PAIRS = 200


@dataclass(frozen=True)
class LinkSettings:
    match_threshold: float = 0.95      # >= : a confident match
    review_threshold: float = 0.5      # [review, match): the review band
    max_em_pairs: int = 250_000        # Splink's EM training works on at most this many pairs
    u_pairs: int = 500_000             # random pairs for Splink's u estimate
    u_sample_members: int = 100_000    # ... drawn from a sample of this many members
    seed: int = 20261207               # for Splink's sampling: same inputs, same result
    probabilistic: bool = True         # False: the exact and deterministic stages only


@dataclass
class LinkResult:
    matches: str            # DuckDB table: external_row, member_key, score, method, reason
    review: str             # same columns: the uncertain band
    counts: dict[str, int] = field(default_factory=dict)


# -- SQL pieces, over two aliases (l = member, r = external row) ---------------------------

def _id_relation(l: str = "{}_l", r: str = "{}_r") -> str:  # noqa: E741 - as Splink names them
    """'same' | 'typo' | 'swap' | 'valid_differ' | 'differ', or NULL when one side has none.

    ``l`` and ``r`` format a column name: "m.{}" in plain SQL, "{}_l" in a Splink comparison."""
    both_ok = f"coalesce({l.format('id_ok')}, false) AND coalesce({r.format('id_ok')}, false)"
    return f"""CASE
        WHEN {l.format('id18')} IS NULL OR {r.format('id18')} IS NULL THEN NULL
        WHEN {l.format('id18')} = {r.format('id18')} THEN 'same'
        WHEN {both_ok} THEN 'valid_differ'
        WHEN hamming({l.format('id18')}, {r.format('id18')}) = 1 THEN 'typo'
        WHEN hamming({l.format('id18')}, {r.format('id18')}) = 2
             AND damerau_levenshtein({l.format('id18')}, {r.format('id18')}) = 1 THEN 'swap'
        ELSE 'differ' END"""


def _name_relation(l: str = "{}_l", r: str = "{}_r") -> str:  # noqa: E741
    return f"""CASE
        WHEN {l.format('name')} IS NULL OR {r.format('name')} IS NULL THEN NULL
        WHEN {l.format('name')} = {r.format('name')} THEN 'same'
        WHEN {l.format('name_py')} = {r.format('name_py')} THEN 'pinyin'
        WHEN jaro_winkler_similarity({l.format('name_py')}, {r.format('name_py')}) >= 0.88 THEN 'close'
        ELSE 'differ' END"""


def _relations_sql(l: str = "m.{}", r: str = "x.{}") -> str:  # noqa: E741
    """Each field's relation in a pair, as columns, computed once for the reason."""
    return f"""{_id_relation(l, r)} AS id_rel, {_name_relation(l, r)} AS name_rel,
        {l.format('birth_any')} = {r.format('birth_any')} AS birth_eq,
        {l.format('sex')} = {r.format('sex')} AS sex_eq,
        {l.format('phone')} = {r.format('phone')} AS phone_eq,
        CASE WHEN {l.format('address')} = {r.format('address')} THEN 'same'
             WHEN jaro_winkler_similarity({l.format('address')}, {r.format('address')}) >= 0.9
             THEN 'close' END AS address_rel,
        {r.format('id18')} IS NULL AS r_no_id,
        coalesce({r.format('id_ok')}, false) AS r_id_ok"""


# The Chinese reason of a pair, from the columns of _relations_sql: what agreed, then '；' and
# what did not agree or is missing.
_AGREED_SQL = """concat_ws('、',
    CASE id_rel WHEN 'same' THEN '身份证号一致' END,
    CASE name_rel WHEN 'same' THEN '姓名一致' WHEN 'pinyin' THEN '姓名拼音一致（同音字）'
                  WHEN 'close' THEN '姓名相近' END,
    CASE WHEN birth_eq THEN '出生日期一致' END,
    CASE WHEN sex_eq THEN '性别一致' END,
    CASE WHEN phone_eq THEN '手机号一致' END,
    CASE address_rel WHEN 'same' THEN '住址一致' WHEN 'close' THEN '住址相近' END)"""
_OTHER_SQL = """concat_ws('、',
    CASE id_rel
        WHEN 'typo' THEN '身份证号差一位（' || CASE WHEN r_id_ok THEN '会员名册' ELSE '对方' END
                         || '校验位不符，判为录入错误）'
        WHEN 'swap' THEN '身份证号两位颠倒（' || CASE WHEN r_id_ok THEN '会员名册' ELSE '对方' END
                         || '校验位不符，判为录入错误）'
        WHEN 'valid_differ' THEN '身份证号不同'
        WHEN 'differ' THEN '身份证号不一致'
        ELSE CASE WHEN r_no_id THEN '对方无身份证号' END END,
    CASE name_rel WHEN 'differ' THEN '姓名不同' END,
    CASE WHEN NOT birth_eq THEN '出生日期不同' END,
    CASE WHEN NOT sex_eq THEN '性别不同' END,
    CASE WHEN NOT phone_eq THEN '手机号不同' END)"""


_TABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


def _table(name: str) -> str:
    if not _TABLE_RE.fullmatch(name):
        raise ValueError(f"not a table name: {name!r}")
    return name


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {row[0] for row in con.cursor().execute(f"DESCRIBE {table}").fetchall()}


def _prepare(con, source: str, target: str, *, key: bool) -> None:
    """The columns the stages use. ``row_no`` here is an internal id (the source's row_no when
    it is unique, else a numbering: a file of several sheets may repeat row numbers); the
    source's is kept as ``source_row`` and reported."""
    cols = _columns(con, source)
    id_key = "id_key" if "id_key" in cols else "id18"
    member_key = "member_key" if key else "NULL::VARCHAR"
    unique = _count(con, f"SELECT count(DISTINCT row_no) = count(*) FROM {source}")
    internal = "row_no" if unique else "row_number() OVER (ORDER BY row_no)"
    # a view over the source when its row numbers serve as ids (no copy of a million rows);
    # else a table, so that the numbering is made once
    kind = "VIEW" if unique else "TABLE"
    _drop(con, target)
    con.cursor().execute(f"""
        CREATE {kind} {target} AS
        SELECT {internal} AS unique_id, {internal} AS row_no, row_no AS source_row,
               {member_key} AS member_key, name, name_py,
               id18, coalesce(id_ok, false) AS id_ok, {id_key} AS id_key, birth, sex, phone,
               address,
               CASE WHEN birth IS NULL AND id18 IS NOT NULL
                    THEN try_strptime(substr(id18, 7, 8), '%Y%m%d')::DATE
                    ELSE birth END AS birth_any,
               split_part(name_py, ' ', 1) AS surname_py
        FROM {source}""")


def _drop(con, name: str) -> None:
    """Drop the table or view ``name`` if there is one (DuckDB wants the right kind named)."""
    found = con.cursor().execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? "
        "AND table_schema = current_schema()", [name]).fetchone()
    if found:
        con.cursor().execute(f"DROP {'VIEW' if found[0] == 'VIEW' else 'TABLE'} {name}")


def _count(con, sql: str) -> int:
    return con.cursor().execute(sql).fetchone()[0]


def _exact(con, settings: LinkSettings) -> None:
    """The same ID number; when the roll has it twice (it should not), the member whose name
    agrees, then the lowest key."""
    name_ok = f"({_name_relation('m.{}', 'x.{}')}) IS DISTINCT FROM 'differ'"
    score = (f"CAST(CASE WHEN {name_ok} THEN 1.0 ELSE {EXACT_NAME_DIFFERS_SCORE} END AS DOUBLE)"
             " AS score")
    con.cursor().execute("""
        CREATE OR REPLACE TABLE _lk_dup_keys AS
        SELECT id_key FROM _lk_m WHERE id_key IS NOT NULL GROUP BY id_key HAVING count(*) > 1""")
    con.cursor().execute(f"""
        CREATE OR REPLACE TABLE _lk_pairs AS
        SELECT x.row_no AS external_row, m.row_no AS member_row, {score}, 'exact' AS method
        FROM _lk_x x JOIN _lk_m m ON x.id_key = m.id_key
        WHERE m.id_key NOT IN (SELECT id_key FROM _lk_dup_keys)""")
    con.cursor().execute(f"""
        INSERT INTO _lk_pairs
        SELECT x.row_no, m.row_no, {score}, 'exact'
        FROM _lk_x x JOIN _lk_m m ON x.id_key = m.id_key
        WHERE m.id_key IN (SELECT id_key FROM _lk_dup_keys)
        QUALIFY row_number() OVER (PARTITION BY x.row_no
                                   ORDER BY ({name_ok}) DESC, m.member_key, m.row_no) = 1""")


# The deterministic keys, each with what must not contradict it (besides the ID number and sex):
# name + birth date (not both phone and address different: phones change, so one differing
# is not enough to refuse; measured on 1M × 1M, refusing it lost 170 true pairs to save 8),
# name + phone (birth dates do not differ: a father and
# son of one name share a phone), name + address (birth dates and phones do not differ). A pair
# with a contradiction is left to the probabilistic stage, which weighs it.
_DETERMINISTIC_KEYS = (
    (("name", "birth"),
     "NOT (coalesce(m.phone <> x.phone, false) AND coalesce(m.address <> x.address, false))"),
    (("name", "phone"), "NOT coalesce(m.birth <> x.birth, false)"),
    (("name", "address"),
     "NOT coalesce(m.birth <> x.birth, false) AND NOT coalesce(m.phone <> x.phone, false)"),
)


def _rest(con) -> None:
    """The external rows the later stages may still match: not matched, with a name, and —
    when every member has a valid ID number — without a valid one (two valid numbers that
    differ are two people, so a valid number the exact stage did not find matches no one)."""
    any_member_without_id = _count(con, "SELECT count(*) FROM _lk_m WHERE NOT id_ok") > 0
    con.cursor().execute(f"""
        CREATE OR REPLACE TABLE _lk_rest AS
        SELECT x.* FROM _lk_x x ANTI JOIN _lk_pairs p ON p.external_row = x.row_no
        WHERE x.name IS NOT NULL AND (NOT x.id_ok OR {any_member_without_id})""")


def _deterministic(con) -> None:
    """Exact name and one more field, when that pair is unique in the roll, guarded; the first
    key that holds wins."""
    idr = _id_relation("m.{}", "x.{}")
    candidates = []
    for priority, ((a, b), guard) in enumerate(_DETERMINISTIC_KEYS):
        # the key must be unique in the roll: counted over every member holding it, before
        # the guards look at the pair
        candidates.append(f"""
            SELECT external_row, member_row, {priority} AS priority FROM (
                SELECT x.row_no AS external_row, m.row_no AS member_row,
                       count(*) OVER (PARTITION BY x.row_no) AS holders,
                       coalesce(({idr}) IN ('same', 'typo', 'swap'), true)
                       AND NOT coalesce(m.sex <> x.sex, false) AND {guard} AS ok
                FROM _lk_rest x JOIN _lk_m m ON m.{a} = x.{a} AND m.{b} = x.{b})
            WHERE holders = 1 AND ok""")
    con.cursor().execute(f"""
        INSERT INTO _lk_pairs
        SELECT external_row, member_row, CAST({DETERMINISTIC_SCORE} AS DOUBLE), 'exact'
        FROM ({" UNION ALL ".join(candidates)})
        QUALIFY row_number() OVER (PARTITION BY external_row ORDER BY priority) = 1""")


def _splink_settings(settings: LinkSettings, n_members: int) -> SettingsCreator:
    def level(sql, label, m, u, *, null=False):
        if null:
            return {"sql_condition": sql, "label_for_charts": label, "is_null_level": True}
        return {"sql_condition": sql, "label_for_charts": label, "m_probability": m,
                "u_probability": u}

    def else_level(m, u):
        return level("ELSE", "else", m, u)

    idr, namer = _id_relation(), _name_relation()
    comparisons = [
        {"output_column_name": "name", "comparison_levels": [
            level("name_l IS NULL OR name_r IS NULL", "null", 0, 0, null=True),
            level(f"{namer} = 'same'", "same", 0.85, 0.0002),
            level(f"{namer} = 'pinyin'", "pinyin", 0.08, 0.0003),
            level(f"{namer} = 'close'", "close", 0.04, 0.01),
            else_level(0.03, 0.99)]},
        {"output_column_name": "birth", "comparison_levels": [
            level("birth_any_l IS NULL OR birth_any_r IS NULL", "null", 0, 0, null=True),
            level("birth_any_l = birth_any_r", "same", 0.97, 0.0001),
            level("year(birth_any_l) = year(birth_any_r)", "year", 0.01, 0.03),
            else_level(0.02, 0.97)]},
        {"output_column_name": "sex", "comparison_levels": [
            level("sex_l IS NULL OR sex_r IS NULL", "null", 0, 0, null=True),
            level("sex_l = sex_r", "same", 0.99, 0.5),
            else_level(0.01, 0.5)]},
        {"output_column_name": "phone", "comparison_levels": [
            level("phone_l IS NULL OR phone_r IS NULL", "null", 0, 0, null=True),
            level("phone_l = phone_r", "same", 0.9, 0.0001),
            else_level(0.1, 0.9999)]},
        {"output_column_name": "address", "comparison_levels": [
            level("address_l IS NULL OR address_r IS NULL", "null", 0, 0, null=True),
            level("address_l = address_r", "same", 0.85, 0.0001),
            level("jaro_winkler_similarity(address_l, address_r) >= 0.9", "close", 0.1, 0.01),
            else_level(0.05, 0.99)]},
        {"output_column_name": "id", "comparison_levels": [
            level("id18_l IS NULL OR id18_r IS NULL", "null", 0, 0, null=True),
            level(f"{idr} = 'same'", "same", 0.5, 1e-7),
            level(f"{idr} IN ('typo', 'swap')", "typo", 0.45, 1e-6),
            level(f"{idr} = 'valid_differ'", "valid_differ", 1e-5, 0.95),
            else_level(0.05, 0.05)]},
    ]
    both_not_valid = "NOT (l.id_ok AND r.id_ok)"
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            f"l.birth_any = r.birth_any AND l.surname_py = r.surname_py AND {both_not_valid}",
            f"l.phone = r.phone AND {both_not_valid}",
            f"l.name_py = r.name_py AND l.address = r.address AND {both_not_valid}",
        ],
        probability_two_random_records_match=min(0.5, 0.5 / max(n_members, 1)),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def splink_predict(make_api, *, sample: str, members: str, external: str, model,
                   settings: LinkSettings, em_pairs: int):
    """Splink's part of the probabilistic stage, the same on every backend (``make_api()``
    gives a fresh DuckDBAPI or SparkAPI): u estimated on ``sample`` (a share of the roll)
    against ``external`` in one pass (the rare levels, an ID typo, never reach a per-level
    minimum, so chunking with early stopping would only repeat the query); then the trained
    model on ``members`` × ``external``, m by EM on their pairs that share a phone when there
    are ``MIN_EM_PAIRS`` of them (``em_pairs``: too few teach EM nothing, and none make Splink
    raise: the starting m values stay); the predictions down to the review threshold."""
    train_api = make_api()
    trainer = Linker([train_api.register(sample, table_name="__lk_members"),
                      train_api.register(external, table_name="__lk_external")],
                     model, log_level=None)
    trainer.training.estimate_u_using_random_sampling(max_pairs=settings.u_pairs,
                                                      seed=settings.seed, num_chunks=1,
                                                      min_count_per_level=None)
    predict_api = make_api()
    linker = Linker([predict_api.register(members, table_name="__lk_members"),
                     predict_api.register(external, table_name="__lk_external")],
                    trainer.misc.save_model_to_json(), log_level=None,
                    validate_settings=False)  # the trainer validated the same settings
    if em_pairs >= MIN_EM_PAIRS:
        linker.training.estimate_parameters_using_expectation_maximisation(
            "l.phone = r.phone", max_pairs=settings.max_em_pairs)
    return linker.inference.predict(threshold_match_probability=settings.review_threshold,
                                    warning_mode="never")


def _probabilistic(con, settings: LinkSettings) -> None:
    # Candidates: the rest no earlier stage took. A row whose valid ID number matched no member
    # can only be someone whose roll entry has no valid number: blocking says so too.
    con.cursor().execute("""
        CREATE OR REPLACE TABLE _lk_xr AS
        SELECT r.* FROM _lk_rest r ANTI JOIN _lk_pairs p ON p.external_row = r.row_no""")
    n_members = _count(con, "SELECT count(*) FROM _lk_m")
    if not _count(con, "SELECT count(*) FROM _lk_xr") or not n_members:
        return
    # Members who share a blocking key with a candidate row: the others cannot be compared.
    con.cursor().execute("""
        CREATE OR REPLACE TABLE _lk_mr AS
        SELECT * FROM _lk_m WHERE row_no IN (
            SELECT m.row_no FROM _lk_m m SEMI JOIN _lk_xr x
                ON m.birth_any = x.birth_any AND m.surname_py = x.surname_py
            UNION SELECT m.row_no FROM _lk_m m SEMI JOIN _lk_xr x ON m.phone = x.phone
            UNION SELECT m.row_no FROM _lk_m m SEMI JOIN _lk_xr x
                ON m.name_py = x.name_py AND m.address = x.address)""")
    # u is estimated on the whole roll (random pairs must see the roll as it is, not the
    # members picked for sharing a key with a candidate); m by EM on the candidates' pairs that
    # share a phone (mostly the same person, and the household members: the pairs that teach
    # the model what tells them apart); the model then scores the picked members.
    # (a random sample of the roll is the roll as far as u is concerned, and cheaper to pair;
    # drawn by hashing the row id, so the same on every run whatever the threads do)
    share = min(1.0, settings.u_sample_members / n_members)
    con.cursor().execute(f"""
        CREATE OR REPLACE TABLE _lk_ms AS
        SELECT * FROM _lk_m
        WHERE hash(row_no, {settings.seed}) % 1000000 < {round(share * 1_000_000)}""")
    em_pairs = _count(con, "SELECT count(*) FROM _lk_xr x JOIN _lk_mr m ON x.phone = m.phone")
    predictions = splink_predict(lambda: DuckDBAPI(con), sample="_lk_ms", members="_lk_mr",
                                 external="_lk_xr",
                                 model=_splink_settings(settings, n_members), settings=settings,
                                 em_pairs=em_pairs)
    # which side is the member: Splink orders the two inputs by its own names
    table = predictions.physical_name
    idr, namer = _id_relation("m.{}", "x.{}"), _name_relation("m.{}", "x.{}")
    con.cursor().execute(f"""
        INSERT INTO _lk_pairs
        WITH pairs AS (
            SELECT CASE WHEN p.source_dataset_l = '__lk_members' THEN p.unique_id_l
                        ELSE p.unique_id_r END AS member_row,
                   CASE WHEN p.source_dataset_l = '__lk_members' THEN p.unique_id_r
                        ELSE p.unique_id_l END AS external_row,
                   p.match_probability AS score
            FROM {table} p)
        SELECT x.row_no, m.row_no, CAST(least(greatest(p.score, 0.0), 1.0) AS DOUBLE), 'probabilistic'
        FROM pairs p JOIN _lk_m m ON m.row_no = p.member_row
                     JOIN _lk_xr x ON x.row_no = p.external_row
        WHERE (({namer}) IN ('same', 'pinyin')
               OR (({namer}) = 'close' AND ({idr}) IN ('same', 'typo', 'swap')))
          AND coalesce(({idr}) NOT IN ('valid_differ', 'differ'), true)
          AND (coalesce(m.birth_any = x.birth_any, true) OR ({idr}) IN ('same', 'typo', 'swap'))
          AND (NOT coalesce(m.sex <> x.sex, false) OR ({idr}) IN ('same', 'typo', 'swap'))
        QUALIFY row_number() OVER (PARTITION BY x.row_no ORDER BY p.score DESC, m.member_key,
                                   m.row_no) = 1""")
    predictions.drop_table_from_database_and_remove_from_cache()


def link(con: duckdb.DuckDBPyConnection, members: str, external: str, *,
         settings: LinkSettings | None = None, progress: Progress | None = None) -> LinkResult:
    """Link ``external`` to ``members`` (both schema S); see the module docstring."""
    settings = settings or LinkSettings()

    def step(stage: str) -> None:
        if progress is not None:
            progress(stage, STAGES.index(stage), len(STAGES))

    step("prepare")
    _prepare(con, _table(members), "_lk_m", key=True)
    _prepare(con, _table(external), "_lk_x", key=False)
    step("exact")
    _exact(con, settings)
    step("deterministic")
    _rest(con)
    _deterministic(con)
    if settings.probabilistic:
        step("probabilistic")
        _probabilistic(con, settings)
    step("finish")
    con.cursor().execute(f"""
        CREATE OR REPLACE TABLE _lk_scored AS
        SELECT external_row, member_key, score, method,
               CASE WHEN other = '' THEN agreed WHEN agreed = '' THEN other
                    ELSE agreed || '；' || other END AS reason
        FROM (SELECT *, {_AGREED_SQL} AS agreed, {_OTHER_SQL} AS other
              FROM (SELECT x.source_row AS external_row, m.member_key, p.score, p.method,
                           {_relations_sql()}
                    FROM _lk_pairs p JOIN _lk_m m ON m.row_no = p.member_row
                                     JOIN _lk_x x ON x.row_no = p.external_row))""")
    con.cursor().execute(f"""
        CREATE OR REPLACE TABLE link_matches AS
        SELECT * FROM _lk_scored WHERE score >= {settings.match_threshold:.17g}
        ORDER BY external_row""")
    con.cursor().execute(f"""
        CREATE OR REPLACE TABLE link_review AS
        SELECT * FROM _lk_scored WHERE score < {settings.match_threshold:.17g}
          AND score >= {settings.review_threshold:.17g}
        ORDER BY external_row""")
    by_method = dict(con.cursor().execute(
        "SELECT method, count(*) FROM link_matches GROUP BY method").fetchall())
    external_rows = _count(con, "SELECT count(*) FROM _lk_x")
    matched = sum(by_method.values())
    review = _count(con, "SELECT count(*) FROM link_review")
    counts = {"external": external_rows, "exact": by_method.get("exact", 0),
              "probabilistic": by_method.get("probabilistic", 0), "review": review,
              "unmatched": external_rows - matched - review}
    for table in ("_lk_pairs", "_lk_scored", "_lk_xr", "_lk_mr", "_lk_rest", "_lk_dup_keys",
                  "_lk_ms"):
        con.cursor().execute(f"DROP TABLE IF EXISTS {table}")
    for relation in ("_lk_m", "_lk_x"):
        _drop(con, relation)
    if progress is not None:
        progress("finish", len(STAGES), len(STAGES))
    return LinkResult(matches="link_matches", review="link_review", counts=counts)
