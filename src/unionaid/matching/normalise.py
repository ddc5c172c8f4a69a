"""Normalising a loaded list into comparable values, in DuckDB SQL.

One implementation, used by the ``unionaid match`` command and by the Django import alike:
``install(con)`` creates the SQL macros and a character -> pinyin table in the connection's
database, ``normalise_table(con, source, target)`` turns a table made by ``files.load_file``
(raw text per canonical field) into schema S: one row per source row with ``name``,
``name_py``, ``id18``, ``id_ok``, ``birth``, ``sex``, ``phone``, ``address``, ``unit`` and the
``problems`` found. A million rows take 1.5 CPU-seconds when clean and 3.4 when one cell in
five needs mending (benchmarks/matching_normalise.py); Python per row would take a minute.

Pinyin: each character gets its toneless pinyin from pypinyin's dictionary, taking the first
(most common) reading, without regard to context, so a character always gives the same
syllable on both sides of a match (曾 -> "ceng", 单 -> "dan", 女 -> "nv"). Homophones then
agree (张伟 and 张玮 -> "zhang wei"); a surname read differently from the character's common
reading (曾 read zēng) still agrees with itself.

ID numbers follow GB 11643 and agree with ``unionaid.core.idcard`` (a test compares them).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from django.utils.translation import gettext_lazy
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict

from unionaid.core.idcard import CHECK_CHARS, WEIGHTS
from unionaid.core.spreadsheets import RowProblem

__all__ = [
    "PROBLEM_COLUMNS",
    "PROBLEM_MESSAGES",
    "SCHEMA",
    "install",
    "normalise_table",
    "pinyin_table",
    "row_problems",
]

#: schema S: column -> DuckDB type
SCHEMA: Final[dict[str, str]] = {
    "row_no": "BIGINT",
    "member_key": "VARCHAR",
    "name": "VARCHAR",
    "name_py": "VARCHAR",
    "id18": "VARCHAR",
    "id_ok": "BOOLEAN",
    "birth": "DATE",
    "sex": "VARCHAR",
    "phone": "VARCHAR",
    "address": "VARCHAR",
    "unit": "VARCHAR",
    "problems": "VARCHAR[]",
}

PROBLEM_MESSAGES: Final[dict[str, str]] = {
    "id_unreadable": gettext_lazy("身份证号无法识别：应为18位（或15位）数字，最后一位可以是X"),
    "id_check_digit": gettext_lazy("身份证号校验未通过（校验位或其中的出生日期有误），可能录入有误"),
    "birth_unreadable": gettext_lazy("出生日期无法识别，应为 1976-05-16 这样的日期"),
    "phone_unreadable": gettext_lazy("电话号码无法识别，应为11位手机号或带区号的固定电话"),
    "name_missing": gettext_lazy("缺少姓名"),
}
#: problem code -> the column it is about (header label, in Chinese)
PROBLEM_COLUMNS: Final[dict[str, str]] = {
    "id_unreadable": gettext_lazy("身份证号"),
    "id_check_digit": gettext_lazy("身份证号"),
    "birth_unreadable": gettext_lazy("出生日期"),
    "phone_unreadable": gettext_lazy("手机号"),
    "name_missing": gettext_lazy("姓名"),
}

# Full-width ASCII (U+FF01..U+FF5E) -> ASCII; ideographic and other odd spaces -> space.
_ODD_SPACES = "\u3000\u00a0\u2002\u2003\u2009\u202f"
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + _ODD_SPACES
_HALF = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " " * len(_ODD_SPACES)
_FULL_CLASS = r"[\x{FF01}-\x{FF5E}\x{3000}\x{00A0}\x{2002}\x{2003}\x{2009}\x{202F}]"
# (with the control characters: a NUL, seen in lists exported by old systems, is refused by
# PostgreSQL's text columns)
_CONTROL = r"[\x{00}-\x{1F}\x{7F}]"
_SPACES = r"[\s\x{00}-\x{1F}\x{7F}\x{200B}-\x{200D}\x{FEFF}]"
_MESSY = _SPACES[:-1] + _FULL_CLASS[1:-1] + "]"
_MESSY_NAME = _MESSY[:-1] + "•・‧∙⋅.]"
_FULL_NUM = "０１２３４５６７８９ＸｘＴ＋－．／：（）" + _ODD_SPACES
_HALF_NUM = "0123456789XxT+-./:()" + " " * len(_ODD_SPACES)
PINYIN_TABLE: Final = "ua_pinyin"


def _sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _check_char_sql(n: str) -> str:
    """The check character of the first 17 digits given as one BIGINT ``n``: integer
    arithmetic on a number read once is 2-3x faster than 17 substrings per row."""
    terms = " + ".join(f"({n} // {10 ** (16 - i)} % 10) * {w}" for i, w in enumerate(WEIGHTS))
    return f"substr({_sql(CHECK_CHARS)}, (({terms}) % 11)::INTEGER + 1, 1)"


# what follows the day: 日, a time (spaces were removed, so it follows directly), a zone
_DAY_END = r"(日|T)?[0-9]{1,2}:[0-9]{2}.*$|日$"

MACROS: Final[tuple[str, ...]] = (
    # half-width text
    # (translate() is slow, ~2 µs a row; most text has nothing to translate)
    f"ua_hw(s) AS CASE WHEN regexp_matches(s, {_sql(_FULL_CLASS)}) "
    f"THEN translate(s, {_sql(_FULL)}, {_sql(_HALF)}) ELSE s END",
    # text with every space and invisible character removed. Each cleaner first asks one
    # quick question (is there anything to clean?): most cells are clean, and replacing
    # costs several times more than matching.
    f"ua_nospace(s) AS CASE WHEN regexp_matches(s, {_sql(_MESSY)}) "
    f"THEN regexp_replace(ua_hw(s), {_sql(_SPACES)}, '', 'g') ELSE s END",
    # the same for numbers and dates: translate() costs in proportion to the characters it
    # maps (3.5 µs a cell for all 100), so numbers map only the 20 they can hold
    f"ua_hw_num(s) AS translate(s, {_sql(_FULL_NUM)}, {_sql(_HALF_NUM)})",
    f"ua_nospace_num(s) AS CASE WHEN regexp_matches(s, {_sql(_MESSY)}) "
    f"THEN regexp_replace(ua_hw_num(s), {_sql(_SPACES)}, '', 'g') ELSE s END",
    # free text that keeps its spaces (the unit): control characters removed
    f"ua_text(s) AS CASE WHEN regexp_matches(s, {_sql(_CONTROL)}) "
    f"THEN regexp_replace(s, {_sql(_CONTROL)}, '', 'g') ELSE s END",
    # ID number: spaces, dashes, dots and Excel's text apostrophe removed, x upper-cased
    "ua_id_clean(s) AS CASE WHEN regexp_full_match(s, '[0-9]{17}[0-9X]') THEN s "
    r"ELSE upper(regexp_replace(ua_nospace_num(s), '[-_.''\x{2010}-\x{2015}\x{2212}]', '', 'g')) "
    "END",
    f"ua_check_char_n(n) AS {_check_char_sql('n')}",
    # (the lambda reads the 17 digits once; a macro argument is repeated where it is used)
    "ua_check_char(f17) AS list_transform([try_cast(f17 AS BIGINT)], "
    "lambda n: ua_check_char_n(n))[1]",
    # 18 characters (a 15-digit first-generation number gets 19YY and its check character)
    "ua_id18(c) AS CASE "
    "WHEN regexp_full_match(c, '[0-9]{17}[0-9X]') THEN c "
    "WHEN regexp_full_match(c, '[0-9]{15}') THEN "
    "substr(c, 1, 6) || '19' || substr(c, 7) || ua_check_char(substr(c, 1, 6) || '19' || substr(c, 7)) "
    "END",
    "ua_id_birth(id18) AS CASE WHEN substr(id18, 7, 4) >= '1900' THEN "
    "try_strptime(substr(id18, 7, 8), '%Y%m%d')::DATE END",
    # n17: the first 17 digits as a BIGINT, birth: ua_id_birth(id18) (normalise_table computes
    # them once, in their own step)
    "ua_id_ok_n(id18, n17, birth) AS coalesce(id18 IS NOT NULL AND substr(id18, 1, 1) <> '0' "
    "AND ua_check_char_n(n17) = substr(id18, 18, 1) AND birth <= current_date, false)",
    "ua_id_ok(id18) AS ua_id_ok_n(id18, try_cast(substr(id18, 1, 17) AS BIGINT), "
    "ua_id_birth(id18))",
    "ua_id_sex(id18) AS CASE (ascii(substr(id18, 17, 1)) - 48) % 2 WHEN 1 THEN 'M' "
    "WHEN 0 THEN 'F' END",
    # dates: t is ua_nospace(text)
    "ua_plausible(d) AS CASE WHEN d BETWEEN DATE '1900-01-01' AND current_date THEN d END",
    # DuckDB's own cast takes 1976-05-16, 1976/5/16 and ISO date-times, quickly; the rest
    # (Excel serial numbers, 19760516, 1976年5月16日, 1976.5.16, with or without a time) are
    # rewritten as 1976-5-16 and cast. (strptime with a list of formats, or a regular
    # expression with groups, costs ten times more.)
    # A year and month (1976.05, 1976.5, 1976-5, 1976年5月) or a bare year is not a date (ua_month
    # and birth_year read them); Excel serials count from 5 digits only (10000 = 1927-05-18),
    # so that neither is read as a serial (1976.05 would be 1905-05-29).
    "ua_date(t) AS ua_plausible(coalesce(try_cast(t AS DATE), CASE "
    r"WHEN regexp_full_match(t, '[12][0-9]{3}([-/.年][0-9]{1,2}月?|年)?') THEN NULL "
    r"WHEN regexp_full_match(t, '[1-9][0-9]{4}(\.[0-9]+)?') "
    "THEN DATE '1899-12-30' + floor(try_cast(t AS DOUBLE))::INTEGER "
    r"WHEN regexp_full_match(t, '[12][0-9]{7}(T?[0-9]{1,2}:[0-9:.]+)?') "
    "THEN try_cast(substr(t, 1, 4) || '-' || substr(t, 5, 2) || '-' || substr(t, 7, 2) AS DATE) "
    f"ELSE try_cast(translate(regexp_replace(t, {_sql(_DAY_END)}, ''), '年月./', '----') "
    "AS DATE) END))",
    # a year and month only (出生年月: 1976-05, 1976年5月, 197605): the first of the month
    "ua_month(t) AS ua_plausible(CASE "
    "WHEN regexp_full_match(t, '[12][0-9]{3}[01][0-9]') "
    "THEN try_cast(substr(t, 1, 4) || '-' || substr(t, 5, 2) || '-01' AS DATE) "
    "WHEN regexp_full_match(t, '[12][0-9]{3}[-/.年][0-9]{1,2}月?') "
    "THEN try_cast(translate(replace(t, '月', ''), '年./', '---') || '-01' AS DATE) END)",
    "ua_sex_text(s) AS MAP {'男': 'M', '男性': 'M', 'M': 'M', 'MALE': 'M', '1': 'M', "
    "'女': 'F', '女性': 'F', 'F': 'F', 'FEMALE': 'F', '2': 'F'}[upper(ua_nospace(s))]",
    # phone: spaces, dashes, brackets removed; of several numbers the first
    "ua_phone_clean(s) AS CASE WHEN regexp_full_match(s, '1[3-9][0-9]{9}') THEN s "
    r"ELSE regexp_extract(regexp_replace(ua_hw_num(s), "
    r"'[\s\x{200B}-\x{200D}\x{FEFF}\-()\x{2010}-\x{2015}]', '', 'g'), '^[^/,，、;；]*') END",
    "ua_phone(c) AS CASE "
    r"WHEN regexp_full_match(c, '(?:\+?86|0086)?1[3-9][0-9]{9}') "
    "THEN right(c, 11) "
    r"WHEN regexp_full_match(c, '(?:\+86|0086)0?[1-9][0-9]{8,10}') "
    r"THEN '0' || regexp_extract(c, '^(?:\+86|0086)0?([1-9][0-9]{8,10})$', 1) "
    "WHEN regexp_full_match(c, '0[1-9][0-9]{8,10}|[2-9][0-9]{6,7}') THEN c END",
    # name: half-width, no spaces, one kind of middle dot (维吾尔族 names: 买买提·艾力)
    f"ua_name(s) AS nullif(CASE WHEN regexp_matches(s, {_sql(_MESSY_NAME)}) "
    "THEN regexp_replace(ua_nospace(s), '[•・‧∙⋅.]', '·', 'g') ELSE s END, '')",
)


@lru_cache(maxsize=1)
def pinyin_table() -> str:
    """``char<TAB>pinyin`` lines for every character pypinyin knows: the first (most common)
    reading, toneless, ü written as v (pypinyin's ``Style.NORMAL``)."""
    normal = lru_cache(maxsize=None)(to_normal)
    return "".join(f"{chr(code)}\t{normal(readings.split(',')[0])}\n"
                   for code, readings in pinyin_dict.items())


def install(con) -> None:
    """Create the ``ua_*`` macros and the pinyin table in ``con``'s database (idempotent)."""
    cur = con.cursor()
    for macro in MACROS:
        cur.execute(f"CREATE OR REPLACE MACRO {macro}")
    exists = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'",
        [PINYIN_TABLE]).fetchone()[0]
    if not exists:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {PINYIN_TABLE} AS "  # noqa: S608 - names and texts quoted
            "SELECT split_part(line, chr(9), 1) AS ch, split_part(line, chr(9), 2) AS py "
            "FROM (SELECT unnest(string_split(?, chr(10))) AS line) WHERE line <> ''",
            [pinyin_table()])


def _columns(con, table: str) -> set[str]:
    return {row[0] for row in con.cursor().execute(f"DESCRIBE {_ident(table)}").fetchall()}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def normalise_table(con, source: str, target: str, *, key: bool = False) -> None:
    """Create (or replace) ``target`` in schema S from ``source`` (a ``files.load_file`` table:
    row_no and VARCHAR columns named by canonical field; missing fields count as empty)."""
    install(con)
    present = _columns(con, source)

    def col(name: str) -> str:
        return _ident(name) if name in present else "NULL::VARCHAR"

    member_key = f"nullif(trim({col('member_key')}), '')" if key else "NULL::VARCHAR"
    names = f"{target}__names"
    # The pinyin of each distinct name first (a few hundred thousand at most), then every row
    # in one pass that joins it on.
    pinyin = f"""
    CREATE OR REPLACE TABLE {_ident(names)} AS
    WITH names AS (
        SELECT DISTINCT ua_name(raw_name) AS name
        FROM (SELECT DISTINCT {col('name')} AS raw_name FROM {_ident(source)})
    ), chars AS (
        SELECT name, i, substr(name, i::INTEGER, 1) AS ch
        FROM (SELECT name, unnest(range(1, length(name) + 1)) AS i FROM names
              WHERE name IS NOT NULL)
    )
    SELECT c.name, string_agg(coalesce(p.py, lower(c.ch)), ' ' ORDER BY c.i) AS name_py
    FROM chars c LEFT JOIN {PINYIN_TABLE} p ON p.ch = c.ch
    WHERE p.py IS NOT NULL OR regexp_full_match(c.ch, '[A-Za-z0-9]')
    GROUP BY c.name
    """  # noqa: S608 - names and texts quoted
    sql = f"""
    CREATE OR REPLACE TABLE {_ident(target)} AS
    WITH raw AS (
        SELECT row_no::BIGINT AS row_no,
               {member_key} AS member_key,
               ua_name({col('name')}) AS name,
               ua_id_clean({col('id_number')}) AS id_c,
               ua_nospace_num({col('birth_date')}) AS birth_t,
               {col('sex')} AS sex_raw,
               ua_phone_clean({col('phone')}) AS phone_c,
               nullif(ua_nospace({col('address')}), '') AS address,
               nullif(trim(ua_text({col('unit')})), '') AS unit
        FROM {_ident(source)}
    ), step1 AS (
        SELECT *, ua_id18(id_c) AS id18, ua_date(birth_t) AS birth_col,
               ua_phone(phone_c) AS phone
        FROM raw
    ), step2 AS (
        SELECT *, try_cast(substr(id18, 1, 17) AS BIGINT) AS n17, ua_id_birth(id18) AS id_birth,
               -- (read once, and only where needed: named twice below, it would be hoisted
               -- and computed for every row)
               CASE WHEN birth_col IS NULL AND birth_t <> '' THEN ua_month(birth_t) END
                   AS birth_month,
               CASE WHEN birth_col IS NULL AND regexp_full_match(birth_t, '[12][0-9]{{3}}年?')
                   THEN try_cast(substr(birth_t, 1, 4) AS INTEGER) END AS birth_year
        FROM step1
    ), step3 AS (
        SELECT *, ua_id_ok_n(id18, n17, id_birth) AS id_ok FROM step2
    ), step4 AS (
        -- a year and month takes its day from a valid ID number of that month, else the 1st;
        -- a bare year only confirms a valid ID number of that year (else it is unreadable)
        SELECT *, coalesce(
                   CASE WHEN birth_month IS NOT NULL AND NOT (id_ok AND
                             date_trunc('month', id_birth) = birth_month) THEN birth_month END,
                   CASE WHEN birth_year IS NOT NULL AND id_ok AND year(id_birth) = birth_year
                        THEN id_birth END) AS birth_part,
               birth_month IS NULL AND NOT coalesce(birth_year IS NOT NULL AND id_ok
                                                    AND year(id_birth) = birth_year, false)
                   AS birth_bad
        FROM step3
    )
    SELECT s.row_no, s.member_key, s.name, p.name_py,
           s.id18, s.id_ok,
           coalesce(s.birth_col, s.birth_part, CASE WHEN s.id_ok THEN s.id_birth END) AS birth,
           coalesce(ua_sex_text(s.sex_raw), CASE WHEN s.id_ok THEN ua_id_sex(s.id18) END) AS sex,
           s.phone, s.address, s.unit,
           list_filter([
               CASE WHEN s.name IS NULL THEN 'name_missing' END,
               CASE WHEN s.id_c <> '' AND s.id18 IS NULL THEN 'id_unreadable' END,
               CASE WHEN s.id18 IS NOT NULL AND NOT s.id_ok THEN 'id_check_digit' END,
               CASE WHEN s.birth_t <> '' AND s.birth_col IS NULL AND s.birth_bad
                    THEN 'birth_unreadable' END,
               CASE WHEN s.phone_c <> '' AND s.phone IS NULL THEN 'phone_unreadable' END
           ], lambda x: x IS NOT NULL) AS problems
    FROM step4 s LEFT JOIN {_ident(names)} p ON p.name = s.name
    """  # noqa: S608 - names and texts quoted
    cur = con.cursor()
    try:
        cur.execute(pinyin)
        cur.execute(sql)
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {_ident(names)}")


def row_problems(con, target: str, *, source: str | None = None,
                 limit: int = 1000) -> list[RowProblem]:
    """The problems of a normalised table as ``RowProblem``s, in row order (at most ``limit``).
    With ``source`` (the loaded table, which has ``sheet_row``), rows are numbered as the
    spreadsheet shows them; otherwise by ``row_no``."""
    number = "t.row_no"
    join = ""
    if source is not None and "sheet_row" in _columns(con, source):
        number = "s.sheet_row"
        join = f"JOIN {_ident(source)} s ON s.row_no = t.row_no"
    rows = con.cursor().execute(
        f"SELECT {number}, code FROM (SELECT row_no, unnest(problems) AS code, "  # noqa: S608 - names and texts quoted
        f"unnest(range(len(problems))) AS k FROM {_ident(target)} WHERE len(problems) > 0) t "
        f"{join} ORDER BY t.row_no, t.k LIMIT {int(limit)}").fetchall()
    return [RowProblem(int(n), str(PROBLEM_COLUMNS[code]), str(PROBLEM_MESSAGES[code]))
            for n, code in rows]
