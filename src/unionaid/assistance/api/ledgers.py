"""/api/v1/assistance/ledgers/export: the funds ledgers as .xlsx, as on the page — the payment
ledger (``payments``, 帮扶资金发放台账) or the budget execution ledger (``budgets``, 预算执行台账) for
the caller's funds.view scope (inside ``unit_id``) and a period. Large ones: ``POST
/api/v1/exports`` with kind ``payment_ledger`` or ``budget_ledger`` runs them in the background.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import FileResponse
from ninja import Field, Query, Router

from unionaid.assistance.ledgers.budget_ledger import export_budget_ledger
from unionaid.assistance.ledgers.payment_ledger import PERM, export_payment_ledger
from unionaid.core.api.schemas import READ_ERRORS, ErrorOut, QuerySchema
from unionaid.org.selectors import unit_get_for_user

router = Router(tags=["assistance"])


class FundsLedgerQuery(QuerySchema):
    kind: Literal["payments", "budgets"] = Field(
        ..., description="payments 帮扶资金发放台账；budgets 预算执行台账（期间须在同一年度内）")
    start: dt.date
    end: dt.date
    unit_id: int | None = Field(None, description="该单位及其下级；不填为管辖范围内全部")
    reveal: bool = Field(False, description="发放台账：导出完整身份证号和银行账号（须有查看权限，记入审计）")


@router.get("/ledgers/export", response={200: None, **READ_ERRORS, 400: ErrorOut, 403: ErrorOut,
                                         422: ErrorOut},
            summary="导出资金台账 .xlsx（帮扶资金发放台账 payments / 预算执行台账 budgets）",
            openapi_extra={"responses": {200: {"description": "xlsx 文件", "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}}})
def funds_ledger_export(request, filters: Query[FundsLedgerQuery]):
    user = request.auth
    unit = (unit_get_for_user(user=user, pk=filters.unit_id, perm=PERM)
            if filters.unit_id is not None else None)
    if filters.kind == "payments":
        result = export_payment_ledger(actor=user, unit=unit, start=filters.start,
                                       end=filters.end, reveal=filters.reveal)
    else:
        result = export_budget_ledger(actor=user, unit=unit, start=filters.start,
                                      end=filters.end)
    handle = result.path.open("rb")
    result.path.unlink()
    response = FileResponse(handle, as_attachment=True, filename=result.download_name)
    response["Cache-Control"] = "no-store"
    response["X-Row-Count"] = str(result.count)
    return response
