"""The facts a lead rule sees, and their safe evaluation (``core.rules``, never ``eval``).

Record facts come from the matched row of the list: its kind, amount and date columns, a few
list-specific columns under fixed names (``school``, ``education_level``, ``event``, ``homes``,
``business``) found by their Chinese headers, and ``extra`` — every other column by its header
(``extra['录取院校']``; a missing column reads as ""). Member facts are the ones the catalog's
rules see (``assistance.facts.MEMBER_FACTS``: ``in_archive``, ``hardship_category``,
``employment_form`` …), read through the assistance domain's public ``member_values``.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.assistance import facts as assistance_facts
from unionaid.core import rules
from unionaid.matching.models import ExternalRecord, SourceKind


class Extra(dict):
    """The list's other columns by header; a header the list lacks reads as ""."""

    def __missing__(self, key):
        return ""


# fact name -> the headers (after the reader's own canonical fields) it is read from
ALIASES: dict[str, tuple[str, ...]] = {
    "school": ("录取院校", "录取学校", "院校名称", "院校", "学校"),
    "education_level": ("层次", "录取层次", "学历层次", "培养层次", "学历"),
    "event": ("变动类型", "变动事项", "变更类型", "事件", "类型"),
    "homes": ("房产套数", "房屋套数", "套数", "住房套数"),
    "business": ("市场主体名称", "企业名称", "个体工商户名称", "营业执照号", "统一社会信用代码"),
}

RECORD_FACTS: dict[str, Any] = {
    "source_kind": gettext_lazy("数据类别编码（dibao、medical、admission、registry、property、"
                                "disability、other）"),
    "amount": gettext_lazy("金额（元；名单无金额列时为 0）"),
    "date": gettext_lazy("日期（年-月-日；无则为空）"),
    "school": gettext_lazy("录取院校"),
    "education_level": gettext_lazy("录取层次（本科、专科、研究生 …）"),
    "event": gettext_lazy("户籍变动类型（出生、死亡 …）"),
    "homes": gettext_lazy("房产套数（整数）"),
    "business": gettext_lazy("是否登记有经营主体（企业、个体工商户）"),
    "extra": gettext_lazy("名单的其他列，按表头取值，例如 extra['录取院校']"),
    "score": gettext_lazy("比对得分（0–1）"),
}

_RECORD_SAMPLE: dict[str, Any] = {
    "source_kind": "dibao", "amount": 0.0, "date": "2026-01-01", "school": "",
    "education_level": "", "event": "", "homes": 0, "business": False, "extra": Extra(),
    "score": 1.0,
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# a list's running row numbers: they change with the order of a re-import, so they are no
# part of the evidence (nor of its key)
SERIAL_HEADERS = {"序号", "序", "行号", "顺序号", "no", "no.", "#"}


def known_names() -> set[str]:
    return set(RECORD_FACTS) | set(assistance_facts.MEMBER_FACTS)


def sample_facts() -> dict[str, Any]:
    return {**assistance_facts.sample_values([]), **_RECORD_SAMPLE, "extra": Extra()}


def _money(text: str) -> float:
    cleaned = (text or "").replace(",", "").replace("，", "").replace("元", "").strip()
    try:
        return float(Decimal(cleaned)) if cleaned else 0.0
    except InvalidOperation:
        found = _NUMBER.search(cleaned)
        return float(found.group()) if found else 0.0


_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DATE8 = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def iso_date(text: str) -> str:
    """``2026-09-01``, ``2026/9/1``, ``2026年9月1日``, ``20260901`` (a time after it ignored) →
    ``2026-09-01``; anything else → ""."""
    found = _DATE.match(text or "") or _DATE8.match(text or "")
    if not found:
        return ""
    try:
        return dt.date(*(int(g) for g in found.groups())).isoformat()
    except ValueError:
        return ""


def _int(text: str) -> int:
    found = _NUMBER.search(text or "")
    return int(float(found.group())) if found else 0


def record_values(record: ExternalRecord, *, kind: str) -> dict[str, Any]:
    """The record's facts, JSON-safe (they are kept as the lead's evidence)."""
    try:
        extra = json.loads(record.extra or "{}")
    except ValueError:
        extra = {}
    if not isinstance(extra, dict):
        extra = {}
    extra = {str(k): str(v) for k, v in extra.items()}
    values: dict[str, Any] = {"source_kind": kind, "amount": _money(extra.get("amount", "")),
                              "date": iso_date(str(extra.get("date", "")))}
    found = {name: next((extra[h] for h in headers if extra.get(h)), "")
             for name, headers in ALIASES.items()}
    values.update(school=found["school"], education_level=found["education_level"],
                  event=found["event"], homes=_int(found["homes"]),
                  business=bool(found["business"]))
    values["extra"] = {k: v for k, v in extra.items()
                       if k not in ("amount", "date") and k.strip().lower() not in SERIAL_HEADERS}
    return values


def rule_inputs(record_facts: dict[str, Any], member_facts: dict[str, Any],
                *, score: float) -> dict[str, Any]:
    return {**member_facts, **record_facts, "extra": Extra(record_facts.get("extra") or {}),
            "score": float(score)}


def names_in(expression: str) -> set[str]:
    """The names an expression reads (for knowing whether a rule needs the member's facts)."""
    try:
        tree = ast.parse((expression or "").strip() or "True", mode="eval")
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def key_facts(record_facts: dict[str, Any], expressions) -> dict[str, Any]:
    """The record facts that ``expressions`` read, with the amount and date always: what makes
    two rows "the same evidence" for a rule. Of ``extra`` only the columns named as
    ``extra['…']``; an expression that reads ``extra`` any other way takes it all."""
    names = {"amount", "date"}
    columns: set[str] = set()
    whole_extra = False
    for expression in expressions:
        try:
            tree = ast.parse((expression or "").strip() or "True", mode="eval")
        except SyntaxError:
            continue
        named = set()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                    and node.value.id == "extra" and isinstance(node.slice, ast.Constant)):
                columns.add(str(node.slice.value))
                named.add(id(node.value))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                names.add(node.id)
                if node.id == "extra" and id(node) not in named:
                    whole_extra = True
    out = {k: v for k, v in record_facts.items() if k in names and k != "extra"}
    extra = record_facts.get("extra") or {}
    if whole_extra:
        out["extra"] = dict(extra)
    elif columns:
        out["extra"] = {c: extra.get(c, "") for c in sorted(columns)}
    return out


def needs_member(expressions) -> bool:
    member_names = set(assistance_facts.MEMBER_FACTS)
    return any(names_in(e) & member_names for e in expressions)


def member_values(member) -> dict[str, Any]:
    return assistance_facts.member_values(member)


def evaluate(expression: str, inputs: dict[str, Any]) -> Any:
    """``core.rules.evaluate`` that also turns a lookup error into a RuleError."""
    try:
        return rules.evaluate(expression, inputs)
    except rules.RuleError:
        raise
    except (KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise rules.RuleError(_("规则无法计算：%(error)s") % {"error": exc}) from None


def check(expression: str, *, field: str, label: str) -> str:
    """Check an expression when an admin saves it: syntax and known names, on sample facts."""
    expression = (expression or "").strip()
    try:
        evaluate(expression, sample_facts())
    except rules.RuleError as exc:
        raise rules.RuleError(_("%(label)s“%(expr)s”有误：%(error)s") % {
            "label": label, "expr": expression[:60], "error": exc.message},
            fields={field: exc.message}) from None
    return expression


def kinds_label(kinds: list[str]) -> str:
    if not kinds:
        return _("全部")
    return "、".join(str(SourceKind(k).label) for k in kinds if k in SourceKind.values)
