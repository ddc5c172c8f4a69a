"""Reads for the home dashboard: the user's posts and bounded member counts of their scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from unionaid.accounts.access import access_for
from unionaid.members.models import EmploymentForm, MembershipStatus
from unionaid.members.selectors import members_visible_to

# Counting stops here: a dashboard needs "how many, roughly", not a COUNT over millions of rows.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class QuickLink:
    perm: str
    url: str
    label: str
    icon: str


QUICK_LINKS = (
    QuickLink("members.view", "/members/", _("查找职工"), "bi-search"),
    QuickLink("members.change", "/members/new/", _("登记职工"), "bi-person-plus"),
    QuickLink("org.view", "/org/", _("组织机构"), "bi-diagram-3"),
    QuickLink("members.import", "/members/io/imports/", _("导入职工名册"), "bi-upload"),
    QuickLink("security.manage", "/accounts/admin/users/", _("用户与岗位"), "bi-people"),
    QuickLink("audit.view", "/audit/", _("审计日志"), "bi-journal-check"),
)


@dataclass(frozen=True)
class CappedCount:
    label: str
    value: int
    capped: bool


def _capped(qs, label) -> CappedCount:
    # COUNT over a LIMITed subquery: the database stops after COUNT_CAP + 1 rows.
    n = qs[: COUNT_CAP + 1].count()
    return CappedCount(label=str(label), value=min(n, COUNT_CAP), capped=n > COUNT_CAP)


def dashboard_for(*, user) -> dict:
    access = access_for(user)
    links = [link for link in QUICK_LINKS if access.has_perm(link.perm)]
    counts: list[CappedCount] = []
    if access.is_staff_member and access.has_perm("members.view"):
        visible = members_visible_to(user=user)
        counts = [
            _capped(visible, _("可见职工")),
            _capped(visible.filter(membership_status=MembershipStatus.ACTIVE), _("在籍会员")),
            _capped(
                visible.filter(employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM),
                _("新就业形态劳动者"),
            ),
        ]
    return {
        "positions": access.position_labels,
        "links": links,
        "counts": counts,
        "count_cap": COUNT_CAP,
        "own_member_id": access.member_id,
    }
