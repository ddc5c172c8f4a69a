"""``unionaid stats rebuild``: count every source record again and rebuild the summary cells
(after a unit moved in the tree, or to check the incremental store)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from unionaid.stats.store import rebuild


class Command(BaseCommand):
    help = "Full rebuild of the statistics store from the domains' records."

    def handle(self, *args, **options) -> None:
        for fact, count in rebuild().items():
            self.stdout.write(f"{fact}: {count} records")
