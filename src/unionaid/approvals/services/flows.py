"""Flows: saving a new version, finding the flow that applies to a unit, previewing a case."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.accounts.models import Assignment, Position, User
from unionaid.approvals import assignees, registry
from unionaid.approvals.models import (
    ApprovalFlow,
    ApprovalStep,
    AssigneeKind,
    FlowVersion,
)
from unionaid.approvals.skips import skip_reason
from unionaid.audit.services import audit_record
from unionaid.core import rules
from unionaid.core.errors import PermissionDenied, ServiceError
from unionaid.org.models import OrgUnit

logger = logging.getLogger(__name__)

STEP_KEYS = {
    "name", "assignee_kind", "unit_depth", "position_name", "user", "user_position",
    "skip_condition", "due_days", "allow_batch", "skippable_by_fast_track", "is_public_notice",
    "notice_working_days",
}
BOOL_KEYS = ("allow_batch", "skippable_by_fast_track", "is_public_notice")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def plain_facts(facts: dict[str, Any] | None) -> dict[str, Any]:
    """Facts as JSON-safe values that rules can compare (Decimal → number, date → ISO)."""
    return _plain(dict(facts or {}))


def _step_error(order: int, key: str, message: str) -> ServiceError:
    text = _("第%(n)d个节点：%(msg)s") % {"n": order, "msg": message}
    return ServiceError(text, code="invalid_step", fields={f"steps.{order}.{key}": message})


def _int(order: int, raw: dict, key: str, default, low: int, high: int):
    value = raw.get(key, default)
    if value in (None, ""):
        return default
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise _step_error(order, key, _("请填写整数。")) from None
    if not low <= value <= high:
        raise _step_error(order, key, _("应在%(low)d到%(high)d之间。") % {"low": low, "high": high})
    return value


def _clean_step(order: int, raw: dict, names: set[str] | None) -> dict[str, Any]:
    unknown = set(raw) - STEP_KEYS - {"order", "id"}
    if unknown:
        raise _step_error(order, "name", _("未知的节点属性：%s") % ", ".join(sorted(unknown)))
    name = str(raw.get("name") or "").strip()
    if not name or len(name) > 60:
        raise _step_error(order, "name", _("请填写节点名称（不超过60字）。"))
    kind = raw.get("assignee_kind") or AssigneeKind.POSITION
    if kind not in AssigneeKind.values:
        raise _step_error(order, "assignee_kind", _("审批人类型无效。"))
    step: dict[str, Any] = {"name": name, "assignee_kind": kind}
    for key in BOOL_KEYS:
        step[key] = bool(raw.get(key, False))
    step["due_days"] = _int(order, raw, "due_days", 3, 0, 365)
    step["notice_working_days"] = _int(order, raw, "notice_working_days", 0, 0, 60)
    if step["is_public_notice"] and not step["notice_working_days"]:
        raise _step_error(order, "notice_working_days", _("公示节点须填写公示工作日数。"))
    if kind == AssigneeKind.POSITION:
        step["position_name"] = str(raw.get("position_name") or "").strip()
        if not step["position_name"]:
            raise _step_error(order, "position_name", _("请填写审批岗位名称。"))
        step["unit_depth"] = _int(order, raw, "unit_depth", None, 1, 20)
    else:
        step.update(_clean_named_user(order, raw))
    condition = str(raw.get("skip_condition") or "").strip()
    if condition:
        try:
            known = names if names is not None else assignees.condition_names(condition)
            rules.check_syntax(condition, set(known) | {"fast_track"})
        except rules.RuleError as exc:
            raise _step_error(order, "skip_condition", exc.message) from None
    step["skip_condition"] = condition
    return step


def _clean_named_user(order: int, raw: dict) -> dict[str, Any]:
    user = raw.get("user")
    user_id = getattr(user, "pk", user)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise _step_error(order, "user", _("请选择有效的审批人。"))
    held = Assignment.objects.current().filter(user=user, position__is_active=True)
    position = raw.get("user_position")
    if position in (None, ""):
        posts = list(held.values_list("position_id", flat=True).distinct()[:2])
        if len(posts) != 1:
            raise _step_error(order, "user_position", _("请选择审批人所在的岗位。"))
        position_id = posts[0]
    else:
        position_id = getattr(position, "pk", position)
        if not held.filter(position_id=position_id).exists():
            raise _step_error(order, "user_position", _("审批人当前不在该岗位任职。"))
    return {"user": user, "user_position": Position.objects.get(pk=position_id),
            "position_name": "", "unit_depth": None}


@transaction.atomic
def flow_save(
    *, actor, subject_kind: str, subject_key: str, org_unit: OrgUnit, name: str,
    steps: list[dict], note: str = "", fact_names: set[str] | None = None,
    allow_same_decider: bool = False,
) -> FlowVersion:
    """Publish a new version of the flow for (kind, key, unit); older versions stay as they were
    for the cases that use them. ``fact_names`` (or the subject handler's ``fact_names``) limits
    the names a skip condition may use. ``allow_same_decider`` (the flow's, so its cases in
    flight too): one person may decide several steps of a case."""
    subject = registry.subject_for(subject_kind)  # an unknown kind: NotFound
    perm = subject.flow_permission
    if actor is not None and not access_for(actor).covers_unit(perm, org_unit):
        raise PermissionDenied(_("您无权维护“%(unit)s”的审批流程。") % {"unit": org_unit.name})
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ServiceError(_("请填写流程名称（不超过100字）。"), code="validation_error",
                           fields={"name": _("请填写流程名称（不超过100字）。")})
    if not steps:
        raise ServiceError(_("流程至少需要一个审批节点。"), code="no_steps")
    subject_key = (subject_key or "").strip()
    if fact_names is None:
        fact_names = subject.fact_names(subject_key)
    cleaned = [_clean_step(order, dict(raw), fact_names) for order, raw in enumerate(steps, 1)]
    flow, _created = ApprovalFlow.objects.select_for_update().get_or_create(
        subject_kind=subject_kind, subject_key=subject_key, org_unit=org_unit,
        defaults={"name": name},
    )
    allow_same_decider = bool(allow_same_decider)
    if (flow.name != name or not flow.is_active
            or flow.allow_same_decider != allow_same_decider):
        flow.name, flow.is_active = name, True
        flow.allow_same_decider = allow_same_decider
        flow.save(update_fields=["name", "is_active", "allow_same_decider"])
    last = flow.versions.order_by("-number").values_list("number", flat=True).first() or 0
    flow.versions.filter(is_current=True).update(is_current=False)
    version = FlowVersion.objects.create(
        flow=flow, number=last + 1, is_current=True, note=(note or "")[:200],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    ApprovalStep.objects.bulk_create(
        [ApprovalStep(version=version, order=order, **step)
         for order, step in enumerate(cleaned, 1)]
    )
    audit_record(
        actor=actor, action="approval.flow_save", target=flow, org_unit_path=org_unit.path,
        changes={"version": version.number, "subject_kind": subject_kind,
                 "subject_key": subject_key, "note": version.note,
                 "allow_same_decider": allow_same_decider,
                 "steps": [_step_summary(order, s) for order, s in enumerate(cleaned, 1)]},
    )
    return version


def _step_summary(order: int, step: dict) -> dict:
    who = step["position_name"] if step["assignee_kind"] == AssigneeKind.POSITION else (
        step["user"].get_username())
    return {"order": order, "name": step["name"], "assignee": who,
            "unit_depth": step["unit_depth"], "skip_condition": step["skip_condition"]}


def flow_resolve(*, subject_kind: str, subject_key: str, org_unit: OrgUnit) -> FlowVersion:
    """The current version of the nearest flow up the tree (the unit itself first); at each
    level a flow for this key wins over the unit's general flow (key "")."""
    depth = assignees.unit_depth_of(org_unit)
    prefixes = [org_unit.path[: i * OrgUnit.steplen] for i in range(1, depth + 1)]
    versions = list(
        FlowVersion.objects.filter(
            is_current=True, flow__is_active=True, flow__subject_kind=subject_kind,
            flow__subject_key__in={subject_key or "", ""}, flow__org_unit__path__in=prefixes,
        ).select_related("flow__org_unit")
    )
    if not versions:
        raise ServiceError(
            _("“%(unit)s”及其上级单位都没有配置该事项的审批流程，请联系管理员。")
            % {"unit": org_unit.name},
            code="no_flow",
        )
    return max(versions, key=lambda v: (len(v.flow.org_unit.path), v.flow.subject_key != ""))


def steps_of(version: FlowVersion, *, after: int = 0) -> list[ApprovalStep]:
    return list(
        ApprovalStep.objects.filter(version_id=version.pk if hasattr(version, "pk") else version,
                                order__gt=after)
        .select_related("user", "user_position__org_unit", "version__flow").order_by("order")
    )


def flow_preview(
    *, version: FlowVersion, org_unit: OrgUnit, facts: dict, fast_track: bool = False,
    fast_track_reason: str = "",
) -> list[dict]:
    """Which steps a sample case of ``org_unit`` with ``facts`` would pass through, and who
    would decide each (a missing post is reported, not raised)."""
    facts = plain_facts(facts)
    out = []
    for step in steps_of(version):
        kind, reason, error = skip_reason(step, org_unit=org_unit, facts=facts,
                                          fast_track=fast_track,
                                          fast_track_reason=fast_track_reason)
        found = True
        if step.assignee_kind == AssigneeKind.USER:
            assignee = assignees.user_label(step.user)
            if step.user_position_id:
                assignee = f"{assignee}（{step.user_position}）"
        elif not assignees.step_applies_to(step, org_unit):
            assignee = ""
        else:
            position = assignees.step_position(step, org_unit)
            found = position is not None
            assignee = str(position) if found else _("未找到岗位：%s") % (
                assignees.missing_post_label(step, org_unit))
        out.append({
            "order": step.order, "name": step.name, "will_run": not kind, "skipped": bool(kind),
            "skip_kind": kind, "reason": reason or (
                _("跳过条件无法计算，将正常审批：%s") % error if error else ""),
            "assignee": assignee, "assignee_found": found, "due_days": step.due_days,
            "allow_batch": step.allow_batch, "is_public_notice": step.is_public_notice,
        })
    return out
