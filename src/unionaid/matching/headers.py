"""Recognising the header of a department's list: the canonical fields, their Chinese header
texts and synonyms, and the row (below any title rows) that names them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from unionaid.members.roster_files import normalise_header

__all__ = ["CANONICAL", "HEADERS", "HEADER_SEARCH_ROWS", "IDENTIFYING", "Header", "find_header"]

CANONICAL = ("name", "id_number", "birth_date", "sex", "phone", "unit", "address",
             "member_key", "amount", "date")
#: A list must have a name column and one of these to be matched at all.
IDENTIFYING = ("id_number", "birth_date", "phone")

#: canonical field -> accepted header texts (compared after ``normalise_header``: no spaces,
#: full-width folded, no "*", no trailing "(…)" note).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "职工姓名", "户主姓名", "申请人姓名", "申请人", "参保人姓名",
             "患者姓名", "学生姓名", "考生姓名", "人员姓名", "权利人", "持证人姓名", "会员姓名"),
    "id_number": ("身份证号", "身份证号码", "证件号码", "公民身份号码", "身份证", "证件号",
                  "身份证件号码", "公民身份证号码", "社会保障号码", "身份证号(18位)"),
    "birth_date": ("出生日期", "出生年月", "出生年月日", "生日"),
    "sex": ("性别",),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "联系方式", "电话", "电话号码",
              "移动电话"),
    "unit": ("单位", "所在单位", "工作单位", "单位名称", "部门"),
    "address": ("住址", "家庭住址", "地址", "户籍地址", "居住地址", "现住址", "联系地址",
                "房屋坐落", "坐落"),
    "member_key": ("工号", "编号", "member_id", "会员编号", "职工编号", "人员编号"),
    "amount": ("金额", "自付金额", "个人自付", "自付费用", "个人自付金额", "救助金额",
               "补助金额", "保障金额", "发放金额", "费用", "总费用", "医疗费用", "合计金额"),
    "date": ("日期", "发生日期", "登记日期", "变更日期", "办理日期", "就诊日期", "出院日期",
             "入院日期", "录取日期", "入学日期", "死亡日期", "认定日期", "发证日期",
             "登记时间", "办理时间"),
}
_HEADER_TO_FIELD = {normalise_header(text).lower(): name
                    for name, texts in HEADERS.items() for text in texts}
HEADER_SEARCH_ROWS = 10


@dataclass
class Header:
    row: int                         # 1-based
    fields: dict[str, int]           # canonical field -> column index
    headers: dict[str, str]          # canonical field -> header text
    extras: list[tuple[int, str]]    # (column index, header text) of the other columns
    width: int


def _field_of(text: str, mapping: dict[str, str]) -> str | None:
    if text in mapping:
        return mapping[text]
    return _HEADER_TO_FIELD.get(text.lower())


def find_header(rows: Iterator[tuple[int, list]], mapping: dict[str, str]) -> Header | None:
    """The first row (of the first ``HEADER_SEARCH_ROWS``) naming a name column and one of the
    identifying columns; rows above it are titles. A header named in ``mapping`` wins over a
    recognised synonym for the same field; the first of two synonyms wins; the others are
    extra columns."""
    for row_number, values in rows:
        texts = [(index, normalise_header(value)) for index, value in enumerate(values)]
        texts = [(index, text) for index, text in texts if text]
        fields: dict[str, int] = {}
        headers: dict[str, str] = {}
        for index, text in sorted(texts, key=lambda item: item[1] not in mapping):
            name = _field_of(text, mapping)
            if name is not None and name not in fields:
                fields[name], headers[name] = index, text
        fields = dict(sorted(fields.items(), key=lambda item: item[1]))
        headers = {name: headers[name] for name in fields}
        taken = set(fields.values())
        extras = [(index, text) for index, text in texts if index not in taken]
        if "name" in fields and any(f in fields for f in IDENTIFYING):
            width = max([*fields.values(), *(i for i, _t in extras)]) + 1
            return Header(row_number, fields, headers, _unique(extras, headers), width)
        if row_number >= HEADER_SEARCH_ROWS:
            break
    return None


def _unique(extras: list[tuple[int, str]], taken: dict[str, str]) -> list[tuple[int, str]]:
    """Extra headers made unique (a list may repeat a header, or repeat a canonical one)."""
    seen = set(taken.values())
    out = []
    for index, text in extras:
        name, n = text, 1
        while name in seen:
            n += 1
            name = f"{text}_{n}"
        seen.add(name)
        out.append((index, name))
    return out
