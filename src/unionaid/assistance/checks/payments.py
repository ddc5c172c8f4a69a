"""Checks on the money paid for applications: one bank account for several members, payments
split under a threshold, payments above an item's cap or outside its conditions, one need
assisted in two units, money paid after the member left or died."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from unionaid.approvals.models import ApprovalStep
from unionaid.assistance.checks.common import (
    Paid,
    application_ref,
    item_max,
    local,
    member_ref,
    paid_rows,
    payment_ref,
    status_at,
    status_history,
    status_since,
    who,
    yuan,
)
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.checks.registry import Found, common_path
from unionaid.core import crypto, masking
from unionaid.members.models import MembershipStatus

ACCOUNT_PURPOSE = "checks.shared_bank_account"
SPLIT_WINDOW = dt.timedelta(days=30)  # a split is paid within one or two monthly batch cycles
RECORDS_MAX = 20  # references kept on one finding
EXIT_STATUSES = (MembershipStatus.TRANSFERRED_OUT, MembershipStatus.DECEASED,
                 MembershipStatus.NON_MEMBER)
GRANTED = (ApplicationStatus.APPROVED, ApplicationStatus.PAID, ApplicationStatus.PAYMENT_REVERSED)
_THRESHOLD = re.compile(r"\bamount\s*<=?\s*(\d+(?:\.\d+)?)")


# -- (a) one bank account receiving for several members -------------------------------------

def find_shared_accounts(*, paths, now):
    """Members paid to the same bank account. Read over the whole tree (the engine keeps the
    findings inside ``paths``): the finding belongs to the smallest subtree holding them all,
    so a station auditor never sees a member of another station."""
    rows = paid_rows(paths=None)
    by_member: dict[int, list[Paid]] = defaultdict(list)
    for row in rows:
        by_member[row.application.member_id].append(row)
    groups: dict[str, list[int]] = defaultdict(list)
    members = {row.application.member_id: row.application.member for row in rows}
    for member_id, member in members.items():
        account = (member.bank_account or "").replace(" ", "")
        if account:
            groups[crypto.blind_index(account, purpose=ACCOUNT_PURPOSE)].append(member_id)
    for key, ids in groups.items():
        if len(ids) < 2:
            continue
        ids.sort()
        payments = [p for m in ids for p in by_member[m]]
        total = sum((p.amount for p in payments), Decimal(0))
        account = masking.mask_bank_account(members[ids[0]].bank_account)
        yield Found(
            fingerprint=f"account:{key[:48]}",
            unit_path=common_path(members[m].org_unit.path for m in ids),
            summary=f"银行账号 {account} 为 {len(ids)} 名职工收款，合计 {yuan(total)} 元",
            evidence={"银行账号": account, "收款职工数": len(ids),
                      "职工": "、".join(who(members[m]) for m in ids[:10]),
                      "发放笔数": len(payments), "合计金额（元）": yuan(total)},
            records=([member_ref(members[m]) for m in ids]
                     + [payment_ref(p.disbursement_id) for p in payments])[:RECORDS_MAX],
            amount=total, member_id=ids[0])


# -- (b) payments split to stay under a threshold or a cap -----------------------------------

def approval_thresholds() -> list[Decimal]:
    """The amounts below which an application step is skipped (``amount <= 2000`` in a current
    flow version's skip condition)."""
    found = set()
    conditions = (ApprovalStep.objects.filter(version__is_current=True,
                                              version__flow__subject_kind=SUBJECT_KIND)
                  .exclude(skip_condition="").values_list("skip_condition", flat=True))
    for condition in conditions:
        found.update(Decimal(m) for m in _THRESHOLD.findall(condition))
    return sorted(found)


def find_split_payments(*, paths, now):
    """Several payments to one member for one item within 30 days, each at most a threshold
    (an approval step's skip amount, the item's largest amount for one case, its yearly cap
    per person) while together above it."""
    approval = approval_thresholds()
    by_key: dict[tuple[int, int], list[Paid]] = defaultdict(list)
    for row in paid_rows(paths=paths):
        by_key[(row.application.member_id, row.application.item_id)].append(row)
    for (member_id, _item_id), rows in by_key.items():
        if len(rows) < 2:
            continue
        item = rows[0].application.item
        limits = [(t, "审批金额界限") for t in approval]
        if item_max(item) is not None:
            limits.append((item_max(item), "单次救助上限"))
        if item.per_person_cap is not None:
            limits.append((item.per_person_cap, "每人每年上限"))
        start = 0
        while start < len(rows) - 1:
            cluster = [r for r in rows[start:] if r.paid_at - rows[start].paid_at <= SPLIT_WINDOW]
            total = sum((r.amount for r in cluster), Decimal(0))
            hit = next(((t, label) for t, label in sorted(limits)
                        if len(cluster) >= 2 and all(r.amount <= t for r in cluster)
                        and total > t), None)
            if hit is None:
                start += 1
                continue
            limit, label = hit
            member = cluster[0].application.member
            yield Found(
                fingerprint=f"split:{member_id}:{item.pk}:{cluster[0].disbursement_id}",
                unit_path=common_path(r.application.org_unit.path for r in cluster),
                summary=f"{who(member)} 的“{item.name}”在 {len(cluster)} 笔内合计 {yuan(total)} 元，"
                        f"每笔均未超过{label} {yuan(limit)} 元",
                evidence={"职工": who(member), "帮扶项目": item.name, "笔数": len(cluster),
                          "各笔金额（元）": "、".join(yuan(r.amount) for r in cluster),
                          "合计（元）": yuan(total), f"{label}（元）": yuan(limit),
                          "期间": f"{local(cluster[0].paid_at)} 至 {local(cluster[-1].paid_at)}"},
                records=([member_ref(member)]
                         + [application_ref(r.application) for r in cluster]
                         + [payment_ref(r.disbursement_id) for r in cluster])[:RECORDS_MAX],
                amount=total, member_id=member_id)
            start += len(cluster)


# -- (d) above the item's cap, or outside its conditions ------------------------------------

def find_over_cap(*, paths, now):
    """A payment above the item's largest amount for one case; a member's payments for one item
    in one year above its yearly cap per person; an application filed outside the item's
    validity, or by someone not an active member when the item requires it."""
    rows = paid_rows(paths=paths)
    yearly: dict[tuple[int, int, int], list[Paid]] = defaultdict(list)
    for row in rows:
        app = row.application
        yearly[(app.member_id, app.item_id, timezone.localtime(row.paid_at).year)].append(row)
        limit = item_max(app.item)
        if limit is not None and row.amount > limit:
            yield _found_over(row, f"over_max:{row.disbursement_id}",
                              f"单笔 {yuan(row.amount)} 元超过“{app.item.name}”单次上限 {yuan(limit)} 元",
                              {"单次上限（元）": yuan(limit)}, row.amount, [row])
    for (_m, _i, year), group in yearly.items():
        cap = group[0].application.item.per_person_cap
        total = sum((r.amount for r in group), Decimal(0))
        if cap is not None and total > cap:
            app = group[0].application
            yield _found_over(group[0], f"over_cap:{app.member_id}:{app.item_id}:{year}",
                              f"{year} 年“{app.item.name}”合计 {yuan(total)} 元，超过每人每年上限 {yuan(cap)} 元",
                              {"年度": year, "每人每年上限（元）": yuan(cap),
                               "年度合计（元）": yuan(total)}, total, group)
    yield from _outside_conditions(rows)


def _found_over(row: Paid, fingerprint: str, summary: str, extra: dict, amount, group):
    app = row.application
    return Found(
        fingerprint=fingerprint, unit_path=common_path(r.application.org_unit.path for r in group),
        summary=f"{who(app.member)}：{summary}",
        evidence={"职工": who(app.member), "帮扶项目": app.item.name, **extra,
                  "发放金额（元）": "、".join(yuan(r.amount) for r in group)},
        records=([member_ref(app.member)] + [application_ref(r.application) for r in group]
                 + [payment_ref(r.disbursement_id) for r in group])[:RECORDS_MAX],
        amount=amount, member_id=app.member_id)


def _outside_conditions(rows: list[Paid]):
    apps = {r.application.pk: r for r in rows}
    history = status_history({r.application.member_id for r in rows})
    for row in apps.values():
        app, item = row.application, row.application.item
        filed = app.submitted_at or app.created_at
        day = timezone.localdate(filed)
        if (item.valid_from and day < item.valid_from) or (item.valid_to and day > item.valid_to):
            yield _found_over(row, f"outside:{app.pk}:validity",
                              f"申请日期 {day} 不在“{item.name}”有效期内",
                              {"申请日期": str(day), "有效期": f"{item.valid_from or '—'} 至 "
                                                            f"{item.valid_to or '—'}"},
                              row.amount, [row])
        needs_member = any("membership_active" in str(r.get("rule", ""))
                           for r in item.eligibility or [] if isinstance(r, dict))
        status = status_at(app.member, history.get(app.member_id, []), filed)
        if needs_member and status != MembershipStatus.ACTIVE:
            yield _found_over(row, f"outside:{app.pk}:membership",
                              f"申请时会籍为“{MembershipStatus(status).label}”，不符合“{item.name}”的在籍会员条件",
                              {"申请时间": local(filed),
                               "申请时会籍": str(MembershipStatus(status).label)},
                              row.amount, [row])


# -- (e) one member assisted for the same need in two units ----------------------------------

def find_two_units(*, paths, now):
    """A member granted aid of the same category in the same year by applications of two or
    more units (e.g. filed again after moving). Read over the whole tree; the finding belongs
    to the smallest subtree holding both units."""
    groups: dict[tuple[int, int, int], list[Application]] = defaultdict(list)
    apps = (Application.objects.filter(status__in=GRANTED)
            .select_related("member", "item__category", "org_unit").order_by("pk"))
    for app in apps:
        when = timezone.localtime(app.submitted_at or app.created_at)
        groups[(app.member_id, app.item.category_id, when.year)].append(app)
    for (member_id, category_id, year), group in groups.items():
        units = {a.org_unit_id for a in group}
        if len(units) < 2:
            continue
        member, category = group[0].member, group[0].item.category
        total = sum((a.amount for a in group), Decimal(0))
        yield Found(
            fingerprint=f"two_units:{member_id}:{category_id}:{year}",
            unit_path=common_path(a.org_unit.path for a in group),
            summary=f"{who(member)} {year} 年在 {len(units)} 个单位获得“{category.name}”帮扶",
            evidence={"职工": who(member), "帮扶类别": category.name, "年度": year,
                      "单位": "、".join(sorted({a.org_unit.name for a in group})),
                      "申请": "、".join(f"#{a.pk} {a.item.name} {yuan(a.amount)}元" for a in group)},
            records=[member_ref(member), *(application_ref(a) for a in group)][:RECORDS_MAX],
            amount=total, member_id=member_id)


# -- (f) money paid after the member's exit, transfer or death -------------------------------

def find_paid_after_exit(*, paths, now):
    """A payment made after the member became 已转出, 已故 or 非会员 (the date of that change
    from the journal, or the record's creation when the journal has none)."""
    rows = [r for r in paid_rows(paths=paths)
            if r.application.member.membership_status in EXIT_STATUSES]
    history = status_history({r.application.member_id for r in rows})
    for row in rows:
        member = row.application.member
        since = status_since(member, history.get(member.pk, []))
        if row.paid_at <= since:
            continue
        label = str(MembershipStatus(member.membership_status).label)
        yield Found(
            fingerprint=f"after_exit:{row.disbursement_id}",
            unit_path=row.application.org_unit.path,
            summary=f"{who(member)} 于 {local(since)} 起为“{label}”，{local(row.paid_at)} 仍发放 "
                    f"{yuan(row.amount)} 元",
            evidence={"职工": who(member), "会籍状态": label, "状态变更时间": local(since),
                      "发放时间": local(row.paid_at), "发放金额（元）": yuan(row.amount),
                      "帮扶项目": row.application.item.name},
            records=[member_ref(member), application_ref(row.application),
                     payment_ref(row.disbursement_id)],
            amount=row.amount, member_id=member.pk)
