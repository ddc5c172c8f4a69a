"""Periodic jobs of the layers below the scheduler, which may not import it: the web shell wires
them in (as it does the roster's export kind)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.audit.backups import backup_scheduled
from unionaid.audit.models import AuditEvent
from unionaid.audit.services import audit_verify
from unionaid.notifications.deliveries import deliveries_send_due
from unionaid.schedules.registry import JobFailed, register_job


def verify_audit_journal(*, now) -> str:
    problems = sum(1 for _problem in audit_verify())
    if problems:
        raise JobFailed(gettext("审计日志哈希链校验发现 %(n)d 处问题，请运行 unionaid audit verify 查看")
                        % {"n": problems})
    return gettext("审计日志 %(n)d 条，哈希链完整") % {"n": AuditEvent.objects.count()}


def back_up_database(*, now) -> str:
    path = backup_scheduled()
    return gettext("已备份到 %(name)s") % {"name": path.name}


def send_due_messages(*, now) -> str:
    return gettext("发出 %(n)d 条消息") % {"n": deliveries_send_due(now=now)}


def register() -> None:
    register_job(
        "audit.backup", back_up_database, default_schedule="0 2 * * *",
        label=_("数据库备份"),
        description=_("把数据库备份为一个文件及其校验和（不含密钥），保留最近若干份（BACKUP_DIR、"
                      "BACKUP_KEEP）。默认每天 2:00。备份文件请另行复制到本机以外。"))
    register_job(
        "notifications.send_due", send_due_messages, default_schedule="* * * * *",
        label=_("消息补发"),
        description=_("发出到期的短信、邮件和微信消息：免打扰时段结束后的通知，以及发送失败后按退避"
                      "时间重试的消息。默认每分钟。"))
    register_job(
        "audit.verify", verify_audit_journal, default_schedule="30 3 * * *",
        label=_("审计日志校验"),
        description=_("逐条校验审计日志的哈希链，发现被修改、删除或伪造的记录即报失败。默认每天 3:30。"))
