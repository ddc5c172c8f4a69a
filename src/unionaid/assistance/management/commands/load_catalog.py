"""``manage.py load_catalog`` — add the default 三助 catalog (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from unionaid.accounts.models import User
from unionaid.assistance.services.catalog_load import catalog_load_defaults
from unionaid.core.errors import ServiceError


class Command(BaseCommand):
    help = "Load the default assistance catalog (助困/助医/助学 items, funding sources, caps)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--update", action="store_true",
                            help="Restore default values of items that already exist.")
        parser.add_argument("--username", default="",
                            help="Act as this user (needs assistance.catalog); default: system.")

    def handle(self, *args, update: bool = False, username: str = "", **options) -> None:
        actor = None
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {username!r}")
        try:
            counts = catalog_load_defaults(actor=actor, update=update)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"catalog: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged"
        )
