"""Publishing a background job's progress on its row, and stopping it when asked.

A job row (a Dataset being loaded, a MatchRun) carries ``stage``, ``done``, ``total`` and
``cancel_requested``. ``RowProgress`` writes the first three at most every ``interval`` seconds
and reads the last; when a cancel was asked it raises ``Cancelled`` from inside the work, which
the task turns into the "cancelled" status. While rows are written inside one transaction the
row can only be updated from a second connection, which only PostgreSQL allows alongside an open
write transaction (members.tasks does the same); on SQLite the page shows the stage until the
commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


class Cancelled(Exception):
    """A cancel was asked for the job; nothing of it is written."""


class RowProgress:
    def __init__(self, model: type[Model], pk: int, *, interval: float = 0.5,
                 echo: Callable[[str, int, int], None] | None = None,
                 alive: dict | None = None):
        """``alive``: field values the row keeps while this worker owns the job (its status,
        its attempt); once the row no longer has them (cancelled as stale, retried by another
        worker) the job is cancelled too."""
        self.model, self.pk, self.interval, self.echo = model, pk, interval, echo
        self.alive = alive or {}
        self.side = None
        self.last = 0.0
        self.in_transaction = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.echo is not None:
            self.echo(stage, done, total)
        now = time.monotonic()
        if now - self.last < self.interval and done < total:
            return
        self.last = now
        if self.in_transaction:
            if connection.vendor == "postgresql":
                self._side_update(stage, done, total)
            return
        self.model.objects.filter(pk=self.pk).update(stage=stage[:30], done=done, total=total)
        self.check_cancel()

    def check_cancel(self) -> None:
        if not self.model.objects.filter(pk=self.pk, cancel_requested=False,
                                         **self.alive).exists():
            raise Cancelled()

    def _side_update(self, stage: str, done: int, total: int) -> None:
        if self.side is None:
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        table = self.side.ops.quote_name(self.model._meta.db_table)
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET stage = %s, done = %s, total = %s WHERE id = %s",  # noqa: S608
                [stage[:30], done, total, self.pk],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None
