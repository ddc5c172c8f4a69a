"""Periodic jobs of the layers below the scheduler, which may not import it: the web shell wires
them in (as it does the roster's export kind)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.audit.models import AuditEvent
from unionaid.audit.services import audit_verify
from unionaid.schedules.registry import JobFailed, register_job


def verify_audit_journal(*, now) -> str:
    problems = sum(1 for _problem in audit_verify())
    if problems:
        raise JobFailed(gettext("审计日志哈希链校验发现 %(n)d 处问题，请运行 unionaid audit verify 查看")
                        % {"n": problems})
    return gettext("审计日志 %(n)d 条，哈希链完整") % {"n": AuditEvent.objects.count()}


def register() -> None:
    register_job(
        "audit.verify", verify_audit_journal, default_schedule="30 3 * * *",
        label=_("审计日志校验"),
        description=_("逐条校验审计日志的哈希链，发现被修改、删除或伪造的记录即报失败。默认每天 3:30。"))
