"""``manage.py audit_verify`` (``unionaid audit verify``): check the audit hash chain.

Prints OK with the number of events, or every problem found; exits 1 on any problem.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from unionaid.audit.models import AuditEvent
from unionaid.audit.services import audit_verify


class Command(BaseCommand):
    help = "Verify the audit journal's hash chain (edited, deleted or forged events)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, batch_size: int, **options):
        problems = 0
        for problem in audit_verify(batch_size=batch_size):
            problems += 1
            self.stdout.write(f"PROBLEM event {problem.event_id}: {problem.reason}")
        if problems:
            raise CommandError(f"audit journal verification failed: {problems} problem(s)")
        count = AuditEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"OK: {count} events, hash chain intact"))
