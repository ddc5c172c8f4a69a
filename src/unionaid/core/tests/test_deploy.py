"""deploy/ (systemd units, env example, nginx site) agrees with the code it deploys, and the
wheel (make wheelhouse) carries what the app reads at run time. docs/deploy.md walks them."""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import tomllib
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import RequestFactory, override_settings

from unionaid.archive.ledgers import uploads as archive_uploads
from unionaid.assistance import storage
from unionaid.core import context
from unionaid.core.checks import check_data_folders
from unionaid.core.management.commands import serve
from unionaid.members import tasks as member_tasks
from unionaid.visits.services import visits

ROOT = Path(__file__).resolve().parents[4]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
ENV_EXAMPLE = DEPLOY / "unionaid.env.example"
NGINX_SITE = DEPLOY / "nginx" / "unionaid.conf"
VENV_BIN = "/opt/unionaid/venv/bin/unionaid"


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}} (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def nginx_directives(name: str) -> list[str]:
    return [m.group(1).strip() for m in
            re.finditer(rf"^\s*{re.escape(name)}\s+([^;]*);", NGINX_SITE.read_text(), re.M)]


def settings_read() -> tuple[set[str], set[str]]:
    """The environment names the project reads: through settings' env() (so also as
    NAME_FILE), and straight from os.environ (no _FILE variant)."""
    sources = (ROOT / "config" / "settings.py").read_text() + (
        Path(serve.__file__).read_text())
    via_env = set(re.findall(r"\benv(?:_bool|_int)?\(\s*\"([A-Z0-9_]+)\"", sources))
    direct = set(re.findall(r"os\.environ\.get\(\s*\"([A-Z0-9_]+)\"", sources))
    return via_env, direct


# -- systemd units ----------------------------------------------------------------------------

def test_there_is_one_unit_for_a_small_union_and_one_per_role_for_a_larger_one():
    assert [u.name for u in UNITS] == ["unionaid-scheduler.service", "unionaid-web.service",
                                       "unionaid-worker.service", "unionaid.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_starts_a_real_serve_role(unit):
    argv = shlex.split(read_unit(unit)["Service"]["ExecStart"][0])
    assert argv[0] == VENV_BIN
    assert argv[1] == "serve"
    role = argv[argv.index("--role") + 1] if "--role" in argv else "all"
    if role not in serve.ROLES:
        pytest.skip(f"the serve role {role!r} arrives with the scheduler (unionaid scheduler)")
    out = StringIO()
    call_command("serve", *argv[2:], "--dry-run", stdout=out)
    lines = out.getvalue().splitlines()
    expected = serve.plan(role=role, bind="127.0.0.1:8000", workers=1, task_workers=1)
    assert len(lines) == len(expected)
    # each line starts the same program as the plan for that role (gunicorn, db_worker, …)
    for line, command in zip(lines, expected, strict=True):
        assert line.split()[1:3] == command[1:3]
    unit_name = unit.name.removesuffix(".service")
    assert role == {"unionaid": "all"}.get(unit_name, unit_name.removeprefix("unionaid-"))


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_sandboxed_as_the_unionaid_user_with_the_env_file(unit):
    service = read_unit(unit)["Service"]
    one = {key: values[-1] for key, values in service.items()}
    assert one["User"] == one["Group"] == "unionaid"
    assert one["EnvironmentFile"] == "/etc/unionaid/unionaid.env"
    assert one["Restart"] == "on-failure"
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "PrivateTmp": "yes", "ProtectHome": "yes"}.items():
        assert one[key] == value, key
    writable = one["ReadWritePaths"].split()
    env = env_example()
    for folder in (env["UNIONAID_VAR_DIR"], env["PRIVATE_MEDIA_ROOT"]):
        assert any(folder == w or folder.startswith(w + "/") for w in writable), folder
    assert "WantedBy" in read_unit(unit)["Install"]


def test_the_small_union_unit_and_the_split_units_exclude_each_other():
    conflicts = read_unit(DEPLOY / "systemd" / "unionaid.service")["Unit"]["Conflicts"][0].split()
    assert sorted(conflicts) == [u.name for u in UNITS if u.name != "unionaid.service"]


def test_the_ua_helper_runs_the_units_program_with_the_units_env_file(tmp_path):
    """`sudo ua migrate` is what the services run: the same program, the same settings."""
    helper = (DEPLOY / "ua").read_text()
    service = read_unit(DEPLOY / "systemd" / "unionaid.service")["Service"]
    assert f"UNIONAID_ENV_FILE:-{service['EnvironmentFile'][0]}}}" in helper
    assert f"UNIONAID:-{VENV_BIN}}}" in helper
    assert f"UNIONAID_USER:-{service['User'][0]}}}" in helper
    fake = tmp_path / "unionaid"
    fake.write_text('#!/bin/sh\necho "$DEBUG $UNIONAID_BIND $STATIC_ROOT $*"\n')
    fake.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "UNIONAID": str(fake),
           "UNIONAID_ENV_FILE": str(ENV_EXAMPLE), "UNIONAID_USER": os.environ.get("USER")
           or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()}
    out = subprocess.run(["sh", str(DEPLOY / "ua"), "check", "--deploy"], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    example = env_example()
    assert out == [example["DEBUG"], example["UNIONAID_BIND"], example["STATIC_ROOT"],
                   "check", "--deploy"]


def test_the_ua_helper_lets_a_database_url_on_the_command_line_win(tmp_path):
    """The restore drill (docs/backup.md): `sudo DATABASE_URL=postgres:///drill ua restore …`
    uses the env file's keys but the scratch database, never the live one."""
    fake = tmp_path / "unionaid"
    fake.write_text('#!/bin/sh\necho "$DATABASE_URL ${DATABASE_URL_FILE:-none}"\n')
    fake.chmod(0o755)
    env_file = tmp_path / "unionaid.env"
    env_file.write_text(ENV_EXAMPLE.read_text() + "DATABASE_URL_FILE=/etc/unionaid/keys/db\n")
    env = {"PATH": os.environ["PATH"], "UNIONAID": str(fake), "UNIONAID_ENV_FILE": str(env_file),
           "UNIONAID_USER": subprocess.run(["id", "-un"], capture_output=True,
                                           text=True).stdout.strip()}

    def ua(**extra):
        return subprocess.run(["sh", str(DEPLOY / "ua"), "restore"], env={**env, **extra},
                              capture_output=True, text=True, check=True).stdout.split()

    assert ua() == [env_example()["DATABASE_URL"], "/etc/unionaid/keys/db"]
    assert ua(DATABASE_URL="postgres:///drill") == ["postgres:///drill", "none"]


# -- env example ---------------------------------------------------------------------------------

def env_example_optional() -> list[str]:
    """The names of the commented-out settings (``#NAME=value``: set them to use them)."""
    return re.findall(r"^#([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M)


def test_the_env_example_names_only_settings_the_project_reads():
    via_env, direct = settings_read()
    assert "SMS_GATEWAY_URL" in env_example_optional()  # the message settings are offered
    for name in [*env_example(), *env_example_optional()]:
        if name.endswith("_FILE"):
            assert name.removesuffix("_FILE") in via_env, f"{name}: no env() reads it"
        else:
            assert name in via_env | direct, f"{name} is read by nothing"


def test_the_env_example_keeps_secrets_in_files():
    env = env_example()
    for secret in ("SECRET_KEY", "UNIONAID_KEYS", "UNIONAID_INDEX_KEY"):
        assert secret not in env
        assert env[f"{secret}_FILE"].startswith("/etc/unionaid/keys/")


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """config.settings as loaded in a fresh process with the env example, as systemd loads it
    (the key files in place)."""
    folder = tmp_path_factory.mktemp("keys")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "UNIONAID_", "DATABASE_")) and k != "DEBUG"}
    for name, value in env_example().items():
        if name.endswith("_FILE"):
            path = folder / Path(value).name
            path.write_text("k1:" + "A" * 43 + "=" if "KEYS" in name else "secret-" * 8)
            value = str(path)
        env[name] = value
    names = ["DEBUG", "UNIONAID_DEV_KEYS", "SECURE_PROXY_SSL_HEADER", "CLIENT_IP_HEADER",
             "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
             "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "STATIC_ROOT", "STATIC_URL", "DATABASES"]
    probe = ("import json, config.settings as s; "
             f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=str))")
    result = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, check=True,
                            capture_output=True, text=True)
    return json.loads(result.stdout)


def test_the_env_example_gives_production_settings(production):
    """No DEBUG, no dev keys, the proxy's headers trusted, secure cookies, the site's name."""
    assert production["DEBUG"] is False
    assert production["UNIONAID_DEV_KEYS"] is False
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert production["CLIENT_IP_HEADER"] == "HTTP_X_REAL_IP"
    assert production["SESSION_COOKIE_SECURE"]
    assert production["CSRF_COOKIE_SECURE"]
    assert production["SECURE_SSL_REDIRECT"]
    assert production["CSRF_TRUSTED_ORIGINS"] == [
        f"https://{host}" for host in production["ALLOWED_HOSTS"]]
    assert production["STATIC_ROOT"] == env_example()["STATIC_ROOT"]
    assert production["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"


# -- nginx site ------------------------------------------------------------------------------

def header_from_meta(meta_name: str) -> str:
    """HTTP_X_FORWARDED_PROTO -> x-forwarded-proto"""
    return meta_name.removeprefix("HTTP_").replace("_", "-").lower()


def test_nginx_sets_the_headers_the_settings_trust_from_values_clients_cannot_forge(
        production):
    """The scheme header SECURE_PROXY_SSL_HEADER trusts and the address header
    CLIENT_IP_HEADER trusts are both set by nginx itself, overwriting a client's."""
    set_headers = dict(d.split(None, 1) for d in nginx_directives("proxy_set_header"))
    set_headers = {name.lower(): value for name, value in set_headers.items()}
    proto_header, https = production["SECURE_PROXY_SSL_HEADER"]
    assert set_headers[header_from_meta(proto_header)] == "$scheme"
    assert https == "https"
    assert set_headers[header_from_meta(production["CLIENT_IP_HEADER"])] == "$remote_addr"
    assert set_headers["host"] == "$host"


def test_nginx_serves_the_site_named_in_the_env_example_over_https_only(production):
    names = set(nginx_directives("server_name"))
    assert names == set(production["ALLOWED_HOSTS"])
    assert production["CSRF_TRUSTED_ORIGINS"] == [f"https://{n}" for n in sorted(names)]
    assert nginx_directives("return") == ["301 https://$host$request_uri"]
    assert {d.split()[0] for d in nginx_directives("listen")} == {"80", "[::]:80", "443", "[::]:443"}
    assert all("ssl" in d for d in nginx_directives("listen") if "443" in d)


def test_nginx_proxies_to_the_address_serve_binds_and_serves_static_root(production):
    env = env_example()
    assert nginx_directives("server")[0] == env["UNIONAID_BIND"]
    assert f"location {production['STATIC_URL']} " in NGINX_SITE.read_text()
    assert nginx_directives("alias")[0] == production["STATIC_ROOT"] + "/"
    # uploads and exports are served only through the app's views, never from disk
    served = nginx_directives("alias") + nginx_directives("root")
    assert not [p for p in served if p.startswith(env["UNIONAID_VAR_DIR"])]


def test_nginx_accepts_the_largest_upload_the_app_accepts():
    limit = nginx_directives("client_max_body_size")[0]
    nginx_bytes = int(limit.rstrip("m")) << 20
    largest = max(member_tasks.max_upload_bytes(), archive_uploads.max_upload_bytes(),
                  visits.MAX_PHOTOS_PER_SUBMIT * storage.max_bytes())
    assert largest < nginx_bytes <= largest + (16 << 20)


# -- the settings the proxy relies on ------------------------------------------------------

@override_settings(CLIENT_IP_HEADER="HTTP_X_REAL_IP")
def test_behind_the_proxy_the_client_address_is_the_one_nginx_passes_on():
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="10.20.30.40")
    assert context.client_ip(request) == "10.20.30.40"


@override_settings(CLIENT_IP_HEADER="HTTP_X_REAL_IP")
@pytest.mark.parametrize("forged", ["x", "1.2.3.4, 5.6.7.8", "<script>", "999.1.1.1"])
def test_a_header_that_is_not_an_address_is_ignored(forged):
    """Whatever reaches the app port with a bad header: journaled as the connection's address,
    never as text PostgreSQL's inet column would refuse (a 500 on every journaled write)."""
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_REAL_IP=forged)
    assert context.client_ip(request) == "10.1.1.1"


@override_settings(CLIENT_IP_HEADER="HTTP_X_REAL_IP", TRUSTED_PROXIES=["10.9.0.0/24"])
def test_only_a_trusted_proxy_is_believed():
    """Someone reaching an app server's port directly cannot choose their journaled address
    (nor dodge the per-address rate limits)."""
    direct = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_REAL_IP="10.20.30.40")
    assert context.client_ip(direct) == "10.1.1.1"
    proxied = RequestFactory().get("/", REMOTE_ADDR="10.9.0.5", HTTP_X_REAL_IP="10.20.30.40")
    assert context.client_ip(proxied) == "10.20.30.40"


@override_settings(CLIENT_IP_HEADER=None)
def test_without_the_proxy_a_forwarded_address_is_ignored():
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_REAL_IP="10.20.30.40")
    assert context.client_ip(request) == "10.1.1.1"


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_the_health_check_answers_plain_http_while_pages_redirect_to_https(client):
    assert client.get("/healthz").status_code == 200
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_check_deploy_warns_when_data_would_be_written_inside_the_installed_program(settings):
    site_packages = Path(sysconfig.get_paths()["purelib"])
    settings.STATIC_ROOT = site_packages / "var" / "static"
    settings.PRIVATE_MEDIA_ROOT = site_packages / "var" / "private"
    assert [w.id for w in check_data_folders()] == ["unionaid.W003"]
    settings.STATIC_ROOT = "/var/www/unionaid/static"
    settings.PRIVATE_MEDIA_ROOT = "/var/lib/unionaid/private"
    assert check_data_folders() == []


# -- the wheel -------------------------------------------------------------------------------

def test_the_wheel_carries_every_template_static_and_locale_file():
    """pyproject's package-data globs cover each file the app reads under these folders (a
    file they missed would be absent on a server installed from the wheelhouse)."""
    package = ROOT / "src" / "unionaid"
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["unionaid"]
    for folder in ("templates", "static", "locale"):
        files = [p.relative_to(package).as_posix() for p in (package / folder).rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts]
        assert files, folder
        shipped = {f for g in globs for f in glob.glob(g, root_dir=package, recursive=True)}
        assert not set(files) - shipped


def test_settings_find_templates_static_and_locale_in_the_installed_package():
    """No path under the checkout: installed from the wheel, the package is in site-packages."""
    import unionaid

    package = Path(unionaid.__file__).resolve().parent
    assert settings.TEMPLATES[0]["DIRS"] == [package / "templates"]
    assert [package / "static"] == settings.STATICFILES_DIRS
    assert [package / "locale"] == settings.LOCALE_PATHS
    settings_py = (ROOT / "config" / "settings.py").read_text()
    assert 'BASE_DIR / "src"' not in settings_py
