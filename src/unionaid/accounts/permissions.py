"""The catalogue of action permissions a Role can carry, and the three admin duties.

Permissions are plain codes (``members.view``); a Role is a set of them plus a data scope.
Separation of duties (等保 三权分立): the system, security and audit admin permissions are
never combined in one role, nor held together by one user.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from unionaid.core import access as core_access


class DataScope(models.TextChoices):
    """RuoYi's data scopes, which Chinese admins already know."""

    ALL = core_access.SCOPE_ALL, _("全部数据")
    UNIT_AND_BELOW = core_access.SCOPE_UNIT_AND_BELOW, _("本单位及以下")
    UNIT = core_access.SCOPE_UNIT, _("本单位")
    SELF = core_access.SCOPE_SELF, _("仅本人")


SCOPE_BREADTH = {DataScope.SELF: 0, DataScope.UNIT: 1, DataScope.UNIT_AND_BELOW: 2, DataScope.ALL: 3}

PERMISSIONS: dict[str, str] = {
    "org.view": _("查看组织"),
    "org.manage": _("管理组织机构"),
    "members.view": _("查看职工"),
    "members.change": _("新增、修改职工"),
    "members.reveal": _("查看完整证件号、手机号"),
    "members.import": _("导入职工名册"),
    "members.export": _("导出职工名册"),
    "members.consent": _("登记个人信息同意"),
    "assistance.view": _("查看帮扶申请"),
    "assistance.apply": _("代职工提交帮扶申请"),
    "assistance.catalog": _("维护帮扶项目与审批流程"),
    "visits.view": _("查看走访记录与走访行动"),
    "visits.record": _("登记走访、家庭情况与跟进事项"),
    "visits.campaign": _("组织走访行动与结对"),
    "archive.view": _("查看困难职工档案"),
    "archive.manage": _("建档、复核、脱困、销档与动态管理清单"),
    "archive.config": _("维护低保标准、认定规则与工作日"),
    "funds.view": _("查看预算与资金流水"),
    "funds.manage": _("管理预算、发放批次"),
    "funds.confirm": _("确认发放、冲正"),
    "trace.view": _("资金追溯查询（审计人员）"),
    "system.config": _("系统配置（系统管理员）"),
    "security.manage": _("用户、岗位、角色、任职管理（安全管理员）"),
    "audit.view": _("查阅审计日志（审计管理员）"),
}

# The three admin duties (三权分立). Each is identified by the permission that defines it.
ADMIN_DUTIES: dict[str, str] = {
    "system.config": "system",
    "security.manage": "security",
    "audit.view": "audit",
}

# What a worker may do with their own record, without any post.
WORKER_SELF_PERMISSIONS = frozenset({"members.view", "assistance.view"})


def admin_duties(perms) -> set[str]:
    return {duty for perm, duty in ADMIN_DUTIES.items() if perm in perms}
