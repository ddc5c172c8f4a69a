"""Skip conditions in words: ``amount <= 2000`` → "金额不超过 2000 元".

The one formatter the timeline (task page, application page, the auditor's trace), the flow
list, the flow editor and its preview use. The words for each fact come from the subject that
registered the kind (``ApprovalSubject.fact_labels``); the engine knows only ``fast_track``.
A name without a label is shown as it is; a part the formatter cannot say in words (a function
call …) is shown as written, with the names replaced by their labels."""

from __future__ import annotations

import ast
import copy
from collections.abc import Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from unionaid.approvals import registry
from unionaid.approvals.registry import FactLabel

IS, IS_NOT = gettext_noop("为"), gettext_noop("不为")
COMPARE = {
    ast.LtE: gettext_noop("不超过"), ast.Lt: gettext_noop("低于"), ast.GtE: gettext_noop("不低于"),
    ast.Gt: gettext_noop("超过"), ast.Eq: IS, ast.NotEq: IS_NOT, ast.In: IS, ast.NotIn: IS_NOT,
}
ARITHMETIC = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷", ast.FloorDiv: "÷",
              ast.Mod: "%"}


def engine_labels() -> dict[str, FactLabel]:
    """The facts the engine itself adds to every case."""
    return {"fast_track": FactLabel(label=_("特事特办"))}


class _Words:
    def __init__(self, labels: Mapping[str, FactLabel]) -> None:
        self.labels = {**engine_labels(), **labels}

    # -- pieces ------------------------------------------------------------------------------
    def name(self, node: ast.Name) -> str:
        fact = self.labels.get(node.id)
        return str(fact.label) if fact else node.id

    def value(self, node: ast.expr, fact: FactLabel | None) -> str:
        """A value compared with ``fact``: its unit, its choice label, 是/否."""
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                return _("是") if value else _("否")
            if isinstance(value, int | float):
                text = f"{value:g}" if isinstance(value, float) else str(value)
                return f" {text} {fact.unit}".rstrip() if fact and fact.unit else f" {text}"
            if isinstance(value, str):
                choices = dict(fact.choices) if fact else {}
                return str(choices.get(value, value))
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return _("或").join(self.value(item, fact).strip() for item in node.elts)
        return self.expr(node)

    def fact_of(self, node: ast.expr) -> FactLabel | None:
        return self.labels.get(node.id) if isinstance(node, ast.Name) else None

    # -- expressions -------------------------------------------------------------------------
    def expr(self, node: ast.expr) -> str:
        if isinstance(node, ast.BoolOp):
            joiner = _("，且") if isinstance(node.op, ast.And) else _("，或")
            return joiner.join(self.expr(value) for value in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.expr(node.operand)
            return (_("非%(x)s") if isinstance(node.operand, ast.Name)
                    else _("并非“%(x)s”")) % {"x": inner}
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
            return (f"{self.expr(node.left)} {ARITHMETIC[type(node.op)]} "
                    f"{self.expr(node.right)}")
        if isinstance(node, ast.Constant):
            return self.value(node, None).strip()
        return self.as_written(node)

    def compare(self, node: ast.Compare) -> str:
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            word = COMPARE.get(type(op))
            if word is None:
                return self.as_written(node)
            fact = self.fact_of(left) or self.fact_of(right)
            rendered = self.value(right, fact)
            subject = self.expr(left)
            parts.append(f"{subject}{_(word)}{rendered}")
            left = right
        return _("，且").join(parts)

    def as_written(self, node: ast.expr) -> str:
        """The code as written, with each name replaced by its label."""
        words = self

        class Relabel(ast.NodeTransformer):
            def visit_Name(self, name: ast.Name) -> ast.Name:
                return ast.copy_location(ast.Name(id=words.name(name), ctx=name.ctx), name)

        return ast.unparse(Relabel().visit(copy.deepcopy(node)))


def describe_condition(expression: str, labels: Mapping[str, FactLabel] | None = None) -> str:
    """``expression`` (a skip condition) in words, with the facts' labels and units; the
    expression itself when it is not valid code."""
    expression = (expression or "").strip()
    if not expression:
        return ""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return expression
    return _Words(labels or {}).expr(tree.body)


def labels_for(subject_kind: str, subject_key: str = "") -> dict[str, FactLabel]:
    """The registered subject's words for its facts ({} for a kind nobody registered)."""
    if not registry.has_subject(subject_kind):
        return {}
    return dict(registry.subject_handler(subject_kind).fact_labels(subject_key or "") or {})


def skip_condition_reason(expression: str, labels: Mapping[str, FactLabel] | None) -> str:
    """What a step skipped by its condition says: "满足跳过条件：金额不超过 2000 元"."""
    return _("满足跳过条件：%s") % describe_condition(expression, labels)
