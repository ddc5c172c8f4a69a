"""The funds engine's subject for assistance applications (disbursement kind
"assistance.application"): what happens to the application at each money event
(``services.outcomes``), and what the auditor's payment trace shows about it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from unionaid.approvals.selectors import case_timeline
from unionaid.assistance.models import Application
from unionaid.assistance.services import outcomes
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.funds.subjects import DisbursementSubject, TraceSummary


def _name(user) -> str:
    return user.display_name if user is not None else ""


def _api(app: Application) -> dict:
    return {"id": app.pk, "item_code": app.item.code, "item_name": app.item.name,
            "category_name": app.item.category.name, "period": app.period,
            "status": app.status, "amount": app.amount, "calculation": app.calculation,
            "on_behalf": app.on_behalf, "filed_by": _name(app.filed_by),
            "fast_track": app.fast_track, "fast_track_reason": app.fast_track_reason,
            "created_at": app.created_at, "submitted_at": app.submitted_at,
            "decided_at": app.decided_at}


class ApplicationDisbursementSubject(DisbursementSubject):
    kind = SUBJECT_KIND
    search_key = "application"
    search_label = _("申请编号")

    def on_paid(self, *, disbursement, actor) -> None:
        outcomes.disbursement_paid(disbursement=disbursement, actor=actor)

    def on_reversed(self, *, disbursement, actor) -> None:
        outcomes.disbursement_reversed(disbursement=disbursement, actor=actor)

    def on_repaid(self, *, disbursement, actor) -> None:
        outcomes.disbursement_repaid(disbursement=disbursement, actor=actor)

    def on_released(self, *, disbursement, actor, reason: str) -> None:
        outcomes.disbursement_released(disbursement=disbursement, actor=actor, reason=reason)

    def on_closed(self, *, disbursement, actor, reason: str) -> None:
        outcomes.disbursement_closed(disbursement=disbursement, actor=actor, reason=reason)

    def item_labels(self, *, subject_ids: list[int]) -> dict[int, str]:
        return dict(Application.objects.filter(pk__in=subject_ids)
                    .values_list("pk", "item__name"))

    def trace_summary(self, *, disbursement, user) -> TraceSummary | None:
        """The application's fields, its materials and each approval decision. No links: the
        auditor's trace.view does not open the application's own pages."""
        app = (Application.objects.select_related("item__category", "filed_by", "org_unit", "case")
               .filter(pk=disbursement.subject_id).first())
        if app is None:
            return None
        return TraceSummary(
            record=app, template="assistance/_trace_subject.html", api=_api(app),
            materials=list(app.attachments.select_related("uploaded_by").order_by("pk")),
            decisions=list(case_timeline(case=app.case)) if app.case else [],
        )
