"""``unionaid scheduler``: run the registered periodic jobs at their times (定时任务).

    unionaid scheduler                 tick every 30 seconds until SIGTERM / Ctrl-C
    unionaid scheduler --once          one tick, then exit (e.g. from cron or a test)

``unionaid serve`` starts one (role ``all`` or ``scheduler``); ``make run`` starts one next to the
task worker. Several schedulers may run against one database (e.g. one per app server): each slot
still runs once (``schedules.runner``). On SIGTERM or SIGINT the scheduler finishes the job it is
running, starts no other and exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from unionaid.schedules import runner

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the scheduled jobs (定时任务) at their times; --once for a single tick."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument("--interval", type=float, default=30,
                            help="seconds between ticks (default 30; at least 1)")

    def handle(self, *args, once: bool, interval: float, **options):
        if interval < 1:
            raise CommandError("--interval must be at least 1 second")
        stopping = False

        def stop(*_signal_args):
            nonlocal stopping
            stopping = True

        self.verbosity = options["verbosity"]  # 0: runs are not printed (make run's terminal)
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        host, pid = runner.this_host(), os.getpid()
        try:
            # Runs this host's earlier scheduler left "running" (it died) are failed at once.
            runner.runs_fail_abandoned(now=timezone.now(), host=host, pid=pid)
            while not stopping:
                self._tick(host, pid, lambda: stopping)
                if once or stopping:
                    break
                close_old_connections()  # one the database dropped meanwhile is not reused
                deadline = time.monotonic() + interval
                while not stopping and time.monotonic() < deadline:
                    time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if options["verbosity"] > 1:
            self.stdout.write("scheduler: stopped")

    def _tick(self, host: str, pid: int, stop) -> None:
        try:
            runs = runner.scheduler_tick(host=host, pid=pid, stop=stop)
        except Exception:  # a database outage: log it, try again at the next tick
            logger.exception("scheduler tick failed")
            return
        for run in runs if self.verbosity else ():
            self.stdout.write(f"{run.schedule.key} {run.outcome} "
                              f"{run.duration_ms or 0} ms {run.error}".rstrip())
