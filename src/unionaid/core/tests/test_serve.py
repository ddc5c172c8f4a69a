"""``unionaid serve``: the production processes, sized from the CPU count, watched together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from unionaid.core.management.commands import serve

ROOT = Path(__file__).resolve().parents[4]


def test_web_workers_follow_the_cpu_count_with_a_cap():
    assert serve.default_web_workers(1) == 3
    assert serve.default_web_workers(2) == 5
    assert serve.default_web_workers(16) == serve.MAX_DEFAULT_WORKERS


def test_each_role_starts_its_processes():
    web, worker, scheduler = serve.plan(role="all", bind="0.0.0.0:8000", workers=5,
                                        task_workers=1)
    assert web[1:3] == ["-m", "gunicorn"]
    assert web[web.index("-c") + 1].endswith("config/gunicorn.conf.py")  # the masked access log
    assert web[web.index("--workers") + 1] == "5"
    assert web[web.index("--bind") + 1] == "0.0.0.0:8000"
    assert worker[1:] == ["-m", "django", "db_worker"]
    assert scheduler[1:] == ["-m", "django", "scheduler"]  # the periodic jobs (issue 11)
    assert len(serve.plan(role="web", bind="x:1", workers=1, task_workers=3)) == 1
    assert len(serve.plan(role="worker", bind="x:1", workers=1, task_workers=3)) == 3
    assert serve.plan(role="scheduler", bind="x:1", workers=1, task_workers=3) == [scheduler]


def test_dry_run_lists_the_web_app_the_workers_and_the_scheduler():
    out = StringIO()
    call_command("serve", "--dry-run", "--workers", "2", "--task-workers", "2", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert "-m gunicorn" in lines[0]
    assert [line.split(" -m ")[1] for line in lines[1:]] == [
        "django db_worker", "django db_worker", "django scheduler"]
    out = StringIO()
    call_command("serve", "--dry-run", "--role", "scheduler", stdout=out)
    assert out.getvalue().splitlines() == [f"{sys.executable} -m django scheduler"]


def test_the_scheduler_command_that_serve_starts_exists():
    """serve names it without importing it (the foundation imports no engine)."""
    from django.core.management import get_commands

    assert get_commands()["scheduler"] == "unionaid.schedules"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"role": "worker", "task_workers": 0}, "nothing to start"),
    ({"role": "web", "workers": 0}, "at least 1"),
])
def test_a_plan_that_starts_nothing_or_no_worker_is_refused(kwargs, words):
    args = {"role": "all", "bind": "x:1", "workers": 1, "task_workers": 1, **kwargs}
    with pytest.raises(CommandError, match=words):
        serve.plan(**args)


def test_when_one_process_ends_the_others_are_stopped(monkeypatch):
    """The service manager sees serve end (and restarts the set) rather than a half-running
    install: a worker that dies takes the web app down with it, with the worker's status."""
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(serve, "plan", lambda **_: [sleeper, [sys.executable, "-c", "exit(3)"]])
    started = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(serve.subprocess, "Popen", popen)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(SystemExit) as exc:
        call_command("serve")
    assert exc.value.code == 3
    assert started[0].poll() is not None  # the sleeper was stopped
    assert signal.getsignal(signal.SIGINT) is before  # pytest's own handler is back


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_through_gunicorn_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0",
           "SECRET_KEY": "serve-test-" + "x" * 40, "ALLOWED_HOSTS": "127.0.0.1",
           "UNIONAID_DEV_KEYS": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "serve", "--role", "web", "--workers", "1",
         "--bind", f"127.0.0.1:{port}"], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body, deadline = None, time.monotonic() + 60
        while body is None and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read()
            except OSError:
                time.sleep(0.3)
        assert body == b"ok", process.stdout.read().decode() if process.poll() is not None else ""
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
        with pytest.raises(urllib.error.URLError, match="refused"):  # gunicorn went with it
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()


def test_make_run_starts_the_scheduler_beside_the_task_worker_and_stops_both():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run = makefile[makefile.index("\nrun: install"):makefile.index("\ntest:")]
    assert "$(BIN)/unionaid db_worker & worker=$$!" in run
    assert "$(BIN)/unionaid scheduler -v 0 & scheduler=$$!" in run
    assert "trap 'kill $$worker $$scheduler 2>/dev/null' EXIT INT TERM" in run
