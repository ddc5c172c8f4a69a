"""The serve suite of ``benchmarks/run.py``: unionaid under load, as production runs it.

``unionaid serve --role web --workers 2`` (gunicorn, sync workers, ``config/gunicorn.conf.py``
with its access log) with DEBUG=0 and real keys (``keys``) on 127.0.0.1, the benchmark database,
and wrk (16 connections, 2 threads, ``--latency``) on the same machine, for:

* ``member_read``: ``GET /api/v1/members/<id>`` with the 站段 cadre's API token, random members
  of the cadre's subtree (token, rights, scope, masking, read log, schema);
* ``name_search``: ``GET /api/v1/members?q=<2 characters>``, prefixes of real names of the
  subtree (first page of 50);
* ``todo_api``: ``GET /api/v1/approvals/todo`` with the same token;
* ``todo_page``: ``GET /approvals/todo/`` with the 站段 cadre's session cookie (a session made
  the way a login makes it; the cadre has no admin duty, so no second factor is asked).

In the same run, a bare Django site (``benchmarks/bare``: the product's settings and middleware
with a URLconf of two plain views, served by the same gunicorn config with 2 sync workers)
answers the same reads on the same table — ``.values().get(pk=…)`` and a name-prefix page of 50
— before and after unionaid's turn: the anchors the member reads are held against.

Afterwards the answers are checked against the database (the right rows for the cadre), and
every wrk response must have been a 200. Load averages: before each server starts and after
each wrk run.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from .over_http import HOST, _free_port

ROOT = Path(__file__).resolve().parents[2]
CASES = ("serve",)
CONNECTIONS = 16
THREADS = 2
WORKERS = 2
MEMBER_TARGET_RATIO = 0.5
TODO_PAGE_TARGET_PER_S = 100
SAMPLE_IDS = 2000
SAMPLE_PREFIXES = 200


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _load() -> float:
    return round(os.getloadavg()[0], 2)


# -- servers ------------------------------------------------------------------------------------

def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": HOST, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Served:
    """A server process on 127.0.0.1: ``unionaid serve --role web`` or the bare site."""

    def __init__(self, kind: str, log_dir: Path):
        self.kind = kind
        self.port = _free_port()
        self.log_path = log_dir / f"serve-{kind}.log"
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        bind = f"{HOST}:{self.port}"
        if self.kind == "unionaid":
            unionaid = shutil.which("unionaid", path=str(Path(sys.executable).parent))
            if unionaid is None:
                raise SystemExit("the unionaid command is not installed next to this Python "
                                 "(make install)")
            return [unionaid, "serve", "--role", "web", "--workers", str(WORKERS), "--bind", bind]
        return [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.conf.py"),
                "--bind", bind, "--workers", str(WORKERS)]

    def __enter__(self):
        env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": HOST,
               "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT),
                                              str(ROOT / "benchmarks")]),
               "DJANGO_SETTINGS_MODULE": ("config.settings" if self.kind == "unionaid"
                                          else "bare.settings")}
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.command(), env=env, cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.kind} server exited with {self.proc.returncode}; see "
                                 f"{self.log_path}")
            try:
                if _get(self.port, "/healthz")[0] in (200, 404):
                    time.sleep(1.0 * WORKERS)  # the other worker(s) finish importing
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"{self.kind} server did not answer on {HOST}:{self.port} in 90 s")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # serve stops gunicorn and returns
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# -- wrk ----------------------------------------------------------------------------------------

LUA = """
local paths = {%(paths)s}
local n = #paths
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  bad = 0
  first_bad = ""
  math.randomseed(%(seed)d + tid)
end
%(headers)s
request = function()
  return wrk.format("GET", paths[math.random(n)])
end
response = function(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if first_bad == "" then first_bad = tostring(status) end
  end
end
function done(summary, latency, requests)
  local total = 0
  local first = ""
  for _, t in ipairs(threads) do
    total = total + t:get("bad")
    if first == "" then first = t:get("first_bad") end
  end
  io.write(string.format("BAD_STATUS %%d %%s\\n", total, first))
end
"""


def _lua(paths: list[str], headers: dict, seed: int) -> str:
    quoted = ",".join(json.dumps(p) for p in paths)
    head = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    return LUA % {"paths": quoted, "headers": head, "seed": seed}


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(text: str) -> dict:
    out: dict = {}
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
        if m:
            out[f"p{pct}_ms"] = round(_ms(*m.groups()), 2)
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["per_s"] = round(float(m.group(1)), 1) if m else 0.0
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if m:
        out["requests"] = int(m.group(1))
        out["seconds"] = round(_ms(m.group(2), m.group(3)) / 1000, 1)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx_3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                    map(int, m.groups()), strict=True)) if m else {}
    m = re.search(r"BAD_STATUS (\d+) ?(\S*)", text)
    out["non_200"] = int(m.group(1)) if m else -1
    if m and m.group(2):
        out["first_non_200"] = m.group(2)
    return out


def wrk(port: int, script: Path, seconds: int) -> dict:
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
           "--timeout", "30s", "-s", str(script), f"http://{HOST}:{port}"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    installer = ROOT / "scripts" / "ensure_wrk.sh"
    if subprocess.run([str(installer)], check=False).returncode:
        raise SystemExit("the serve suite needs wrk (see the message above)")
    return shutil.which("wrk") or ""


# -- the data the clients ask for --------------------------------------------------------------

def _workload(seed: int) -> dict:
    """Who asks (token, session) and what (member ids and name prefixes of the cadre's scope)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from unionaid.accounts.models import ApiToken, User
    from unionaid.accounts.services import api_token_create
    from unionaid.members.models import Member
    from unionaid.members.selectors import members_visible_to

    cadre = User.objects.get(username="station_cadre")
    # the tokens of earlier runs end here (their scripts are gone with them)
    ApiToken.objects.filter(user=cadre, name="bench-serve", revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    _token, raw = api_token_create(actor=cadre, name="bench-serve")
    session = SessionStore()
    session[SESSION_KEY] = str(cadre.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = cadre.get_session_auth_hash()
    session.create()

    rng = random.Random(seed)
    visible = members_visible_to(user=cadre)
    top = Member.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids: list[int] = []
    names: list[str] = []
    for _round in range(20):
        batch = {rng.randint(1, top) for _ in range(SAMPLE_IDS * 10)}
        for pk, name in visible.filter(pk__in=batch).values_list("pk", "name"):
            ids.append(pk)
            names.append(name)
        if len(ids) >= SAMPLE_IDS:
            break
    ids = ids[:SAMPLE_IDS]
    prefixes = sorted({n[:2] for n in names if len(n) >= 2})
    rng.shuffle(prefixes)
    return {"cadre": cadre, "token": raw, "session": session.session_key,
            "cookie_name": settings.SESSION_COOKIE_NAME, "ids": ids,
            "prefixes": prefixes[:SAMPLE_PREFIXES]}


def _scripts(work: dict, where: Path, seed: int) -> dict[str, Path]:
    bearer = {"Authorization": f"Bearer {work['token']}"}
    cookie = {"Cookie": f"{work['cookie_name']}={work['session']}"}
    specs = {
        "member_read": ([f"/api/v1/members/{pk}" for pk in work["ids"]], bearer),
        "name_search": ([f"/api/v1/members?q={quote(p)}" for p in work["prefixes"]], bearer),
        "todo_api": (["/api/v1/approvals/todo"], bearer),
        "todo_page": (["/approvals/todo/"], cookie),
        "bare_member_read": ([f"/bare/members/{pk}" for pk in work["ids"]], {}),
        "bare_name_search": ([f"/bare/members?q={quote(p)}" for p in work["prefixes"]], {}),
    }
    where.mkdir(parents=True, exist_ok=True)
    out = {}
    for key, (paths, headers) in specs.items():
        path = where / f"{key}.lua"
        path.write_text(_lua(paths, headers, seed))
        path.chmod(0o600)  # a live token and session
        out[key] = path
    return out


# -- checks: the server answered the right rows ------------------------------------------------

def _check_answers(port: int, work: dict) -> list[str]:
    from unionaid.approvals.selectors import todo_for_user
    from unionaid.members.selectors import member_search

    problems: list[str] = []
    cadre = work["cadre"]
    bearer = {"Authorization": f"Bearer {work['token']}"}
    for pk in work["ids"][:20]:
        status, body = _get(port, f"/api/v1/members/{pk}", bearer)
        if status != 200 or json.loads(body).get("id") != pk:
            problems.append(f"GET /api/v1/members/{pk}: {status}")
    for prefix in work["prefixes"][:10]:
        status, body = _get(port, f"/api/v1/members?q={quote(prefix)}", bearer)
        got = [i["id"] for i in json.loads(body).get("items", [])] if status == 200 else None
        want = list(member_search(user=cadre, query=prefix).values_list("pk", flat=True)[:50])
        if got != want:
            problems.append(f"name search {prefix!r}: {status}, {len(got or [])} rows, "
                            f"expected {len(want)}")
    status, body = _get(port, "/api/v1/approvals/todo", bearer)
    got = [i["id"] for i in json.loads(body).get("items", [])] if status == 200 else None
    want = [t.pk for t in todo_for_user(user=cadre)[:50]]
    if got != want:
        problems.append(f"to-do API: {status}, {len(got or [])} tasks, expected {len(want)}")
    status, body = _get(port, "/approvals/todo/",
                        {"Cookie": f"{work['cookie_name']}={work['session']}"})
    text = body.decode("utf-8", "replace")
    missing = [pk for pk in want[:20] if f"/approvals/tasks/{pk}/" not in text]
    if status != 200 or missing:
        problems.append(f"to-do page: {status}, tasks {missing[:5]} not linked")
    return problems


# -- the run ------------------------------------------------------------------------------------

def measure(*, seed: int, seconds: int, warmup_s: int, data_dir: Path) -> dict:
    from django.db import connections

    require_wrk()
    work = _workload(seed)
    log_dir = Path(os.environ.get("UNIONAID_VAR_DIR", data_dir / "var"))
    log_dir.mkdir(parents=True, exist_ok=True)
    scripts = _scripts(work, log_dir / "wrk", seed)
    connections.close_all()  # the servers get the database to themselves

    def run_cases(server: Served, keys: list[str], into: dict, suffix: str = "") -> None:
        for key in keys:
            wrk(server.port, scripts[key], warmup_s)  # untimed: caches, connections
            before = _load()
            stats = wrk(server.port, scripts[key], seconds)
            stats["load_avg"] = [before, _load()]
            into[key + suffix] = stats
            _say(f"  {key}{suffix}: {stats['per_s']} req/s, p50 {stats.get('p50_ms')} ms, "
                 f"p99 {stats.get('p99_ms')} ms, non-200 {stats['non_200']}, "
                 f"load {stats['load_avg']}")

    cases: dict = {}
    load = {"start": _load()}
    _say(f"bare site (2 sync workers) on {HOST}: anchors, before …")
    with Served("bare", log_dir) as bare:
        run_cases(bare, ["bare_member_read", "bare_name_search"], cases, "_before")
    load["before_unionaid"] = _load()
    _say("unionaid serve --role web --workers 2 …")
    with Served("unionaid", log_dir) as served:
        run_cases(served, ["member_read", "name_search", "todo_api", "todo_page"], cases)
        problems = _check_answers(served.port, work)
    load["after_unionaid"] = _load()
    _say("bare site again: anchors, after …")
    with Served("bare", log_dir) as bare:
        run_cases(bare, ["bare_member_read", "bare_name_search"], cases, "_after")
    load["end"] = _load()
    for key, stats in cases.items():
        if stats["non_200"]:
            problems.append(f"{key}: {stats['non_200']} answers were not 200 "
                            f"(first: {stats.get('first_non_200')})")
    ratios = {}
    for key in ("member_read", "name_search"):
        anchors = [cases[f"bare_{key}_{w}"]["per_s"] for w in ("before", "after")]
        ratios[key] = {"anchor_per_s": anchors,
                       "ratio": [round(cases[key]["per_s"] / a, 2) if a else 0 for a in anchors]}
    return {"cases": cases, "ratios": ratios, "load": load, "seconds": seconds,
            "connections": CONNECTIONS, "threads": THREADS, "workers": WORKERS,
            "sample_ids": len(work["ids"]), "sample_prefixes": len(work["prefixes"]),
            "invariants": {"ok": not problems, "problems": problems}}


def run(*, db: str, members: int, history: int, seed: int, data_dir, out, analyze: bool,
        seconds: int = 10, warmup_s: int = 3) -> None:
    import django

    django.setup()
    from django.db import connection

    from .assistance import _require_chain, ensure_history
    from .machine import database_version
    from .worker import _prepare

    if connection.vendor != "postgresql":
        _say("serve suite: PostgreSQL only (production's database); skipped on SQLite")
        return
    _say(f"{db}: {database_version(connection)} — serve suite")
    _prepare(members, seed, data_dir)
    _require_chain()
    ensure_history(history, seed, analyze)
    result = {"db": db, "suite": "serve", "database": database_version(connection),
              "members": members, "history_target": history, "seed": seed}
    result.update(measure(seed=seed, seconds=seconds, warmup_s=warmup_s, data_dir=data_dir))
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    if not result["invariants"]["ok"]:
        raise SystemExit("serve suite: " + "; ".join(result["invariants"]["problems"]))
