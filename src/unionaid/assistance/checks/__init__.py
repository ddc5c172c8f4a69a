"""Assistance's audit checks and its sampling population, registered with the auditor's checks
engine (``unionaid.checks.registry``) by ``AssistanceConfig.ready()``. Thresholds are stated in
each check's description, which the auditor reads on the check's page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from unionaid.assistance.checks import decisions, payments, sampling
from unionaid.checks.registry import Check, Population, register_check, register_population

CHECKS = [
    Check(key="assistance.shared_account", label=_("一个银行账号为多名职工收款"),
          description=_("同一银行账号（按密钥散列比对，不比对明文）收到两名及以上职工的帮扶款。"),
          find=payments.find_shared_accounts),
    Check(key="assistance.split_payment", label=_("拆分发放规避审批界限或上限"),
          description=_("同一职工同一项目 30 天内的多笔发放，每笔都不超过某一界限（审批流程的跳过金额、"
                        "项目单次上限或每人每年上限），合计却超过它。"),
          find=payments.find_split_payments),
    Check(key="assistance.self_decision", label=_("本人、家庭成员或经办人审批"),
          description=_("申请的审批节点由经办人本人、申请人本人或其家庭成员办理，或同一人办理了同一申请的"
                        "两个节点（流程允许同一人办理多个节点的除外）。"),
          find=decisions.find_self_decisions),
    Check(key="assistance.over_cap", label=_("超标准或不符合条件的发放"),
          description=_("单笔发放超过项目的单次上限（定额、封顶线或标准表最高档）；同一职工同一项目一年内的"
                        "发放合计超过每人每年上限；申请日期不在项目有效期内；项目要求在籍会员而申请时并非"
                        "在籍会员。"),
          find=payments.find_over_cap),
    Check(key="assistance.two_units", label=_("同一需求在两个单位获得帮扶"),
          description=_("同一职工同一年度同一帮扶类别的申请在两个及以上单位获准。"),
          find=payments.find_two_units),
    Check(key="assistance.paid_after_exit", label=_("转出、退会或去世后仍发放"),
          description=_("职工会籍变为已转出、非会员或已故之后（以审计日志中的变更时间为准）仍有款项发放。"),
          find=payments.find_paid_after_exit),
    Check(key="assistance.delegate_confirm", label=_("非工作时间由制单人的代办人确认批次"),
          description=_("发放批次在非工作时间（工作日 8:00–18:00 以外）确认，确认人当时是该批次制单人或"
                        "导出人的委托代办人。"),
          find=decisions.find_delegate_confirmations),
]

POPULATION = Population(key="assistance.paid", label=_("已发放的帮扶申请"),
                        cases=sampling.paid_cases, items=sampling.item_choices)


def register() -> None:
    for check in CHECKS:
        register_check(check)
    register_population(POPULATION)
