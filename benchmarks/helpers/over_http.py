"""Final approvals per second through HTTP, the way a client really reaches them.

A real production-like server — gunicorn, ``sync`` workers, DEBUG=0, the benchmark database —
is started on 127.0.0.1 (a free port), and ``clients`` Python threads (stdlib ``http.client``,
one TCP connection per request as sync workers close them) POST
``/api/v1/approvals/tasks/<id>/decide`` with ``{"decision": "approve"}`` and the 路局 cadre's
API token (``Authorization: Bearer``: how the mobile app goes; no second factor, no CSRF). Each
request authenticates the token, computes the cadre's rights, loads the task within them and
runs ``approvals.services.task_decide`` (decision, case approved, money reserved, application
approved, applicant notified when they have a login, audit events): nothing is cached across
requests beyond what the server process itself keeps.

In the same run and with the same server and clients, two anchors give the machine's state:
``GET /healthz`` (Django and its middleware, no database) and ``GET /api/v1/auth/me`` (token
lookup, rights, JSON: the fixed cost of an authenticated API request).
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from .timing import percentile

HOST = "127.0.0.1"  # never anything else
ROOT = Path(__file__).resolve().parents[2]
ANCHOR_REQUESTS = 1500


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving config.wsgi on 127.0.0.1 with ``workers`` sync workers."""

    def __init__(self, workers: int):
        self.workers = workers
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.log = None

    def __enter__(self):
        env = {**os.environ, "DEBUG": "0", "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
               "DJANGO_SETTINGS_MODULE": "config.settings", "ALLOWED_HOSTS": HOST}
        log_dir = Path(os.environ.get("UNIONAID_VAR_DIR", ROOT / "var"))
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(log_dir / f"gunicorn-{self.workers}w.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--chdir", str(ROOT),
             "--bind", f"{HOST}:{self.port}", "--workers", str(self.workers),
             "--worker-class", "sync", "--timeout", "120", "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    # every worker has imported Django once it answers; give the others a moment
                    time.sleep(0.5 * self.workers)
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer on {HOST}:{self.port} within 90 s")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def drive(port: int, jobs: list, clients: int, make) -> dict:
    """Run ``jobs`` through ``clients`` threads; ``make(job)`` gives (method, path, body,
    headers, check) where ``check(status, body)`` returns an error string or ''."""
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client():
        mine, bad = [], []
        start.wait()
        while True:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                break
            method, path, body, headers, check = make(job)
            began = time.perf_counter()
            try:
                status, content = request(port, method, path, body, headers)
                problem = check(status, content)
            except OSError as exc:
                problem = f"{path}: {exc!r}"
            mine.append((time.perf_counter() - began) * 1000)
            if problem:
                bad.append(problem)
        with lock:
            times.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(times)
    return {"requests": len(times), "seconds": round(elapsed, 2),
            "per_s": round(len(times) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": round(percentile(ordered, 50), 2),
            "p95_ms": round(percentile(ordered, 95), 2),
            "p99_ms": round(percentile(ordered, 99), 2),
            "errors": len(errors), "first_errors": errors[:5]}


def _expect_200(status: int, content: bytes) -> str:
    return "" if status == 200 else f"HTTP {status}: {content[:200]!r}"


def anchors(port: int, clients: int, token: str) -> dict:
    auth = {"Authorization": f"Bearer {token}"}
    return {
        "healthz": drive(port, range(ANCHOR_REQUESTS), clients,
                         lambda i: ("GET", "/healthz", None, {}, _expect_200)),
        "api_me": drive(port, range(ANCHOR_REQUESTS // 3), clients,
                        lambda i: ("GET", "/api/v1/auth/me", None, auth, _expect_200)),
    }


def approve_all(port: int, task_ids: list[int], clients: int, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps({"decision": "approve"}).encode()

    def check(status: int, content: bytes) -> str:
        if status != 200:
            return f"HTTP {status}: {content[:300]!r}"
        data = json.loads(content)
        if data.get("status") != "approved" or data.get("case_status") != "approved":
            return f"unexpected answer {data!r}"
        return ""

    return drive(port, task_ids, clients,
                 lambda pk: ("POST", f"/api/v1/approvals/tasks/{pk}/decide", body, headers,
                             check))


def api_token(username: str) -> str:
    from unionaid.accounts.models import User
    from unionaid.accounts.services import api_token_create

    _token, raw = api_token_create(actor=User.objects.get(username=username), name="benchmark")
    return raw


def http_throughput(*, n: int, seed: int, workers: int, clients: int, prepare, say) -> dict:
    """Start gunicorn with ``workers`` sync workers, measure the anchors, approve ``n`` final
    tasks through HTTP with ``clients`` concurrent clients, measure the anchors again."""
    from django.db import connections

    warm = prepare(20, seed + 300 + workers)
    ids = prepare(n, seed + 400 + workers)
    token = api_token("bureau_cadre")
    connections.close_all()  # the server works on the database alone while it is measured
    load = [round(os.getloadavg()[0], 2)]
    with Server(workers) as server:
        say(f"  gunicorn {workers} sync worker(s) on {HOST}:{server.port}, {clients} clients")
        warmed = approve_all(server.port, warm, clients, token)  # imports, caches, connections
        drive(server.port, range(200), clients,
              lambda i: ("GET", "/healthz", None, {}, _expect_200))
        before = anchors(server.port, clients, token)
        load.append(round(os.getloadavg()[0], 2))
        approvals = approve_all(server.port, ids, clients, token)
        load.append(round(os.getloadavg()[0], 2))
        after = anchors(server.port, clients, token)
    load.append(round(os.getloadavg()[0], 2))
    return {
        "server": f"gunicorn {_gunicorn_version()} sync, DEBUG=0",
        "workers": workers, "clients": clients, "approvals": approvals["requests"],
        "seconds": approvals["seconds"], "per_s": approvals["per_s"],
        "p50_ms": approvals["p50_ms"], "p95_ms": approvals["p95_ms"],
        "p99_ms": approvals["p99_ms"], "errors": approvals["errors"] + warmed["errors"],
        "first_errors": approvals["first_errors"] + warmed["first_errors"],
        "anchor_before": before, "anchor_after": after,
        # 1-minute load average: before the server, before and after the approvals, at the end
        "load_avg": load, "task_ids": ids,
    }


def _gunicorn_version() -> str:
    try:
        import gunicorn

        return gunicorn.__version__
    except ImportError:  # pragma: no cover - the server start fails first
        return "?"
