"""manage.py login_codes_purge — delete old login attempts (past the rate limits' window) and
one-time codes that expired a week ago, decoys included. Run it from cron (e.g. nightly)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from unionaid.portal.activation import login_codes_purge


class Command(BaseCommand):
    help = "清理过期的一次性验证码和旧的登录尝试记录。"

    def handle(self, *args, **options):
        attempts, codes = login_codes_purge()
        self.stdout.write(f"attempts={attempts} codes={codes}")
