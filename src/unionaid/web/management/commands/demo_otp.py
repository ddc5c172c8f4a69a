"""``manage.py demo_otp USERNAME``: the current 6-digit code of a demo admin's TOTP device.

Works only for the devices the demo command created (their key is fixed and public), so it is
no way around the second factor of a real installation.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from unionaid.web.demo.staff import DEMO_DEVICE_NAME, demo_totp_key


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo admin (sysadmin, secadmin, auditadmin)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--uri", action="store_true",
                            help="also print the otpauth:// URI to add to an authenticator app")

    def handle(self, *args, username, uri=False, **opts):
        device = TOTPDevice.objects.filter(
            user__username=username, name=DEMO_DEVICE_NAME, confirmed=True
        ).first()
        if device is None or device.key != demo_totp_key(username):
            raise CommandError(
                f"“{username}” 没有演示用的动态口令设备。 ({username!r} has no demo TOTP device)"
            )
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
        if uri:
            self.stdout.write(device.config_url)
