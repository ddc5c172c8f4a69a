"""unionaid match MEMBERS EXTERNAL --out MATCHES.csv [--review FILE] [--member-key COLUMN]

For offices that only have two files: matches an external list (.csv/.xls/.xlsx) to a member
roll in an in-memory DuckDB — no database is opened. MATCHES.csv (UTF-8 with a BOM, for Excel)
has one row per confident match: ``external_row`` (the 1-based data row of EXTERNAL, counting neither a title row nor the
header), ``member_key``, ``score`` (0–1), ``method`` (exact | probabilistic), ``reason``;
``--review`` writes the uncertain band with the same columns. A progress bar on a terminal, a
summary at the end; a file that cannot be read or has no member key column is a clear error and
a non-zero exit."""

from __future__ import annotations

import codecs
import logging
import re
import shutil
import time
from pathlib import Path

import duckdb
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from unionaid.core.errors import ServiceError
from unionaid.core.spreadsheets import FORMULA_STARTS
from unionaid.matching import files, normalise
from unionaid.matching.linkage import LinkSettings, link

OUTPUT_COLUMNS = ("external_row", "member_key", "score", "method", "reason")
STEPS = {
    "members": "读取职工名册",
    "external": "读取外部名单",
    "normalise": "标准化",
    "prepare": "准备比对",
    "exact": "身份证号精确比对",
    "deterministic": "姓名与出生日期比对",
    "probabilistic": "概率比对（Splink）",
    "finish": "整理结果",
    "write": "写出结果",
}
SUFFIXES = (".csv", ".xls", ".xlsx")
# the spreadsheet-cell rule (core.spreadsheets.safe_cell) in SQL, for the one column that comes
# from the user's file
_FORMULA_CLASS = "".join(re.escape(c) if c not in "\t\r" else {"\t": r"\t", "\r": r"\r"}[c]
                         for c in FORMULA_STARTS)


def _safe_sql(column: str) -> str:
    return (f"CASE WHEN regexp_matches({column}, '^[{_FORMULA_CLASS}]') "
            f"THEN '''' || {column} ELSE {column} END")


def _copy_csv(con, table: str, path: Path) -> None:
    """The table as CSV, UTF-8 with a BOM (Excel then opens the Chinese correctly, as the
    ledger exports do); DuckDB writes it, then the BOM goes in front."""
    part = path.with_name(path.name + ".part")
    target = str(part).replace("'", "''")
    try:
        con.cursor().execute(f"""
            COPY (SELECT external_row, {_safe_sql('member_key')} AS member_key,
                         round(score, 4) AS score, method, reason
                  FROM {table} ORDER BY external_row)
            TO '{target}' (FORMAT csv, HEADER true)""")  # noqa: S608 - our tables, quoted path
        with path.open("wb") as out, part.open("rb") as src:
            out.write(codecs.BOM_UTF8)
            shutil.copyfileobj(src, out, 1 << 20)
    finally:
        part.unlink(missing_ok=True)


class Command(BaseCommand):
    help = "把外部名单与职工名册比对（不需要数据库）：精确比对身份证号，其余按概率比对。"
    requires_system_checks: list[str] = []  # no database, no checks that might want one
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("members", help="职工名册 .csv / .xls / .xlsx（含工号列）")
        parser.add_argument("external", help="外部名单 .csv / .xls / .xlsx")
        parser.add_argument("--out", required=True, help="比对结果 MATCHES.csv")
        parser.add_argument("--review", help="待复核结果写到这个 .csv")
        parser.add_argument("--member-key", dest="member_key",
                            help="职工名册中工号所在列的列名（默认识别 工号 / 编号 / member_id）")
        parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                            help="比对引擎，默认 duckdb")
        parser.add_argument("--match-threshold", type=float,
                            default=LinkSettings.match_threshold,
                            help="不低于此分数判为匹配（默认 %(default)s）")
        parser.add_argument("--review-threshold", type=float,
                            default=LinkSettings.review_threshold,
                            help="不低于此分数、低于匹配分数的进入待复核（默认 %(default)s）")

    def handle(self, *args, members, external, out, review=None, member_key=None,
               engine="duckdb", match_threshold=LinkSettings.match_threshold,
               review_threshold=LinkSettings.review_threshold, **options):
        started = time.perf_counter()
        if engine == "spark":
            raise CommandError("暂不支持 --engine spark（Spark 比对尚未实现），请使用默认的 duckdb。")
        if not 0 <= review_threshold <= match_threshold <= 1:
            raise CommandError("阈值应满足 0 ≤ 待复核阈值 ≤ 匹配阈值 ≤ 1。")
        for label, path in (("职工名册", members), ("外部名单", external)):
            p = Path(path)
            if not p.is_file():
                raise CommandError(f"找不到{label}文件：{path}")
            if p.suffix.lower() not in SUFFIXES:
                raise CommandError(f"{label}文件应为 .csv、.xls 或 .xlsx：{path}")
        for path in (out, review):
            if path and not Path(path).resolve().parent.is_dir():
                raise CommandError(f"输出目录不存在：{Path(path).parent}")
        # Splink reports its training at INFO and untrained levels at WARNING: the summary and
        # the bar are what a person at the terminal needs
        logging.getLogger("splink").setLevel(logging.ERROR)
        settings = LinkSettings(match_threshold=match_threshold,
                                review_threshold=review_threshold)
        console = Console(stderr=True)
        columns = (TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
        con = duckdb.connect()
        with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
            task = bar.add_task(STEPS["members"], total=len(STEPS))
            done = 0

            def step(name: str) -> None:
                nonlocal done
                bar.update(task, description=STEPS[name], completed=done)
                done += 1

            try:
                step("members")
                loaded = files.load_file(con, members, "members_raw", key_column=member_key)
                if "member_key" not in loaded.columns:
                    raise CommandError(
                        f"职工名册 {members} 中找不到工号列（工号 / 编号 / member_id）"
                        + (f"“{member_key}”" if member_key else "")
                        + "，请用 --member-key 指定工号所在的列名。")
                step("external")
                files.load_file(con, external, "external_raw")
                step("normalise")
                normalise.install(con)
                normalise.normalise_table(con, "members_raw", "members_s", key=True)
                normalise.normalise_table(con, "external_raw", "external_s")

                def on_link(stage: str, stage_done: int, stages: int) -> None:
                    if stage_done < stages:  # the last call says the linkage is done
                        step(stage)

                result = link(con, "members_s", "external_s", settings=settings,
                              progress=on_link)
                step("write")
                _copy_csv(con, result.matches, Path(out))
                if review:
                    _copy_csv(con, result.review, Path(review))
                bar.update(task, completed=len(STEPS))
            except ServiceError as exc:
                raise CommandError(exc.message) from None
            except (duckdb.IOException, OSError) as exc:
                raise CommandError(f"无法写出结果：{exc}") from None
            finally:
                con.close()
        c = result.counts
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(
            f"外部名单共 {c['external']} 行：精确匹配 {c['exact']} 行，概率匹配 "
            f"{c['probabilistic']} 行，待复核 {c['review']} 行，未匹配 {c['unmatched']} 行。"
            f"用时 {elapsed:.1f} 秒。"))
        self.stdout.write(f"比对结果已写入 {out}" + (f"；待复核已写入 {review}" if review else
                                                     "（待复核未写出，可用 --review 指定文件）"))
