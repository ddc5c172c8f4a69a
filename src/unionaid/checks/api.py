"""/api/v1/checks: the auditor's checks, in the same scope as the pages (``checks.view``).

``GET /checks`` the registered checks with their open / explained / resolved counts;
``POST /checks/run`` runs them (or ``{"key": …}``) over the caller's scope;
``GET /checks/{key}/findings?status=`` a check's findings; ``GET /findings/{id}`` one finding
(its read journaled); ``POST /findings/{id}/explain`` and ``/reopen`` (``checks.review``);
``GET /populations`` what samples may draw from, ``GET /samples``, ``POST /samples`` (draw), ``GET /samples/{id}`` with its cases,
``POST /cases/{id}/review``. Without ``checks.view``: 403 ``permission_denied``; a finding,
sample or case outside the scope, or an unknown check: 404 ``not_found``; bad input: 422
``validation_error``; reopening an unexplained finding: 409 ``not_explained``; a rule that
draws nothing: 400 ``empty_sample``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Router, Schema, Status

from unionaid.checks import registry, selectors, services
from unionaid.checks.models import FindingStatus, ReviewOutcome, SampleRule
from unionaid.core.access import access_for
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema
from unionaid.core.errors import PermissionDenied
from unionaid.org.selectors import unit_get_for_user

router = Router(tags=["checks"])
LIST_MAX = 200


def _viewer(request):
    if not access_for(request.auth).has_perm(selectors.VIEW):
        raise PermissionDenied()
    return request.auth


# -- GET /checks --------------------------------------------------------------------------------

class CheckOut(Schema):
    key: str
    label: str
    description: str
    open: int
    explained: int
    resolved: int
    last_run_at: dt.datetime | None


@router.get("", response={200: list[CheckOut], 401: ErrorOut, 403: ErrorOut},
            summary="核查规则及疑点数（本人查看范围内）")
def check_list(request):
    return [{"key": s.check.key, "label": str(s.check.label),
             "description": str(s.check.description), "open": s.open,
             "explained": s.explained, "resolved": s.resolved,
             "last_run_at": s.last_run.finished_at if s.last_run else None}
            for s in selectors.checks_overview(user=_viewer(request))]


# -- POST /checks/run ---------------------------------------------------------------------------

class RunIn(InputSchema):
    key: str | None = Field(None, max_length=60, description="只运行这一项；不填则全部")


class RunOut(Schema):
    key: str
    found: int
    new: int
    resolved: int


@router.post("/run", response={200: list[RunOut], **WRITE_ERRORS},
             summary="立即在本人查看范围内运行核查")
def check_run(request, payload: RunIn):
    results = services.checks_run(actor=_viewer(request),
                                  keys=[payload.key] if payload.key else None)
    return [{"key": r.key, "found": r.found, "new": r.new, "resolved": r.resolved}
            for r in results]


# -- findings -----------------------------------------------------------------------------------

class RecordOut(Schema):
    kind: str
    id: int | str
    label: str
    url: str


class FindingRowOut(Schema):
    id: int
    check_key: str
    org_unit_id: int
    org_unit_name: str
    summary: str
    amount: Decimal | None
    status: FindingStatus
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None


def _row(f) -> dict:
    return {"id": f.pk, "check_key": f.check_key, "org_unit_id": f.org_unit_id,
            "org_unit_name": f.org_unit.name, "summary": f.summary, "amount": f.amount,
            "status": f.status, "first_seen_at": f.first_seen_at,
            "last_seen_at": f.last_seen_at, "resolved_at": f.resolved_at}


@router.get("/{key}/findings", response={200: list[FindingRowOut], 403: ErrorOut, **READ_ERRORS},
            summary="某一核查规则的疑点（金额大者在前，最多 200 条）")
def finding_list(request, key: str, status: FindingStatus | None = None):
    findings = selectors.check_findings(user=_viewer(request), key=key, status=status or "")
    return [_row(f) for f in findings[:LIST_MAX]]


class NoteOut(Schema):
    kind: str
    text: str
    created_at: dt.datetime
    created_by: str


class FindingOut(FindingRowOut):
    evidence: dict
    records: list[RecordOut]
    explanation: str
    explained_at: dt.datetime | None
    explained_by: str | None
    notes: list[NoteOut]


def _finding(f) -> dict:
    return {**_row(f), "evidence": f.evidence,
            "records": [{"kind": r.get("kind", ""), "id": r.get("id", ""),
                         "label": r.get("label", ""), "url": r.get("url", "")}
                        for r in f.records],
            "explanation": f.explanation, "explained_at": f.explained_at,
            "explained_by": f.explained_by.display_name if f.explained_by else None,
            "notes": [{"kind": n.kind, "text": n.text, "created_at": n.created_at,
                       "created_by": n.created_by.display_name} for n in f.notes.all()]}


@router.get("/findings/{finding_id}", response={200: FindingOut, 403: ErrorOut, **READ_ERRORS},
            summary="疑点详情（依据、相关记录、说明；查看记入日志）")
def finding_detail(request, finding_id: int):
    return _finding(selectors.finding_get_for_user(user=_viewer(request), pk=finding_id))


class ExplainIn(InputSchema):
    text: str = Field(..., max_length=services.TEXT_MAX, description="核实情况与依据")


@router.post("/findings/{finding_id}/explain", response={200: FindingOut, **WRITE_ERRORS},
             summary="将疑点标记为已说明")
def finding_explain(request, finding_id: int, payload: ExplainIn):
    user = _viewer(request)
    finding = selectors.finding_get_for_user(user=user, pk=finding_id)
    services.finding_explain(actor=user, finding=finding, text=payload.text)
    return _finding(selectors.finding_get_for_user(user=user, pk=finding_id))


class ReopenIn(InputSchema):
    text: str = Field("", max_length=services.TEXT_MAX, description="重新打开的原因")


@router.post("/findings/{finding_id}/reopen", response={200: FindingOut, **WRITE_ERRORS},
             summary="撤回说明，重新打开疑点")
def finding_reopen(request, finding_id: int, payload: ReopenIn):
    user = _viewer(request)
    finding = selectors.finding_get_for_user(user=user, pk=finding_id)
    services.finding_reopen(actor=user, finding=finding, text=payload.text)
    return _finding(selectors.finding_get_for_user(user=user, pk=finding_id))


# -- samples ------------------------------------------------------------------------------------

class SampleRowOut(Schema):
    id: int
    population: str
    rule: SampleRule
    params: dict
    seed: int
    org_unit_id: int
    drawn_at: dt.datetime
    drawn_by: str
    population_size: int


def _sample(s) -> dict:
    return {"id": s.pk, "population": s.population, "rule": s.rule, "params": s.params,
            "seed": s.seed, "org_unit_id": s.org_unit_id, "drawn_at": s.drawn_at,
            "drawn_by": s.drawn_by.display_name, "population_size": s.population_size}


@router.get("/samples", response={200: list[SampleRowOut], 401: ErrorOut, 403: ErrorOut},
            summary="抽查样本（最近 200 个）")
def sample_list(request):
    return [_sample(s) for s in selectors.samples_visible_to(user=_viewer(request))[:LIST_MAX]]


class ItemOut(Schema):
    code: str
    name: str


class PopulationOut(Schema):
    key: str
    label: str
    items: list[ItemOut]


@router.get("/populations", response={200: list[PopulationOut], 401: ErrorOut, 403: ErrorOut},
            summary="可抽查的案例来源及其项目")
def population_list(request):
    _viewer(request)
    return [{"key": p.key, "label": str(p.label),
             "items": [{"code": code, "name": name} for code, name in p.items()]}
            for p in registry.populations()]


class SampleIn(InputSchema):
    population: str = Field(..., max_length=60, description="案例来源（已登记的来源键）")
    rule: SampleRule
    org_unit_id: int
    percent: Decimal | None = Field(None, description="随机抽取的比例（0–100）")
    min_amount: Decimal | None = Field(None, description="金额不低于")
    item: str | None = Field(None, max_length=40, description="帮扶项目编码")
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    seed: int | None = Field(None, ge=0, le=2**62, description="随机种子；不填则自动生成")


class CaseOut(Schema):
    id: int
    subject_kind: str
    subject_id: int
    org_unit_id: int
    label: str
    amount: Decimal | None
    url: str
    reviewer: str | None
    outcome: ReviewOutcome
    note: str
    reviewed_at: dt.datetime | None


class SampleOut(SampleRowOut):
    cases: list[CaseOut]


def _case(c) -> dict:
    return {"id": c.pk, "subject_kind": c.subject_kind, "subject_id": c.subject_id,
            "org_unit_id": c.org_unit_id, "label": c.label, "amount": c.amount, "url": c.url,
            "reviewer": c.reviewer.display_name if c.reviewer else None,
            "outcome": c.outcome, "note": c.note, "reviewed_at": c.reviewed_at}


def _sample_full(user, sample) -> dict:
    return {**_sample(sample),
            "cases": [_case(c) for c in selectors.sample_cases(user=user, sample=sample)]}


@router.post("/samples", response={201: SampleOut, **WRITE_ERRORS}, summary="抽取样本")
def sample_draw(request, payload: SampleIn):
    user = _viewer(request)
    unit = unit_get_for_user(user=user, pk=payload.org_unit_id, perm="checks.review")
    params = {k: v for k, v in payload.dict().items()
              if k in ("percent", "min_amount", "item", "date_from", "date_to") and v is not None}
    sample = services.sample_draw(actor=user, population=payload.population, rule=payload.rule,
                                  unit=unit, params=params, seed=payload.seed)
    return Status(201, _sample_full(user, selectors.sample_get_for_user(user=user, pk=sample.pk)))


@router.get("/samples/{sample_id}", response={200: SampleOut, 403: ErrorOut, **READ_ERRORS},
            summary="样本及其案例（本人查看范围内）")
def sample_detail(request, sample_id: int):
    user = _viewer(request)
    return _sample_full(user, selectors.sample_get_for_user(user=user, pk=sample_id))


class ReviewIn(InputSchema):
    outcome: ReviewOutcome
    note: str = Field("", max_length=services.TEXT_MAX)


@router.post("/cases/{case_id}/review", response={200: CaseOut, **WRITE_ERRORS},
             summary="记录抽查案例的审查结果")
def case_review(request, case_id: int, payload: ReviewIn):
    user = _viewer(request)
    case = selectors.sampled_case_get_for_user(user=user, pk=case_id)
    case = services.sampled_case_review(actor=user, case=case, outcome=payload.outcome,
                                        note=payload.note)
    return _case(case)
