"""manage.py deliveries_send — send the outbound messages that are due: those deferred past quiet
hours, retries whose back-off has passed, and any the task queue lost. The scheduler runs the same
function (``deliveries_send_due``) every few minutes; this is for cron or a manual run."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from unionaid.notifications.deliveries import deliveries_send_due


class Command(BaseCommand):
    help = "发送到期的短信、微信订阅消息和邮件。"

    def handle(self, *args, **options):
        sent = deliveries_send_due()
        self.stdout.write(f"已发送 {sent} 条消息。")
        self.stdout.write(f"Sent {sent} messages.")
