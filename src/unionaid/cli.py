"""The ``unionaid`` console command: manage.py with shorter names.

    unionaid demo                      build the demo union
    unionaid audit verify              check the audit hash chain
    unionaid setup                     first-run set-up of a real union on an empty database
    unionaid import org FILE           import the org tree (.xlsx/.csv), --dry-run to check only
    unionaid import staff FILE         import staff logins and posts, --dry-run to check only
    unionaid import members FILE       import a roster (.xlsx/.csv), --dry-run to check only
    unionaid dataset import FILE       load another department's list (--source, --unit, --as)
    unionaid dataset match ID          match a loaded list against the member roll (--as)
    unionaid dataset purge             delete lists past their retention period
    unionaid stats rebuild             rebuild the statistics store (统计) from the records
    unionaid stats refresh             count what changed since the last refresh
    unionaid keys rotate               re-encrypt personal data with the active key
    unionaid backup [--keep N]         back up the database (one file + .sha256, never the keys)
    unionaid restore FILE              restore a backup into an empty database, then check it
    unionaid match MEMBERS EXTERNAL --out MATCHES.csv [--review FILE]
                                       match another department's list to the member roll
                                       (two files in, no database needed)
    unionaid serve                     the web app, task worker and scheduler (production)
    unionaid scheduler                 run the periodic jobs at their times (定时任务)
    unionaid <any manage.py command>   e.g. unionaid migrate, unionaid runserver
"""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line

ALIASES = {
    ("audit", "verify"): ["audit_verify"],
    ("import", "members"): ["import_members"],
    ("import", "org"): ["import_org"],
    ("import", "staff"): ["import_staff"],
    ("export", "members"): ["export_members"],
    ("keys", "rotate"): ["keys_rotate"],
    ("dataset", "import"): ["matching_import"],
    ("dataset", "match"): ["matching_run"],
    ("dataset", "purge"): ["matching_purge"],
    ("stats", "rebuild"): ["stats_rebuild"],
    ("stats", "refresh"): ["stats_refresh"],
}


def translate(argv: list[str]) -> list[str]:
    if len(argv) >= 2 and (argv[0], argv[1]) in ALIASES:
        return ALIASES[(argv[0], argv[1])] + argv[2:]
    return argv


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    args = translate(list(sys.argv[1:] if argv is None else argv))
    execute_from_command_line(["unionaid", *args])


if __name__ == "__main__":
    main()
