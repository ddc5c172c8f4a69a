"""Writing the demo's external lists the way other departments send them: the values messy as
in real lists (full-width digits, lower-case x, spaces inside ID numbers, 15-digit
first-generation numbers, rows without an ID number, a homophone or stray space in a name,
phones with +86 or dashes, dates written four ways) and the files as they arrive (.csv in
GB18030 or UTF-8 with a BOM, .xlsx with a title row above the header and date cells).

Everything is synthetic (``core.synthetic``); nothing here touches the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass

import xlsxwriter

from unionaid.core.synthetic import SHANXI_REGIONS

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
# given-name characters of core.synthetic's tables and another character read the same
HOMOPHONES = {
    "伟": "玮", "玮": "炜", "静": "婧", "婧": "靖", "丽": "莉", "莉": "俐", "军": "君",
    "君": "钧", "明": "鸣", "鸣": "铭", "华": "桦", "林": "琳", "琳": "林", "阳": "洋",
    "洋": "阳", "龙": "隆", "峰": "锋", "晶": "菁", "颖": "莹", "燕": "艳", "艳": "燕",
    "鹏": "朋", "杰": "洁", "洁": "杰", "涛": "滔", "超": "潮", "斌": "彬", "磊": "蕾",
}
STREETS = ("迎泽大街", "并州路", "建设路", "五一路", "解放路", "府西街", "长风街", "学府街",
           "平阳路", "体育路", "南内环街", "胜利街", "滨河东路", "晋祠路", "康乐街")

# How a member's row is written, in turn (a style that does not fit the value is written plain):
# one in ten rows has no ID number, one a 15-digit number, one full-width digits …
ID_STYLES = ("plain", "fullwidth", "plain", "15", "spaces", "plain", "missing", "lower_x",
             "plain", "plain")
BIRTH_STYLES = ("iso", "compact", "slash", "chinese")
PHONE_STYLES = ("plain", "plain", "plus86", "dashes", "spaces")


@dataclass(frozen=True)
class Person:
    """One person as a department knows them (clear values, before the mess)."""

    name: str
    id18: str
    birth: dt.date
    sex: str  # "M" / "F"
    phone: str = ""
    address: str = ""


def id_text(id18: str, style: str) -> str:
    if not id18 or style == "missing":
        return ""
    if style == "fullwidth":
        return id18.translate(FULLWIDTH)
    if style == "15" and id18[6:8] == "19":
        return id18[:6] + id18[8:17]  # first generation: no century, no check character
    if style == "spaces":
        return f"{id18[:6]} {id18[6:14]} {id18[14:]}"
    if style == "lower_x":
        return id18.lower()
    return id18


def birth_text(day: dt.date | None, style: str) -> str:
    if day is None:
        return ""
    if style == "compact":
        return f"{day:%Y%m%d}"
    if style == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    if style == "chinese":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


def phone_text(phone: str, style: str) -> str:
    if not phone:
        return ""
    if style == "plus86":
        return f"+86 {phone}"
    if style == "dashes":
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if style == "spaces":
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    return phone


def sex_text(sex: str) -> str:
    return {"M": "男", "F": "女"}.get(sex, "")


def homophone(name: str) -> str:
    """The name with its last given-name character that has a homophone replaced (the name
    itself when none has)."""
    for index in range(len(name) - 1, 0, -1):
        if name[index] in HOMOPHONES:
            return name[:index] + HOMOPHONES[name[index]] + name[index + 1:]
    return name


def spaced(name: str) -> str:
    """A stray space inside the name, as typed into a spreadsheet."""
    return f"{name[0]} {name[1:]}" if len(name) > 1 else name


def address_for(id18: str, rng: random.Random) -> str:
    """A plausible home address in the county the ID number was issued in."""
    area = SHANXI_REGIONS.get(id18[:6], "太原市小店区")
    return (f"山西省{area}{rng.choice(STREETS)}{rng.randint(1, 300)}号"
            f"{rng.randint(1, 6)}单元{rng.randint(1, 24)}{rng.randint(1, 4):02d}室")


def money_text(amount: float, n: int) -> str:
    """Amounts as lists write them: 3250.5, 3,250.50 or 3250.50元."""
    return (f"{amount:.2f}", f"{amount:,.2f}", f"{amount:.2f}元")[n % 3]


# -- files -----------------------------------------------------------------------------------

def csv_bytes(header: list[str], rows: list[list], *, encoding: str) -> bytes:
    """A .csv file; ``encoding`` "gb18030" (as Excel in Chinese saves it) or "utf-8-sig"."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return text.getvalue().encode(encoding)


def xlsx_bytes(header: list[str], rows: list[list], *, title: str, sheet: str) -> bytes:
    """An .xlsx file with a merged title row above the header; ``dt.date`` values become date
    cells."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    page = book.add_worksheet(sheet)
    date_cell = book.add_format({"num_format": "yyyy-mm-dd"})
    page.merge_range(0, 0, 0, len(header) - 1, title)
    page.write_row(1, 0, header)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                page.write_datetime(r, c, value, date_cell)
            elif value not in (None, ""):
                page.write_string(r, c, str(value))
    book.close()
    return out.getvalue()
