"""Helpers for the roster import/export tests: write .xlsx / .csv rosters of synthetic people."""

from __future__ import annotations

import csv
from pathlib import Path

import xlsxwriter

HEADER = ["姓名", "身份证号", "手机号", "单位", "用工形式", "会籍状态", "入会日期", "银行账号"]


def bad_check_digit(id_number: str) -> str:
    last = id_number[-1]
    return id_number[:-1] + ("0" if last != "0" else "1")


def person_row(people, unit_code: str, **overrides) -> dict:
    person = people.person()
    row = {
        "姓名": person["name"], "身份证号": person["id_number"], "手机号": person["phone"],
        "单位": unit_code, "用工形式": "合同制职工", "会籍状态": "在籍会员",
        "入会日期": "2015-03-01", "银行账号": people.bank_account(),
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict], *, header=HEADER, encoding="utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header])
    return path


def write_xlsx(path: Path, rows: list[dict], *, header=HEADER, title: str | None = None,
               numbers: tuple[str, ...] = ()) -> Path:
    """Write a roster; columns named in ``numbers`` are written as numeric cells."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("名册")
    top = 0
    if title:
        sheet.write_string(0, 0, title)
        top = 1
    for col, name in enumerate(header):
        sheet.write_string(top, col, name)
    for r, row in enumerate(rows, start=top + 1):
        for col, name in enumerate(header):
            value = row.get(name, "")
            if name in numbers and value:
                sheet.write_number(r, col, float(value))
            elif value != "":
                sheet.write_string(r, col, str(value))
    workbook.close()
    return path
