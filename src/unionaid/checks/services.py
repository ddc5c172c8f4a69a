"""Writes of the auditor's checks: running the registered checks, explaining and reopening a
finding, drawing a sample of cases and recording a review's outcome. Each journals itself.

Rights: ``checks.view`` to run the checks over one's own scope (a run only re-reads data);
``checks.review`` to explain a finding, reopen it, draw a sample and record outcomes. The
finding, sample or case is reached through the scoped getters (``checks.selectors``) first.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.audit.services import audit_record
from unionaid.checks import registry
from unionaid.checks.models import (
    CheckRun,
    Finding,
    FindingNote,
    FindingStatus,
    NoteKind,
    ReviewOutcome,
    Sample,
    SampledCase,
    SampleRule,
)
from unionaid.checks.selectors import scope_paths
from unionaid.core.access import access_for
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.org.models import OrgUnit

TEXT_MAX = 2000
SAMPLE_MAX = 500  # cases in one sample; narrow the rule for more
CHUNK = 500  # fingerprints or ids in one IN (…): SQLite limits a statement's parameters


def _require(actor, perm: str) -> None:
    if not access_for(actor).has_perm(perm):
        raise PermissionDenied()


# -- running the checks ---------------------------------------------------------------------

@dataclass(frozen=True)
class RunResult:
    key: str
    found: int
    new: int
    resolved: int


def _units_by_path(paths: set[str]) -> dict[str, int]:
    paths_list = sorted(paths)
    return {path: pk for start in range(0, len(paths_list), CHUNK)
            for path, pk in OrgUnit.objects.filter(path__in=paths_list[start:start + CHUNK])
            .values_list("path", "pk")}


def _in_paths_q(paths: list[str] | None):
    if paths is None:
        return Q()
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(org_unit__path__startswith=path)
    return q


@transaction.atomic
def _store(check: registry.Check, found: list[registry.Found], *, paths, now) -> RunResult:
    by_fp: dict[str, registry.Found] = {}
    for item in found:
        by_fp.setdefault(item.fingerprint[:128], item)
    units = _units_by_path({f.unit_path for f in by_fp.values()})
    fingerprints = list(by_fp)
    existing = {f.fingerprint: f
                for start in range(0, len(fingerprints), CHUNK)
                for f in Finding.objects.select_for_update().filter(
                    check_key=check.key, fingerprint__in=fingerprints[start:start + CHUNK])}
    new = 0
    for fp, item in by_fp.items():
        unit_id = units.get(item.unit_path)
        if unit_id is None:  # a unit the tree no longer has: nothing to file it under
            continue
        fields = {"org_unit_id": unit_id, "member_id": item.member_id,
                  "summary": item.summary[:300], "amount": item.amount,
                  "evidence": item.evidence,
                  "records": [r.as_json() for r in item.records], "last_seen_at": now}
        finding = existing.get(fp)
        if finding is None:
            Finding.objects.create(check_key=check.key, fingerprint=fp, first_seen_at=now,
                                   **fields)
            new += 1
            continue
        for name, value in fields.items():
            setattr(finding, name, value)
        if finding.status == FindingStatus.RESOLVED:  # found again: back, with its explanation
            finding.status = (FindingStatus.EXPLAINED if finding.explained_at
                              else FindingStatus.OPEN)
            finding.resolved_at = None
        finding.save(update_fields=[*fields, "status", "resolved_at"])
    stale = [pk for pk, fp in Finding.objects
             .filter(_in_paths_q(paths), check_key=check.key,
                     status__in=[FindingStatus.OPEN, FindingStatus.EXPLAINED])
             .values_list("pk", "fingerprint") if fp not in by_fp]
    resolved = sum(Finding.objects.filter(pk__in=stale[start:start + CHUNK])
                   .update(status=FindingStatus.RESOLVED, resolved_at=now)
                   for start in range(0, len(stale), CHUNK))
    return RunResult(key=check.key, found=len(by_fp), new=new, resolved=resolved)


def checks_run(*, actor, keys: list[str] | None = None, now: dt.datetime | None = None,
               ) -> list[RunResult]:
    """Run the registered checks (``keys``, or all) over ``actor``'s ``checks.view`` scope
    (``actor`` None: the scheduler, the whole tree). New findings are stored, findings found
    again are updated (an explained one stays explained), and those no longer found in the
    scope are marked resolved. Journaled (``checks.run``, counts only)."""
    now = now or timezone.now()
    if actor is not None:
        _require(actor, "checks.view")
        paths = scope_paths(user=actor, perm="checks.view")
    else:
        paths = None
    chosen = registry.checks() if keys is None else [registry.check_or_none(k) for k in keys]
    if any(c is None for c in chosen):
        raise NotFound()
    results = []
    for check in chosen:
        found = [f for f in check.find(paths=paths, now=now)
                 if registry.within(f.unit_path, paths)]
        result = _store(check, found, paths=paths, now=now)
        finished = timezone.now()
        with transaction.atomic():
            CheckRun.objects.create(check_key=check.key, scope_path=",".join(paths or [])[:255],
                                    started_at=now, finished_at=finished, run_by=actor,
                                    found=result.found, new=result.new,
                                    resolved=result.resolved)
            audit_record(actor=actor, action="checks.run", target_type="checks.check",
                         target_id=check.key, target_label=str(check.label)[:200],
                         org_unit_path=(paths[0] if paths and len(paths) == 1 else ""),
                         changes={"found": result.found, "new": result.new,
                                  "resolved": result.resolved})
        results.append(result)
    return results


# -- explanations ---------------------------------------------------------------------------

def _clean_text(text: str, *, field: str, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        message = _("请填写说明。")
        raise ServiceError(message, code="validation_error", fields={field: message})
    if len(text) > TEXT_MAX:
        message = _("说明不能超过 %(n)d 字。") % {"n": TEXT_MAX}
        raise ServiceError(message, code="validation_error", fields={field: message})
    return text


@transaction.atomic
def finding_explain(*, actor, finding: Finding, text: str) -> Finding:
    """Mark ``finding`` explained with ``text`` (kept with who and when, journaled). A resolved
    finding may be explained too (for the record); its status stays resolved."""
    _require(actor, "checks.review")
    text = _clean_text(text, field="text", required=True)
    finding = Finding.objects.select_for_update().select_related("org_unit").get(pk=finding.pk)
    now = timezone.now()
    finding.explanation, finding.explained_at, finding.explained_by = text, now, actor
    if finding.status == FindingStatus.OPEN:
        finding.status = FindingStatus.EXPLAINED
    finding.save(update_fields=["explanation", "explained_at", "explained_by", "status"])
    FindingNote.objects.create(finding=finding, kind=NoteKind.EXPLAIN, text=text,
                               created_at=now, created_by=actor)
    audit_record(actor=actor, action="checks.finding_explain", target=finding,
                 org_unit_path=finding.org_unit.path,
                 changes={"check": finding.check_key, "text": text})
    return finding


@transaction.atomic
def finding_reopen(*, actor, finding: Finding, text: str = "") -> Finding:
    """Take an explanation back: the finding is open again (if a run still finds it); the
    explanation stays in its notes. Journaled."""
    _require(actor, "checks.review")
    text = _clean_text(text, field="text", required=False)
    finding = Finding.objects.select_for_update().select_related("org_unit").get(pk=finding.pk)
    if finding.explained_at is None:
        raise Conflict(_("该疑点尚未说明，无需重新打开。"), code="not_explained")
    now = timezone.now()
    finding.explanation, finding.explained_at, finding.explained_by = "", None, None
    if finding.status == FindingStatus.EXPLAINED:
        finding.status = FindingStatus.OPEN
    finding.save(update_fields=["explanation", "explained_at", "explained_by", "status"])
    FindingNote.objects.create(finding=finding, kind=NoteKind.REOPEN, text=text,
                               created_at=now, created_by=actor)
    audit_record(actor=actor, action="checks.finding_reopen", target=finding,
                 org_unit_path=finding.org_unit.path,
                 changes={"check": finding.check_key, "text": text})
    return finding


# -- sampling -------------------------------------------------------------------------------

def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(message, code="validation_error", fields={field: message})


def _clean_params(rule: str, params: dict, population: registry.Population) -> dict:
    """The rule's parameters, checked: ``percent`` (random, 1–100), ``min_amount``
    (above_amount, > 0), ``item`` (item, a code the population knows); ``date_from`` and
    ``date_to`` (the payment period, both optional, as ISO dates)."""
    cleaned: dict = {}
    for key in ("date_from", "date_to"):
        value = params.get(key)
        if value in (None, ""):
            continue
        try:
            cleaned[key] = (value if isinstance(value, dt.date)
                            else dt.date.fromisoformat(str(value))).isoformat()
        except ValueError:
            raise _invalid(key, _("日期格式不正确。")) from None
    if cleaned.get("date_from") and cleaned.get("date_to") and \
            cleaned["date_from"] > cleaned["date_to"]:
        raise _invalid("date_to", _("结束日期不能早于开始日期。"))
    if rule == SampleRule.RANDOM:
        try:
            percent = Decimal(str(params.get("percent")))
        except (InvalidOperation, ValueError):
            percent = Decimal(0)
        if not Decimal(0) < percent <= Decimal(100):
            raise _invalid("percent", _("抽取比例应在 0 到 100 之间。"))
        cleaned["percent"] = str(percent)
    elif rule == SampleRule.ABOVE_AMOUNT:
        try:
            amount = Decimal(str(params.get("min_amount")))
        except (InvalidOperation, ValueError):
            amount = Decimal(0)
        if amount <= 0:
            raise _invalid("min_amount", _("请填写大于 0 的金额。"))
        cleaned["min_amount"] = str(amount)
    elif rule == SampleRule.ITEM:
        item = str(params.get("item") or "")
        if item not in dict(population.items()):
            raise _invalid("item", _("请选择帮扶项目。"))
        cleaned["item"] = item
    else:
        raise _invalid("rule", _("不支持的抽取规则。"))
    return cleaned


def draw(cases: list[registry.Case], *, rule: str, params: dict, seed: int,
         ) -> list[registry.Case]:
    """The cases a rule draws from ``cases`` (already narrowed to the rule's conditions):
    all of them, or for a random rule ``ceil(n × percent / 100)`` chosen with ``seed`` (the same
    seed and cases give the same draw); in the cases' order."""
    if rule != SampleRule.RANDOM or not cases:
        return list(cases)
    size = min(len(cases), math.ceil(len(cases) * Decimal(params["percent"]) / 100))
    chosen = set(random.Random(seed).sample(range(len(cases)), size))  # noqa: S311 -- a draw
    return [case for i, case in enumerate(cases) if i in chosen]


def sample_draw(*, actor, population: str, rule: str, unit: OrgUnit, params: dict,
                seed: int | None = None) -> Sample:
    """Draw a sample of ``population``'s cases in ``unit``'s subtree (which ``actor`` must cover
    with ``checks.review``) by ``rule``; the seed (given, or a new random one) is kept so the
    draw can be repeated. Every case gets ``actor`` as reviewer, outcome pending. Journaled."""
    _require(actor, "checks.review")
    found = registry.population_or_none(population)
    if found is None:
        raise NotFound()
    if not access_for(actor).covers_unit("checks.review", unit):
        raise NotFound()
    cleaned = _clean_params(rule, params, found)
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    cases = found.cases(
        paths=[unit.path],
        date_from=dt.date.fromisoformat(cleaned["date_from"]) if "date_from" in cleaned else None,
        date_to=dt.date.fromisoformat(cleaned["date_to"]) if "date_to" in cleaned else None,
        min_amount=Decimal(cleaned["min_amount"]) if "min_amount" in cleaned else None,
        item=cleaned.get("item"))
    cases = [c for c in cases if c.unit_path.startswith(unit.path)]
    chosen = draw(cases, rule=rule, params=cleaned, seed=seed)
    if not chosen:
        raise ServiceError(_("没有符合条件的案例。"), code="empty_sample")
    if len(chosen) > SAMPLE_MAX:
        raise ServiceError(_("符合条件的案例超过 %(n)d 件，请缩小范围。") % {"n": SAMPLE_MAX},
                           code="sample_too_large")
    units = _units_by_path({c.unit_path for c in chosen})
    with transaction.atomic():
        sample = Sample.objects.create(population=population, rule=rule, params=cleaned,
                                       seed=seed, org_unit=unit, drawn_at=timezone.now(),
                                       drawn_by=actor, population_size=len(cases))
        SampledCase.objects.bulk_create([
            SampledCase(sample=sample, subject_kind=c.subject_kind, subject_id=c.subject_id,
                        org_unit_id=units[c.unit_path], member_id=c.member_id,
                        label=c.label[:200], amount=c.amount, url=c.url[:200], reviewer=actor)
            for c in chosen if c.unit_path in units])
        audit_record(actor=actor, action="checks.sample_draw", target=sample,
                     org_unit_path=unit.path,
                     changes={"population": population, "rule": rule, "params": cleaned,
                              "seed": seed, "population_size": len(cases),
                              "drawn": len(chosen)})
    return sample


@transaction.atomic
def sampled_case_review(*, actor, case: SampledCase, outcome: str, note: str = "",
                        ) -> SampledCase:
    """Record the review of one sampled case: ``outcome`` ok or issue, a note (required for an
    issue); the reviewer becomes ``actor``. A later review replaces it; each is journaled."""
    _require(actor, "checks.review")
    if outcome not in (ReviewOutcome.OK, ReviewOutcome.ISSUE):
        raise _invalid("outcome", _("请选择审查结果。"))
    note = _clean_text(note, field="note", required=outcome == ReviewOutcome.ISSUE)
    case = SampledCase.objects.select_for_update().select_related("org_unit").get(pk=case.pk)
    before = {"outcome": case.outcome, "note": case.note}
    case.outcome, case.note, case.reviewer, case.reviewed_at = (outcome, note, actor,
                                                                timezone.now())
    case.save(update_fields=["outcome", "note", "reviewer", "reviewed_at"])
    audit_record(actor=actor, action="checks.case_review", target=case,
                 target_label=f"样本{case.sample_id} · {case.subject_kind}#{case.subject_id}",
                 org_unit_path=case.org_unit.path,
                 changes={"before": before, "after": {"outcome": outcome, "note": note}})
    return case
