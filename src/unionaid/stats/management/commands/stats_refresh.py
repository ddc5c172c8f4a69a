"""``unionaid stats refresh``: count what changed since the last refresh (as the every-minute
job does)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from unionaid.stats.store import refresh


class Command(BaseCommand):
    help = "Incremental refresh of the statistics store (what changed since the last run)."

    def handle(self, *args, **options) -> None:
        for fact, count in refresh().items():
            self.stdout.write(f"{fact}: {count} changed")
