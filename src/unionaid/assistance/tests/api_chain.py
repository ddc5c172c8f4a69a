"""Set-up for the issue-3 API tests (assistance, approvals, funds, notifications), shared: the
conftest.py of each app's tests/api/ folder imports these fixtures.

Posts: apply_cadre (站段 A 帮扶干事: files on behalf, first approval step), other_apply (站段 B,
the same there), chairman (路局 主席, second step, skipped at ≤ 2,000), finance (路局, funds),
tracer (路局, trace.view: an auditor's read-only post, usable with a token). Private media go
to pytest's tmp_path.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope, User
from unionaid.assistance import services

# The catalog, budget and worker fixtures are the assistance tests' own (one definition).
from unionaid.assistance.tests.conftest import (  # noqa: F401
    APPLY_PERMS,
    _private_media,
    budget,
    categories,
    illness,
    make_item,
    new_worker,
    source,
)

from .api_support import pdf_upload


@dataclass
class Staff:
    apply_cadre: User
    other_apply: User
    chairman: User
    finance: User
    tracer: User


@pytest.fixture
def staff(union, personas) -> Staff:
    apply = make_role("apply", APPLY_PERMS)
    approver = make_role("approver", ["org.view", "assistance.view"])
    finance = make_role("finance", ["org.view", "funds.view", "funds.manage", "funds.confirm"],
                        DataScope.ALL)
    tracer = make_role("tracer", ["trace.view"], DataScope.ALL)
    return Staff(
        apply_cadre=make_staff("apply_cadre", union.station_a, [apply], "帮扶干事"),
        other_apply=make_staff("other_apply", union.station_b, [apply], "帮扶干事"),
        chairman=make_staff("chairman", union.bureau, [approver], "主席"),
        finance=make_staff("finance", union.bureau, [finance]),
        tracer=make_staff("tracer", union.bureau, [tracer]),
    )


@pytest.fixture
def flow(union, staff):
    """站段 帮扶干事 (batch allowed) → 路局 主席 (skipped when the amount is at most 2,000)."""
    from unionaid.approvals import services as approvals

    return approvals.flow_save(actor=None, subject_kind="assistance.application",
                               subject_key="", org_unit=union.bureau, name="帮扶审批", steps=[
                                   {"name": "站段审核", "position_name": "帮扶干事",
                                    "unit_depth": 2, "allow_batch": True},
                                   {"name": "主席审批", "position_name": "主席", "unit_depth": 1,
                                    "skip_condition": "amount <= 2000"},
                               ])


@pytest.fixture
def submitted(illness, flow, budget):  # noqa: F811 (fixtures imported above)
    """``submitted(actor, member, self_paid)``: a draft with its diagnosis, submitted through
    the services (the state the approval and funds API tests start from)."""

    def _make(actor, member, self_paid="12000", **draft):
        application = services.application_create_draft(
            actor=actor, member=member, item=illness, facts={"self_paid": self_paid}, **draft)
        services.attachment_add(actor=actor, application=application, material="诊断证明",
                                uploaded_file=pdf_upload())
        return services.application_submit(actor=actor, application=application)

    return _make
