"""The real-browser suite: Debian's chromium driven by Playwright against pytest-django's live
server, on phone (390×844) and desktop (1366×900) sizes. Run by ``make browser-test`` (which
installs chromium when missing), never by ``make test``: these tests live outside ``testpaths``.

Every page a journey reaches is checked (see ``checks.py``): no console error, no sideways
scroll, no raw template tag or comment, no English phrase or code shown on a Chinese page.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.browser.checks import VIEWPORTS, Browse
from unionaid.accounts.models import User
from unionaid.core.testing.fixtures import sms_gateway  # noqa: F401 (the SMS gateway fake)

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told that is fine (the tests' own setup queries run here).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


def pytest_sessionfinish(session, exitstatus):
    """The browser suite never skips: a skipped test (or none run) fails the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"browser-test: {skipped} test(s) skipped; the browser suite "
                            "never skips, so this run fails.", red=True)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """A file database, not the suite's in-memory one: the live server answers the browser's
    parallel requests (a page and its images) on several threads, each with its own connection,
    as in production; threads sharing one in-memory SQLite connection lock each other out."""
    test = settings.DATABASES["default"].setdefault("TEST", {})
    test["NAME"] = str(tmp_path_factory.mktemp("browser-db") / "unionaid.sqlite3")


@pytest.fixture(scope="session")
def chromium():
    """One chromium for the session. Missing chromium is a failure, never a skip."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-test`, which installs Debian's "
                    "chromium, or set CHROMIUM to a chromium binary.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=sorted(VIEWPORTS))
def size(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker):
    """A small demo union, built once: the demo builder (tree, personas, members, the 三助 chain
    with applications in every state, visits and the hardship archive), kept as a copy of the
    SQLite test database that each test starts from (building it takes longer than a journey)."""
    from unionaid.web.demo import build_demo

    if connection.vendor != "sqlite":
        pytest.fail("the browser suite runs on SQLite (make browser-test), not "
                    f"{connection.vendor}", pytrace=False)
    with django_db_blocker.unblock():
        build_demo(members=60, applications=24, visits=8)
        connection.ensure_connection()
        snapshot = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(snapshot)
        call_command("flush", interactive=False, verbosity=0)
    yield snapshot
    snapshot.close()


@pytest.fixture
def demo(demo_snapshot, transactional_db):
    """The demo union, as built, for this test (the live server shares this connection)."""
    connection.ensure_connection()
    demo_snapshot.backup(connection.connection)
    assert User.objects.filter(username="worker").exists()


@pytest.fixture
def browse(chromium, live_server, size, demo):
    """``browse(username)``: a fresh browser context of the test's size, logged in as a demo
    persona through the login page (itself checked)."""
    contexts = []

    def open_as(username: str | None) -> Browse:
        context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                       accept_downloads=True, **VIEWPORTS[size])
        context.set_default_timeout(15_000)
        contexts.append(context)
        session = Browse(context, live_server.url, size)
        if username:
            session.login(username)
        return session

    yield open_as
    for context in contexts:
        context.close()
