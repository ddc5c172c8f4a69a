#!/usr/bin/env python
"""Reading and normalising a big list (not part of ``make bench``; the matching suite there
times the whole ``unionaid match``).

Writes a CSV of N synthetic, messy rows (default 1,000,000) into a temporary directory with
DuckDB itself — names from a character list with homophones, valid IDs from six counties, one
row in ten messed up (full-width digits, 15-digit IDs, spaces and dashes, lower-case x,
1976年5月16日 / 19760516 / Excel serial dates, phones with +86 and dashes) — then times
``files.load_file`` and ``normalise.normalise_table`` on it (wall and CPU time of this process,
with the load average: on a shared machine the wall time says more about the neighbours) and
deletes the file.

    python benchmarks/matching_normalise.py [--rows 1000000] [--encoding gb18030]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (str(ROOT), str(ROOT / "src")):
    if extra not in sys.path:
        sys.path.insert(0, extra)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
GIVEN = ("伟玮炜强磊军君钧勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆芳娜敏静婧靖丽莉俐艳秀英娟霞"
         "燕玲桂兰萍红梅琳婷雪慧颖洁晶倩丹佳欣怡悦琪璐瑶蕾雯思雨梦晓春月")


def write_list(con, path: Path, rows: int) -> None:
    n_s, n_g = len(SURNAMES), len(GIVEN)
    con.execute(f"""
    COPY (
      WITH b AS (
        SELECT i, hash(i) AS h,
               substr('{SURNAMES}', 1 + (hash(i * 2) % {n_s})::INTEGER, 1)
               || substr('{GIVEN}', 1 + (hash(i * 3) % {n_g})::INTEGER, 1)
               || CASE WHEN hash(i * 5) % 5 = 0 THEN ''
                       ELSE substr('{GIVEN}', 1 + (hash(i * 7) % {n_g})::INTEGER, 1) END AS name,
               ['140105', '140106', '140107', '140108', '140109', '140110']
                   [1 + (hash(i * 11) % 6)::INTEGER] AS region,
               DATE '1960-01-01' + (hash(i * 13) % 16000)::INTEGER AS birth,
               lpad(((hash(i * 17) % 999) + 1)::VARCHAR, 3, '0') AS seq,
               '1' || (30 + hash(i * 19) % 70)::VARCHAR
                   || lpad((hash(i * 23) % 100000000)::VARCHAR, 8, '0') AS phone
        FROM range(1, {rows} + 1) t(i)
      ), c AS (
        SELECT *, region || strftime(birth, '%Y%m%d') || seq AS f17 FROM b
      ), d AS (
        SELECT *, f17 || ua_check_char(f17) AS id18 FROM c
      )
      SELECT
        CASE h % 40 WHEN 1 THEN ' ' || name WHEN 2 THEN substr(name, 1, 1) || '　' || substr(name, 2)
             ELSE name END AS 姓名,
        CASE h % 10
             WHEN 1 THEN translate(id18, '0123456789X', '０１２３４５６７８９ｘ')
             WHEN 2 THEN CASE WHEN year(birth) < 2000 THEN substr(id18, 1, 6) || substr(id18, 9, 9)
                              ELSE id18 END
             WHEN 3 THEN substr(id18, 1, 6) || ' ' || substr(id18, 7, 8) || ' ' || substr(id18, 15)
             WHEN 4 THEN lower(id18)
             WHEN 5 THEN ''
             ELSE id18 END AS 身份证号,
        CASE h % 7 WHEN 1 THEN strftime(birth, '%Y年%-m月%-d日') WHEN 2 THEN strftime(birth, '%Y%m%d')
             WHEN 3 THEN (birth - DATE '1899-12-30')::VARCHAR ELSE strftime(birth, '%Y-%m-%d')
             END AS 出生日期,
        CASE WHEN (ascii(substr(f17, 17, 1)) - 48) % 2 = 1 THEN '男' ELSE '女' END AS 性别,
        CASE h % 9 WHEN 1 THEN '+86 ' || phone
             WHEN 2 THEN substr(phone, 1, 3) || '-' || substr(phone, 4, 4) || '-' || substr(phone, 8)
             ELSE phone END AS 联系电话,
        '太原市小店区' || (i % 5000)::VARCHAR || '号' AS 家庭住址,
        '第' || (i % 300)::VARCHAR || '工会' AS 所在单位
      FROM d
    ) TO '{path}' (HEADER, DELIMITER ',')
    """)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--encoding", default="utf-8", choices=["utf-8", "gb18030"])
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    import duckdb

    from unionaid.matching import files, normalise

    with tempfile.TemporaryDirectory(prefix="unionaid-bench-") as tmp:
        path = Path(tmp) / "list.csv"
        maker = duckdb.connect()
        normalise.install(maker)
        write_list(maker, path, args.rows)
        maker.close()
        if args.encoding != "utf-8":
            text = path.read_text(encoding="utf-8")
            path.write_bytes(text.encode(args.encoding))
        con = duckdb.connect()
        marks = [(time.perf_counter(), time.process_time())]
        normalise.install(con)
        marks.append((time.perf_counter(), time.process_time()))
        loaded = files.load_file(con, path, "external")
        marks.append((time.perf_counter(), time.process_time()))
        normalise.normalise_table(con, "external", "external_s")
        marks.append((time.perf_counter(), time.process_time()))
        ok, problems = con.execute(
            "SELECT count(*) FILTER (WHERE id_ok), count(*) FILTER (WHERE len(problems) > 0) "
            "FROM external_s").fetchone()

    def span(a: int, b: int) -> str:
        return (f"{marks[b][0] - marks[a][0]:.2f} s wall / "
                f"{marks[b][1] - marks[a][1]:.2f} s CPU")

    print(f"{loaded.rows:,} rows ({args.encoding}), {ok:,} valid IDs, {problems:,} with problems")
    print(f"install   {span(0, 1)}")
    print(f"load_file {span(1, 2)}")
    print(f"normalise {span(2, 3)}")
    print(f"total     {span(0, 3)}   (load average {os.getloadavg()[0]:.1f}, "
          f"{os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
