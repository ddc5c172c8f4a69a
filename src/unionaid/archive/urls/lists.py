"""Watch lists, difficult units, re-checks due and the ledgers (included at /archive/ under
the "archive" namespace)."""

from django.urls import path

from unionaid.archive.views import ledgers, lists

urlpatterns = [
    path("watch/", lists.watch_list, name="watch"),
    path("watch/add/", lists.watch_add, name="watch-add"),
    path("watch/refresh/", lists.watch_refresh, name="watch-refresh"),
    path("watch/<int:pk>/remove/", lists.watch_remove, name="watch-remove"),
    path("difficult-units/", lists.difficult_units, name="difficult-units"),
    path("difficult-units/<int:pk>/remove/", lists.difficult_unit_remove,
         name="difficult-unit-remove"),
    path("recheck/", lists.recheck_due, name="recheck-due"),
    path("recheck/open/", lists.reminder_open, name="reminder-open"),
    path("ledgers/", ledgers.ledgers, name="ledgers"),
    path("ledgers/export/", ledgers.ledger_export, name="ledger-export"),
    path("ledgers/import/", ledgers.ledger_import, name="ledger-import"),
    path("ledgers/import/confirm/", ledgers.ledger_import_confirm, name="ledger-import-confirm"),
]
