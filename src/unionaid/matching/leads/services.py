"""Writes of leads: rules (saved under ``matching.config``, every expression checked), raising
leads after a run or a confirmation, accepting (through the owning domain's public services)
and dismissing (a reason required). Each write is one transaction with its audit event;
raising and accepting twice change nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.archive.models import CloseReason
from unionaid.archive.selectors.records import household_open_record
from unionaid.archive.services.records import record_close, record_enrol
from unionaid.assistance.selectors import item_by_code
from unionaid.assistance.services.applications import application_create_draft, attachment_add
from unionaid.assistance.services.catalog import calculate_amount
from unionaid.audit.services import audit_record
from unionaid.core import crypto, rules
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.matching.leads import facts as factlib
from unionaid.matching.leads.evidence_pdf import evidence_pdf
from unionaid.matching.models import (
    Lead,
    LeadAction,
    LeadRule,
    LeadStatus,
    Match,
    MatchRun,
    MatchStatus,
    ReviewKind,
    SourceKind,
)
from unionaid.matching.models_leads import EVIDENCE_PURPOSE
from unionaid.matching.selectors import CONFIG, MANAGE, VIEW
from unionaid.org.selectors import covers_whole_tree
from unionaid.visits.services.followups import follow_up_create

logger = logging.getLogger(__name__)

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
RAISING = (MatchStatus.MATCHED, MatchStatus.CONFIRMED)
MAX_REASON = 300
BATCH = 1000  # matches per transaction when a run's leads are raised

TARGET_APPLICATION = "assistance.application"
TARGET_FOLLOW_UP = "visits.followup"
TARGET_RECORD = "archive.record"


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(message, code="invalid_rule", fields={field: message})


# -- rules -----------------------------------------------------------------------------------------

def may_edit_rules(actor) -> bool:
    """The lead rules apply to the whole federation: editing them needs ``matching.config``
    over every root unit (a station's config admin maintains the station's sources only)."""
    return covers_whole_tree(user=actor, perm=CONFIG)


def _require_config(actor) -> None:
    if actor is not None and not may_edit_rules(actor):
        raise PermissionDenied(_("线索规则对全系统生效，须由具有全局比对配置权限的管理员维护。"))


def _clean_item(action: str, item_code: str, item_facts, amount_expression: str,
                material: str) -> tuple[str, dict[str, str], str, str]:
    if action != LeadAction.APPLICATION:
        return "", {}, "", ""
    item = item_by_code(item_code)
    if item is None:
        raise _invalid("item_code", _("帮扶项目编码“%(c)s”不存在。") % {"c": item_code})
    if not isinstance(item_facts, dict):
        raise _invalid("item_facts", _("申请事项取值格式不正确。"))
    names = {f["name"]: f for f in item.facts or []}
    clean: dict[str, str] = {}
    for name, expression in item_facts.items():
        if name not in names:
            raise _invalid("item_facts", _("“%(n)s”不是帮扶项目“%(i)s”的申请事项（可用：%(all)s）。") % {
                "n": name, "i": item.name, "all": "、".join(names) or "—"})
        clean[name] = factlib.check(str(expression), field="item_facts",
                                    label=names[name]["label"])
    amount_expression = (amount_expression or "").strip()
    if amount_expression:
        factlib.check(amount_expression, field="amount_expression", label=_("金额表达式"))
    material = (material or "").strip()
    materials = {m["name"] if isinstance(m, dict) else m for m in item.required_materials or []}
    if material and material not in materials:
        raise _invalid("material", _("“%(m)s”不是该项目的所需材料（可选：%(all)s）。") % {
            "m": material, "all": "、".join(sorted(materials)) or "—"})
    return item.code, clean, amount_expression, material


@transaction.atomic
def lead_rule_save(*, actor, code: str, name: str, action: str, condition: str = "True",
                   source_kinds: list[str] | None = None, item_code: str = "",
                   item_facts: dict | None = None, amount_expression: str = "",
                   material: str = "", review_kind: str = "", due_days: int = 14,
                   description: str = "", is_active: bool = True, order: int = 0,
                   rule: LeadRule | None = None) -> LeadRule:
    """Create or change a rule; every expression is checked on sample facts before saving (a
    bad one is refused with a clear message naming it)."""
    _require_config(actor)
    code = (code or "").strip().lower()
    if not CODE_RE.match(code):
        raise _invalid("code", _("编码须为小写字母、数字、短横线或下划线，最长 40 位。"))
    clash = LeadRule.objects.filter(code=code)
    if rule is not None:
        clash = clash.exclude(pk=rule.pk)
    if clash.exists():
        raise Conflict(_("规则编码“%(c)s”已存在。") % {"c": code}, code="duplicate_code")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise _invalid("name", _("请填写规则名称（不超过 100 字）。"))
    if action not in LeadAction.values:
        raise _invalid("action", _("线索类型无效。"))
    kinds = list(dict.fromkeys(source_kinds or []))
    if any(k not in SourceKind.values for k in kinds):
        raise _invalid("source_kinds", _("数据类别无效。"))
    condition = factlib.check(condition or "True", field="condition", label=_("条件"))
    item_code, item_facts, amount_expression, material = _clean_item(
        action, item_code, item_facts or {}, amount_expression, material)
    if action == LeadAction.REVIEW and review_kind not in ReviewKind.values:
        raise _invalid("review_kind", _("请选择复核方式。"))
    if action != LeadAction.REVIEW:
        review_kind = ""
    if not 1 <= int(due_days) <= 365:
        raise _invalid("due_days", _("办理期限应在 1 到 365 天之间。"))
    values = {"code": code, "name": name, "action": action, "condition": condition,
              "source_kinds": kinds, "item_code": item_code, "item_facts": item_facts,
              "amount_expression": amount_expression, "material": material,
              "review_kind": review_kind, "due_days": int(due_days),
              "description": (description or "").strip()[:300], "is_active": bool(is_active),
              "order": int(order or 0)}
    before = {}
    if rule is None:
        rule = LeadRule(**values)
    else:
        rule = LeadRule.objects.select_for_update().get(pk=rule.pk)
        before = {k: getattr(rule, k) for k in values}
        for key, value in values.items():
            setattr(rule, key, value)
    rule.updated_by = actor if getattr(actor, "pk", None) else None
    rule.save()
    audit_record(actor=actor, action="matching.lead_rule_save", target=rule,
                 changes={"before": before, "after": values})
    return rule


# -- raising ---------------------------------------------------------------------------------------

def _evidence_key(rule: LeadRule, match: Match, record_facts: dict) -> str:
    """Rule + list kind + the external person + the facts the rule reads (its condition, amount
    expression and item facts) with the amount and date: the same evidence in a re-import of
    the list gives the same key, whatever other columns (an export date, a remark) changed."""
    person = match.record.person_key or f"m{match.member_id}"
    kind = match.dataset.source.kind
    read = factlib.key_facts(record_facts, [rule.condition, rule.amount_expression,
                                            *(rule.item_facts or {}).values()])
    facts = json.dumps(read, ensure_ascii=False, sort_keys=True)
    return crypto.blind_index(f"{rule.pk}|{kind}|{person}|{facts}", purpose=EVIDENCE_PURPOSE)


def _amount(rule: LeadRule, inputs: dict) -> Decimal | None:
    """The lead's expected amount: the rule's expression, else the item's own standard."""
    try:
        if rule.amount_expression:
            value = Decimal(str(factlib.evaluate(rule.amount_expression, inputs)))
        else:
            item = item_by_code(rule.item_code)
            if item is None:
                return None
            value, _steps = calculate_amount(item=item, facts=_item_facts(rule, inputs))
        return value.quantize(Decimal("0.01"))
    except (ServiceError, InvalidOperation, ValueError, TypeError):
        return None


def _item_facts(rule: LeadRule, inputs: dict) -> dict[str, Any]:
    out = {}
    for name, expression in (rule.item_facts or {}).items():
        value = factlib.evaluate(expression, inputs)
        out[name] = str(value) if isinstance(value, float) else value
    return out


def _evidence(match: Match, record_facts: dict) -> dict:
    record, dataset = match.record, match.dataset
    return {"dataset": dataset.title, "dataset_id": dataset.pk,
            "source": dataset.source.name, "kind": dataset.source.kind,
            "row": record.sheet_row or record.row_no, "sheet": record.sheet, "name": record.name,
            "facts": record_facts, "reason": match.reason, "score": round(match.score, 4),
            "method": match.method}


def _rules_for(kind: str) -> list[LeadRule]:
    return [r for r in LeadRule.objects.filter(is_active=True).order_by("order", "pk")
            if not r.source_kinds or kind in r.source_kinds]


def _leads_for_match(match: Match, rules_: list[LeadRule], member_facts: dict) -> list[Lead]:
    record_facts = factlib.record_values(match.record, kind=match.dataset.source.kind)
    inputs = factlib.rule_inputs(record_facts, member_facts, score=match.score)
    leads = []
    for rule in rules_:
        try:
            if not factlib.evaluate(rule.condition, inputs):
                continue
            amount = _amount(rule, inputs) if rule.action == LeadAction.APPLICATION else None
        except rules.RuleError as exc:
            logger.warning("lead rule %s cannot be evaluated: %s", rule.pk, exc.message)
            continue
        leads.append(Lead(
            rule=rule, member_id=match.member_id, match=match, record=match.record,
            dataset=match.dataset, evidence_key=_evidence_key(rule, match, record_facts),
            evidence=json.dumps(_evidence(match, record_facts), ensure_ascii=False),
            data_at=match.dataset.loaded_at or match.dataset.created_at, amount=amount))
    return leads


def _raise(matches: list[Match], *, actor, origin: dict) -> int:
    """Raise the leads of ``matches`` (confident or confirmed, their record still there);
    a (rule, member, evidence) already raised is left alone. Returns how many are new."""
    matches = [m for m in matches if m.status in RAISING and m.record is not None]
    if not matches:
        return 0
    by_kind: dict[str, list[LeadRule]] = {}
    needs_member: dict[str, bool] = {}
    member_facts: dict[int, dict] = {}
    candidates: list[Lead] = []
    for match in matches:
        kind = match.dataset.source.kind
        if kind not in by_kind:
            by_kind[kind] = _rules_for(kind)
            needs_member[kind] = factlib.needs_member(
                e for r in by_kind[kind]
                for e in (r.condition, r.amount_expression, *r.item_facts.values()))
        if not by_kind[kind]:
            continue
        if match.member_id not in member_facts:
            # what the system knows of the member costs a few queries: read only when a rule
            # of this kind of list asks for it
            member_facts[match.member_id] = (
                factlib.member_values(match.member) if needs_member[kind] else {})
        candidates += _leads_for_match(match, by_kind[kind], member_facts[match.member_id])
    if not candidates:
        return 0
    existing = set(Lead.objects.filter(
        member_id__in={c.member_id for c in candidates},
        evidence_key__in={c.evidence_key for c in candidates},
    ).values_list("rule_id", "member_id", "evidence_key"))
    fresh: dict[tuple, Lead] = {}
    for lead in candidates:
        key = (lead.rule_id, lead.member_id, lead.evidence_key)
        if key not in existing and key not in fresh:
            fresh[key] = lead
    Lead.objects.bulk_create(list(fresh.values()), ignore_conflicts=True)
    if fresh:
        audit_record(actor=actor, action="matching.leads_raise", target_type="matching.lead",
                     changes={**origin, "raised": len(fresh)})
    return len(fresh)


def leads_raise(run: MatchRun) -> int:
    """The leads of a finished run's confident and confirmed matches (called when the run is
    written; safe to call again), ``BATCH`` matches per transaction."""
    run = MatchRun.objects.select_related("dataset__source", "started_by").get(pk=run.pk)
    if not _rules_for(run.dataset.source.kind):
        return 0
    qs = (Match.objects.filter(run=run, status__in=RAISING, record__isnull=False)
          .select_related("record", "member", "dataset__source").order_by("pk"))
    raised, after = 0, 0
    while batch := list(qs.filter(pk__gt=after)[:BATCH]):
        after = batch[-1].pk
        with transaction.atomic():
            raised += _raise(batch, actor=run.started_by,
                             origin={"run": run.pk, "dataset": run.dataset_id})
    return raised


def leads_raise_for_match(match: Match, *, actor=None) -> int:
    """The leads of one match confirmed in review."""
    match = (Match.objects.select_related("record", "member", "dataset__source")
             .get(pk=match.pk))
    with transaction.atomic():
        return _raise([match], actor=actor, origin={"match": match.pk})


def leads_withdraw_for_match(match: Match, *, actor, person_key: str = "") -> int:
    """A match rejected in review (not the same person): the leads it raised that nobody has
    handled yet are dismissed, with that reason, as are those of the same pair elsewhere."""
    q = Q(match=match)
    if person_key:
        q |= Q(member_id=match.member_id, record__person_key=person_key)
    pks = list(Lead.objects.filter(q, status=LeadStatus.RAISED).values_list("pk", flat=True))
    if not pks:
        return 0
    Lead.objects.filter(pk__in=pks).update(
        status=LeadStatus.DISMISSED, dismiss_reason=str(_("复核认定不是同一人")),
        dismissed_by=actor, dismissed_at=timezone.now(), updated_at=timezone.now())
    audit_record(actor=actor, action="matching.leads_withdraw", target_type="matching.lead",
                 changes={"match": match.pk, "leads": pks})
    return len(pks)


def leads_forget_evidence(dataset) -> int:
    """When a list is purged: dismissed leads from it drop their evidence snapshot (nobody
    needs that proof any more; the rule, member, reason and ``evidence_key`` stay, so the same
    evidence is still never raised again). Leads not handled yet keep it until they are; an
    accepted lead's proof lives on in the application, visit or record it started. Inside the
    purge's transaction."""
    return (Lead.objects.filter(dataset=dataset, status=LeadStatus.DISMISSED)
            .exclude(evidence="").update(evidence=""))


# -- accepting and dismissing ----------------------------------------------------------------------

def _require_manage(actor, lead: Lead) -> None:
    access = access_for(actor)
    unit = lead.member.org_unit
    if access.covers_unit(MANAGE, unit):
        return
    if access.covers_unit(VIEW, unit):
        raise PermissionDenied(_("您无权处理该线索。"))
    raise NotFound()


def _lock(lead: Lead) -> Lead:
    return (Lead.objects.select_for_update(of=("self",))
            .select_related("rule", "member__org_unit").get(pk=lead.pk))


def evidence_note(lead: Lead) -> str:
    """The evidence in words: the list, its row and the matched facts (the supporting document
    the accepted application, visit or review carries)."""
    data = lead.evidence_data
    facts = data.get("facts") or {}
    shown = []
    for name in ("amount", "date", "school", "education_level", "event", "homes"):
        value = facts.get(name)
        if value not in (None, "", 0, 0.0):
            shown.append(f"{factlib.RECORD_FACTS[name]}：{value}")
    shown += [f"{k}：{v}" for k, v in (facts.get("extra") or {}).items()][:8]
    where = _("第 %(row)s 行") % {"row": data.get("row", "?")}
    if data.get("sheet"):
        where = f"{data['sheet']} {where}"
    note = _("数据比对佐证（线索 #%(n)s）：《%(list)s》（%(source)s）%(where)s；%(facts)s；"
             "比对依据：%(reason)s（得分 %(score)s）。") % {
        "n": lead.pk, "list": data.get("dataset", ""), "source": data.get("source", ""),
        "where": where, "facts": "，".join(shown) or "—", "reason": data.get("reason", ""),
        "score": data.get("score", "")}
    if lead.rule.material:
        note += _("该记录作为“%(m)s”的佐证，职工无需另行提供。") % {"m": lead.rule.material}
    return note


def _inputs(lead: Lead) -> dict:
    data = lead.evidence_data
    return factlib.rule_inputs(data.get("facts") or {}, factlib.member_values(lead.member),
                               score=float(data.get("score") or 0))


def _accept_application(*, actor, lead: Lead, note: str) -> tuple[str, int]:
    item = item_by_code(lead.rule.item_code)
    if item is None:
        raise Conflict(_("线索规则所指的帮扶项目“%(c)s”已不存在。") % {"c": lead.rule.item_code},
                       code="item_missing")
    try:
        facts = _item_facts(lead.rule, _inputs(lead))
    except rules.RuleError as exc:
        raise Conflict(exc.message, code="invalid_rule") from None
    application = application_create_draft(actor=actor, member=lead.member, item=item,
                                           facts=facts, reason=note)
    materials = {m["name"] if isinstance(m, dict) else m for m in item.required_materials or []}
    if lead.rule.material and lead.rule.material in materials:
        attachment_add(actor=actor, application=application, material=lead.rule.material,
                       uploaded_file=_evidence_file(lead, actor))
    return TARGET_APPLICATION, application.pk


def _evidence_file(lead: Lead, actor) -> SimpleUploadedFile:
    """The evidence as a PDF (数据比对核验单) standing for the rule's material."""
    member = lead.member
    lines = [
        _("线索编号：%(n)s（%(rule)s）") % {"n": lead.pk, "rule": lead.rule.name},
        _("职工：%(name)s（%(id)s，%(unit)s）") % {
            "name": member.name, "id": member.id_number_masked, "unit": member.org_unit.name},
        evidence_note(lead),
        _("本核验单由系统根据外部数据比对结果生成，代替“%(m)s”。") % {"m": lead.rule.material},
        _("采纳人：%(who)s　生成时间：%(at)s") % {
            "who": getattr(actor, "display_name", "") or str(actor),
            "at": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
    ]
    data = evidence_pdf(str(_("数据比对核验单")), lines)
    return SimpleUploadedFile(f"lead-{lead.pk}-evidence.pdf", data,
                              content_type="application/pdf")


def _due(lead: Lead, due_on: dt.date | None) -> dt.date:
    return due_on or timezone.localdate() + dt.timedelta(days=lead.rule.due_days)


def _accept_visit(*, actor, lead: Lead, note: str, owner, due_on) -> tuple[str, int]:
    title = _("入户走访（线索 #%(n)s：%(rule)s）") % {"n": lead.pk, "rule": lead.rule.name}
    follow_up = follow_up_create(actor=actor, member=lead.member, title=title[:200],
                                 owner=owner or actor, due_on=_due(lead, due_on))
    return TARGET_FOLLOW_UP, follow_up.pk


def _accept_enrolment(*, actor, lead: Lead, note: str) -> tuple[str, int]:
    record = record_enrol(actor=actor, member=lead.member, reason=note)
    return TARGET_RECORD, record.pk


def _accept_review(*, actor, lead: Lead, note: str, owner, due_on) -> tuple[str, int]:
    record = household_open_record(member=lead.member)
    if record is None:
        raise Conflict(_("该职工家庭没有在档的困难职工档案，无需复核。"), code="no_record")
    if lead.rule.review_kind == ReviewKind.CLOSE:
        if record.member_id != lead.member_id:
            raise Conflict(_("档案由其他家庭成员持有，请核实后在其档案中处理。"),
                           code="record_of_other")
        on = None
        date = str((lead.evidence_data.get("facts") or {}).get("date") or "")
        try:
            on = dt.date.fromisoformat(date) if date else None
        except ValueError:
            on = None
        if on is not None and on > timezone.localdate():
            on = None
        record = record_close(actor=actor, record=record, reason=CloseReason.DEATH, on=on,
                              note=note)
        return TARGET_RECORD, record.pk
    title = _("档案复核（线索 #%(n)s：%(rule)s）") % {"n": lead.pk, "rule": lead.rule.name}
    follow_up = follow_up_create(actor=actor, member=record.member, title=title[:200],
                                 owner=owner or actor, due_on=_due(lead, due_on),
                                 hardship_record=record)
    return TARGET_FOLLOW_UP, follow_up.pk


@transaction.atomic
def lead_accept(*, actor, lead: Lead, owner=None, due_on: dt.date | None = None) -> Lead:
    """Accept a lead: start, through the owning domain's services (which check their own
    rights), a pre-filled application, visit, enrolment or review that carries the evidence.
    Accepting an accepted lead returns it unchanged; a dismissed one is a conflict."""
    lead = _lock(lead)
    _require_manage(actor, lead)
    if lead.status == LeadStatus.ACCEPTED:
        return lead
    if lead.status == LeadStatus.DISMISSED:
        raise Conflict(_("该线索已排除，不能再采纳。"), code="lead_dismissed")
    note = evidence_note(lead)
    action = lead.rule.action
    if action == LeadAction.APPLICATION:
        kind, pk = _accept_application(actor=actor, lead=lead, note=note)
    elif action == LeadAction.VISIT:
        kind, pk = _accept_visit(actor=actor, lead=lead, note=note, owner=owner, due_on=due_on)
    elif action == LeadAction.ENROLMENT:
        kind, pk = _accept_enrolment(actor=actor, lead=lead, note=note)
    else:
        kind, pk = _accept_review(actor=actor, lead=lead, note=note, owner=owner, due_on=due_on)
    lead.status, lead.accepted_by, lead.accepted_at = LeadStatus.ACCEPTED, actor, timezone.now()
    lead.target_kind, lead.target_id = kind, pk
    lead.save(update_fields=["status", "accepted_by", "accepted_at", "target_kind", "target_id",
                             "updated_at"])
    audit_record(actor=actor, action="matching.lead_accept", target=lead,
                 org_unit_path=lead.member.org_unit.path,
                 changes={"member": lead.member_id, "rule": lead.rule_id, "action": action,
                          "target_kind": kind, "target_id": pk})
    return lead


@transaction.atomic
def lead_dismiss(*, actor, lead: Lead, reason: str) -> Lead:
    """Dismiss a lead with its reason (required). Dismissing a dismissed lead again changes
    nothing; an accepted one is a conflict. The journal keeps the reason's length."""
    lead = _lock(lead)
    _require_manage(actor, lead)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("请填写排除原因。"), code="validation_error",
                           fields={"reason": _("请填写排除原因。")})
    if lead.status == LeadStatus.DISMISSED:
        return lead
    if lead.status == LeadStatus.ACCEPTED:
        raise Conflict(_("该线索已采纳，不能排除。"), code="lead_accepted")
    lead.status, lead.dismiss_reason = LeadStatus.DISMISSED, reason[:MAX_REASON]
    lead.dismissed_by, lead.dismissed_at = actor, timezone.now()
    lead.save(update_fields=["status", "dismiss_reason", "dismissed_by", "dismissed_at",
                             "updated_at"])
    audit_record(actor=actor, action="matching.lead_dismiss", target=lead,
                 org_unit_path=lead.member.org_unit.path,
                 changes={"member": lead.member_id, "rule": lead.rule_id,
                          "reason_chars": len(reason)})
    return lead
