"""Journal entries for authentication events (Django's auth signals are the only hook there)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from unionaid.audit.services import audit_record
from unionaid.core.logging import redact


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    with transaction.atomic():
        audit_record(actor=user, action="auth.login", target=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        with transaction.atomic():
            audit_record(actor=user, action="auth.logout", target=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # People type ID numbers and phones into the user-name box: never journal them in clear.
    username = redact(str(credentials.get("username", "")))[:150]
    with transaction.atomic():
        audit_record(
            actor=None, actor_label=username, action="auth.login_failed", outcome="denied",
            target_type="accounts.user", target_label=username,
        )
