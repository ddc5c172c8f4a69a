"""``unionaid serve``: the production processes of one install, started and watched together.

    unionaid serve                      the web app under gunicorn, one task worker and the
                                        scheduler (one command for a small union)
    unionaid serve --role web           only the web app (several app servers, one database)
    unionaid serve --role worker        only the task worker(s)
    unionaid serve --role scheduler     only the scheduler of the periodic jobs

gunicorn (config/gunicorn.conf.py: access log with ID numbers and phones masked) serves the WSGI
app with workers sized from the CPU count (2 × CPUs + 1, at most 9) unless ``--workers`` says
otherwise; the task worker is django-tasks' ``db_worker``; the scheduler is ``unionaid
scheduler`` (the periodic jobs at the times the system admin sets; several schedulers on one
database still run each slot once, so a scheduler on every machine is safe). If any process
ends, the others are stopped and ``serve`` exits with its status, so the service manager
(systemd) restarts the whole set; SIGTERM and Ctrl-C stop them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

ROLES = ("all", "web", "worker", "scheduler")
MAX_DEFAULT_WORKERS = 9


def default_web_workers(cpus: int | None = None) -> int:
    """gunicorn's rule of thumb, 2 × CPUs + 1, capped: each worker holds a database
    connection, and a small intranet server should not exhaust PostgreSQL's."""
    cpus = cpus or os.cpu_count() or 1
    return min(2 * cpus + 1, MAX_DEFAULT_WORKERS)


def gunicorn_config() -> Path:
    spec = find_spec("config")
    if spec is None or not spec.submodule_search_locations:
        raise CommandError("the project's config package is not importable")
    return Path(next(iter(spec.submodule_search_locations))) / "gunicorn.conf.py"


def plan(*, role: str, bind: str, workers: int, task_workers: int) -> list[list[str]]:
    """The command lines ``serve`` starts for ``role``."""
    if role not in ROLES:
        raise CommandError(f"--role must be one of {', '.join(ROLES)}")
    if workers < 1 or task_workers < 0:
        raise CommandError("--workers must be at least 1 and --task-workers at least 0")
    commands = []
    if role in ("all", "web"):
        commands.append([sys.executable, "-m", "gunicorn", "-c", str(gunicorn_config()),
                         "--bind", bind, "--workers", str(workers)])
    if role in ("all", "worker"):
        commands.extend([sys.executable, "-m", "django", "db_worker"]
                        for _ in range(task_workers))
    if role in ("all", "scheduler"):
        # by name, as a process of its own: the foundation imports no engine
        commands.append([sys.executable, "-m", "django", "scheduler"])
    if not commands:
        raise CommandError("nothing to start: --role worker needs --task-workers of 1 or more")
    return commands


class Command(BaseCommand):
    help = "Run the web app (gunicorn), the task worker(s) and the scheduler, for production."

    def add_arguments(self, parser):
        parser.add_argument("--role", choices=ROLES, default="all")
        parser.add_argument("--bind", default=os.environ.get("UNIONAID_BIND", "127.0.0.1:8000"),
                            help="address gunicorn listens on (nginx proxies to it)")
        parser.add_argument("--workers", type=int, default=default_web_workers(),
                            help="gunicorn worker processes (default: 2 × CPUs + 1, at most 9)")
        parser.add_argument("--task-workers", type=int, default=1,
                            help="background task workers (imports, exports)")
        parser.add_argument("--dry-run", action="store_true",
                            help="print the command lines and exit")

    def handle(self, *args, role, bind, workers, task_workers, dry_run, **options):
        commands = plan(role=role, bind=bind, workers=workers, task_workers=task_workers)
        if dry_run:
            for command in commands:
                self.stdout.write(" ".join(command))
            return
        env = {**os.environ,
               "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                        "config.settings")}
        # our own command lines (plan), no shell, no user input
        processes = [subprocess.Popen(command, env=env)  # noqa: S603
                     for command in commands]
        stopping = False

        def stop(*_signal_args):
            nonlocal stopping
            stopping = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        status = 0
        try:
            while not stopping:
                ended = [p for p in processes if p.poll() is not None]
                if ended:
                    status = ended[0].returncode or 1
                    self.stderr.write(f"serve: {' '.join(ended[0].args)} ended "
                                      f"({ended[0].returncode}); stopping the others")
                    break
                time.sleep(0.5)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if status:
            raise SystemExit(status)
