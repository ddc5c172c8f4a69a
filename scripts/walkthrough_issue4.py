"""Try issue 4 as a new user would, on a phone-sized browser window (390 × 844).

A cadre records a home visit (six-clear profile, consents, a need; once through the offline
draft), the household enters the hardship archive through the 车间 review, the public notice
(with an objection recorded and resolved) and the 站段 approval, and an application for a fitting
item starts from the record. Then a glance at the campaign dashboard, the archive list, the
watch lists and the ledger export. Every page is photographed and checked: no horizontal
scrolling, a Chinese page, no full ID number or phone in the page, no untranslated field names.

The script builds nothing: it drives a browser against a running demo server.

    # a demo server (any database; here a throw-away SQLite file)
    export DATABASE_URL=sqlite:////tmp/walk.sqlite3 UNIONAID_VAR_DIR=/tmp/walkvar DEBUG=1
    .venv/bin/unionaid migrate
    .venv/bin/unionaid demo --members 1500 --applications 60 --visits 120
    .venv/bin/unionaid runserver 127.0.0.1:8765 &

    # the browser side: Debian's chromium + chromium-driver, a CJK font for the screenshots
    # (fonts-wqy-microhei), and selenium in a throw-away venv (never the project's .venv)
    python3 -m venv /tmp/selenv && /tmp/selenv/bin/pip install selenium
    /tmp/selenv/bin/python scripts/walkthrough_issue4.py --base-url http://127.0.0.1:8765 \\
        --unionaid .venv/bin/unionaid --out /tmp/walk

One step cannot go through the UI: the public notice lasts 5 Chinese working days and the
approval engine refuses to approve it earlier. To let the time pass, the notice task's
``due_at`` is moved one minute into the past with a one-line ``unionaid shell -c`` command (the
same database as the server: run with the server's environment). With ``--unionaid`` the script
runs it; without, it prints it and waits for Enter. Cadres have no second factor in the demo;
should a login ask for one, ``--unionaid`` is used to get the code (``unionaid demo_otp``).

Each run registers a new worker (a synthetic ID number) in the team cadre's 班组, because the
demo has already enrolled that team's members. Exit status 1 when a check failed; the
screenshots and a summary are in ``--out``.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

PASSWORD = "Demo-2026-pass"
WIDTH, HEIGHT = 390, 844
DRAFTS_KEY = "unionaid.visitDrafts.v1"
NOTICE_MOVE = (
    "import datetime as dt; from django.utils import timezone; "
    "from unionaid.approvals.models import ApprovalTask; "
    "print(ApprovalTask.objects.filter(pk={task}, step__is_public_notice=True, status='pending')"
    ".update(due_at=timezone.now() - dt.timedelta(minutes=1)))"
)
# a snake_case word shown to the user is an untranslated field name
RAW_NAME = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def id_number(birth: str, seq: str, region: str = "140107") -> str:
    """A synthetic 18-digit ID number with a valid check digit (GB 11643)."""
    body = region + birth + seq
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@dataclass
class Walk:
    base: str
    out: Path
    unionaid: str | None
    driver: webdriver.Chrome
    shots: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # never in a page in full

    # -- browser helpers ------------------------------------------------------------------------
    def go(self, path: str) -> None:
        self.open(self.base + path)

    def open(self, url: str) -> None:
        """Load a page; wait out a development server that is restarting (autoreload)."""
        for attempt in range(30):
            try:
                self.driver.get(url)
                return
            except WebDriverException as exc:
                if "ERR_CONNECTION_REFUSED" not in str(exc) or attempt == 29:
                    raise
                time.sleep(1)

    def wait(self, condition, timeout: float = 10):
        return WebDriverWait(self.driver, timeout).until(condition)

    def el(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def els(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def link(self, text: str):
        return self.driver.find_element(By.PARTIAL_LINK_TEXT, text)

    def button(self, text: str):
        return self.driver.find_element(
            By.XPATH, f"//main//button[contains(normalize-space(.), '{text}')]")

    def click(self, element) -> None:
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        try:
            element.click()
        except ElementClickInterceptedException:  # under the sticky submit bar
            self.driver.execute_script("arguments[0].click()", element)

    def fill(self, name: str, value: str) -> None:
        element = self.driver.find_element(By.NAME, name)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)

    def tick(self, name: str, value: str | None = None, on: bool = True) -> None:
        css = f"input[name='{name}']" + (f"[value='{value}']" if value else "")
        box = self.el(css)
        if box.is_selected() != on:
            self.click(box)

    def text(self) -> str:
        return self.el("main").text

    def alerts(self) -> list[str]:
        return [a.text for a in self.els(".alert") if a.is_displayed() and a.text]

    def submit_and_wait(self, element) -> None:
        old = self.el("html")
        self.click(element)
        self.wait(ec.staleness_of(old))

    # -- checks ---------------------------------------------------------------------------------
    def check(self, ok: bool, what: str) -> bool:
        print(("  ok   " if ok else "  FAIL ") + what)
        if not ok:
            self.problems.append(what)
        return ok

    def look(self, name: str) -> str:
        """Photograph the whole page at phone width and check it."""
        self.shots += 1
        label = f"{self.shots:02d}-{name}"
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        height = min(int(metrics["cssContentSize"]["height"]), 8000)
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}})
        (self.out / f"{label}.png").write_bytes(base64.b64decode(shot["data"]))
        print(f"[{label}] {self.driver.current_url}")
        widths = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        self.check(widths[0] <= widths[1], f"{label}: no horizontal scrolling ({widths})")
        lang = self.driver.execute_script("return document.documentElement.lang")
        self.check(lang.startswith("zh"), f"{label}: page language is Chinese ({lang})")
        source = self.driver.page_source
        for secret in self.secrets:
            self.check(secret not in source, f"{label}: personal data masked")
        raw = sorted(set(RAW_NAME.findall(self.text())))
        self.check(not raw, f"{label}: no untranslated field names {raw or ''}".rstrip())
        return label

    # -- logins ---------------------------------------------------------------------------------
    def login(self, username: str) -> None:
        self.driver.delete_all_cookies()
        self.go("/accounts/login/")
        self.fill("username", username)
        self.fill("password", PASSWORD)
        self.submit_and_wait(self.el("main form button[type=submit]"))
        if "/accounts/otp/" in self.driver.current_url:
            self.fill("token", self.otp(username))
            self.submit_and_wait(self.el("main form button[type=submit]"))
        self.check("/accounts/login/" not in self.driver.current_url, f"login as {username}")

    def otp(self, username: str) -> str:
        if self.unionaid:
            result = subprocess.run([self.unionaid, "demo_otp", username],  # noqa: S603
                                    capture_output=True, text=True, check=True)
            return re.search(r"\b\d{6}\b", result.stdout).group(0)
        return input(f"{username} needs a TOTP code (unionaid demo_otp {username}): ").strip()

    def move_notice(self, task_id: int) -> None:
        command = NOTICE_MOVE.format(task=task_id)
        self.notes.append(f"outside the UI: moved notice task {task_id}'s due_at 1 minute into "
                          f"the past: unionaid shell -c \"{command}\"")
        if self.unionaid:
            result = subprocess.run([self.unionaid, "shell", "-c", command],  # noqa: S603
                                    capture_output=True, text=True, check=True)
            self.check(result.stdout.strip().endswith("1"), f"notice task {task_id} moved")
        else:
            print(f"Run with the server's environment, then press Enter:\n  unionaid shell -c "
                  f"\"{command}\"")
            input()


def step1_visit(w: Walk, stamp: str) -> dict:
    print("== 1. team cadre: a new worker, a home visit (offline once), consents, a need")
    w.login("team_cadre")
    w.look("team-home")
    w.go("/members/new/")
    ident = id_number(f"1980{stamp[:4]}", stamp[4:7])
    phone = f"139{stamp}0"[:11]
    w.secrets[:] = [ident, phone]
    w.fill("name", "赵建国")
    w.fill("id_number", ident)
    w.fill("phone", phone)
    Select(w.el("select[name=org_unit]")).select_by_index(1)
    w.submit_and_wait(w.el("main form button[type=submit]"))
    member_url = w.driver.current_url
    w.check(re.search(r"/members/\d+/$", member_url) is not None, "worker registered")
    w.look("member-new")
    w.click(w.link("登记走访"))
    w.wait(ec.presence_of_element_located((By.ID, "visit-form")))
    w.look("visit-form-empty")
    campaign = w.els("select[name=campaign_id]")
    w.check(bool(campaign) and Select(campaign[0]).first_selected_option.get_attribute("value"),
            "the running campaign is preselected")
    w.fill("place", "职工家中")
    w.fill("summary", "妻子患病正在化疗，母亲慢性病，儿子上小学，一家靠职工一人工资，租房居住。")
    w.fill("satisfaction", "5")
    w.tick("hardship_found")
    household = [("王秀兰", "spouse", "44", "major_illness", "", "无业"),
                 ("赵小明", "child", "11", "healthy", "primary", ""),
                 ("李桂芝", "parent", "72", "chronic", "", "无业")]
    for n, (name, relation, age, health, school, job) in enumerate(household, start=1):
        if not w.els(f"[name='household-{n}-name']"):
            w.click(w.el("[data-add-row=household]"))
        w.fill(f"household-{n}-name", name)
        w.fill(f"household-{n}-relation", relation)
        w.fill(f"household-{n}-age", age)
        w.fill(f"household-{n}-health", health)
        if school:
            w.fill(f"household-{n}-schooling", school)
        if job:
            w.fill(f"household-{n}-occupation", job)
    w.fill("incomes-0-source", "wage")
    w.fill("incomes-0-monthly", "2600")
    w.fill("incomes-1-source", "pension")
    w.fill("incomes-1-monthly", "600")
    w.tick("causes", "illness")
    w.tick("causes", "schooling")
    w.fill("housing_kind", "rent")
    w.fill("housing_homes", "0")
    w.fill("housing_area", "45")
    w.tick("health_major_illness")
    w.tick("health_chronic")
    w.fill("health_note", "配偶化疗中")
    w.fill("schooling-0-name", "赵小明")
    w.fill("schooling-0-stage", "primary")
    w.fill("schooling-0-annual_cost", "2000")
    w.fill("expenses_medical_annual", "12000")
    w.fill("expenses_schooling_annual", "2000")
    w.fill("needs-0-kind", "money")
    w.fill("needs-0-note", "配偶化疗费用负担重，希望申请救助")
    time.sleep(0.5)  # the live preview and the draft save are debounced
    preview = w.el("#per-capita-preview").text
    w.check("508.33" in preview, "per-capita preview (38,400 − 14,000) ÷ 12 ÷ 4 = 508.33")
    w.look("visit-form-filled")
    # both consents are asked for at once, before anything is sent or queued
    w.click(w.el("#visit-submit"))
    time.sleep(0.5)
    error = w.el("#visit-error").text
    w.check("健康信息" in error and "14周岁" in error, "both missing consents named at once")
    queued = json.loads(w.driver.execute_script(
        f"return localStorage.getItem('{DRAFTS_KEY}') || '{{}}'"))
    w.check(all(d["state"] != "queued" for d in queued.values()), "nothing queued without consent")
    w.look("visit-consents-missing")
    w.tick("consent_health")
    w.tick("consent_children")
    # offline: the visit is kept on the phone ...
    w.driver.set_network_conditions(offline=True, latency=0, throughput=0)
    w.click(w.el("#visit-submit"))
    time.sleep(0.5)
    drafts = json.loads(w.driver.execute_script(f"return localStorage.getItem('{DRAFTS_KEY}')"))
    w.check([d["state"] for d in drafts.values()] == ["queued"], "offline: the draft is queued")
    w.check("网络不通" in w.el("#draft-status").text, "offline: the cadre is told")
    w.look("visit-offline-queued")
    # ... the page is left while still offline, and the visit ledger sends it later
    w.driver.get("about:blank")
    w.driver.set_network_conditions(offline=False, latency=0, throughput=-1)
    w.go("/visits/")
    w.wait(lambda d: d.execute_script(f"return localStorage.getItem('{DRAFTS_KEY}')") == "{}")
    w.wait(ec.visibility_of_element_located((By.CSS_SELECTOR, "#local-drafts .draft-sent a")))
    w.look("visit-ledger-sent-draft")
    w.click(w.el("#local-drafts .draft-sent a"))
    w.wait(ec.url_matches(r"/visits/\d+/$"))
    visit_url = w.driver.current_url
    page = w.text()
    w.check("508.33" in page and "王**" in page, "visit detail: figures, household names masked")
    w.check("进万家" in page, "visit counted in the running campaign")
    w.look("visit-detail")
    return {"member_url": member_url, "visit_url": visit_url}


def step2_enrol(w: Walk, found: dict) -> str:
    print("== 2. enrolment from the visit: calculation preview, submit")
    w.open(found["visit_url"])
    w.click(w.link("申请困难建档"))
    w.wait(ec.url_matches(r"/archive/enrol/\d+/$"))
    page = w.text()
    w.check("深度困难" in page and "508.33 < 820.00" in page, "preview: 深度困难 against 820")
    w.look("enrol-preview")
    w.fill("reason", "入户走访发现配偶大病化疗、子女上学，人均收入低于低保标准，申请建档。")
    w.submit_and_wait(w.button("提交建档申请"))
    w.check(re.search(r"/archive/\d+/$", w.driver.current_url) is not None, "record created")
    w.check("建档审批中" in w.text(), "record pending")
    w.look("record-pending")
    return w.driver.current_url


def open_task(w: Walk, name: str) -> None:
    w.go("/approvals/todo/")
    w.look("todo")
    links = [a for a in w.els("main a") if a.text.strip() == name]
    w.check(bool(links), f"the case is in 我的待办 ({name})")
    w.click(links[-1])
    w.wait(ec.url_matches(r"/approvals/tasks/\d+/$"))


def decide(w: Walk, comment: str) -> list[str]:
    w.fill("comment", comment)
    w.submit_and_wait(w.el("button[name=decision][value=approve]"))
    return w.alerts()


def step3_approvals(w: Walk, record_url: str) -> None:
    print("== 3. approvals: 车间 review, public notice with an objection, 站段 approval")
    w.login("workshop_cadre")
    open_task(w, "赵建国")
    w.look("task-workshop")
    w.check(any("已办理" in a for a in decide(w, "经入户核实，情况属实，同意。")),
            "车间 review approved")

    w.login("station_cadre")
    open_task(w, "赵建国")
    notice_task = int(re.search(r"/tasks/(\d+)/", w.driver.current_url).group(1))
    w.look("task-notice")
    refused = decide(w, "")
    w.check(any("公示期未满" in a for a in refused), "approving during the notice is refused")
    w.look("task-notice-refused")

    w.open(record_url)
    w.check("公示中" in w.text(), "record page: notice banner")
    w.click(w.driver.find_element(By.XPATH, "//summary[contains(., '登记异议')]"))
    w.fill("raised_by_label", "同车间职工（匿名）")
    w.fill("content", "反映该职工配偶在外打零工，有收入未登记，请核实。")
    w.submit_and_wait(w.el("#objection-form button[type=submit]"))
    w.check(any("已登记异议" in a for a in w.alerts()), "objection recorded")
    w.look("record-objection")

    w.move_notice(notice_task)
    w.open(record_url)
    w.check("公示期已满" in w.text() and "1 条异议未核实" in w.text(),
            "record page: notice over, one objection open")
    w.look("record-notice-over")
    w.click(w.link("办理当前待办"))
    w.wait(ec.url_matches(r"/approvals/tasks/\d+/$"))
    w.check(any("未核实处理" in a for a in decide(w, "公示期满。")),
            "approving with an open objection is refused")

    w.open(record_url)
    upheld = w.el("select[name$='-upheld']")
    prefix = upheld.get_attribute("name").rsplit("-", 1)[0]
    Select(upheld).select_by_value("no")
    w.fill(f"{prefix}-resolution", "经车间核实，配偶化疗无法工作，未打零工，异议不成立。")
    w.submit_and_wait(w.button("保存核实结果"))
    w.check(any("已记录核实处理结果" in a for a in w.alerts()), "objection resolved")
    w.look("record-objection-resolved")
    w.click(w.link("办理当前待办"))
    w.wait(ec.url_matches(r"/approvals/tasks/\d+/$"))
    w.check(any("已办理" in a for a in decide(w, "公示期满，异议经核实不成立。")), "notice approved")
    open_task(w, "赵建国")
    w.look("task-station")
    w.check(any("已办理" in a for a in decide(w, "同意建档。")), "站段 approval")
    w.open(record_url)
    w.check("在档" in w.text(), "record active (在档)")
    w.look("record-active")


def step4_application(w: Walk, record_url: str) -> None:
    print("== 4. team cadre: an application for a fitting item from the record")
    w.login("team_cadre")
    w.open(record_url)
    w.look("record-active-team")
    w.click(w.el("#apply-link"))
    w.click(w.el("#apply a.btn"))  # 转帮扶申请 of the visit's open need
    w.wait(ec.url_matches(r"/visits/needs/\d+/application/$"))
    fitting = [e.text.split("\n")[0] for e in w.els("#fitting-items label")]
    w.check("深度困难职工生活补助" in " ".join(fitting), f"fitting items offered first: {fitting}")
    w.look("need-items")
    choice = next(e for e in w.els("#fitting-items label") if "深度困难职工生活补助" in e.text)
    w.click(choice.find_element(By.CSS_SELECTOR, "input"))
    w.submit_and_wait(w.button("生成申请草稿"))
    w.check(any("须征得职工同意" in a for a in w.alerts()) or "须征得职工同意" in w.text(),
            "the worker's consent is asked for")
    w.look("need-consent-missing")
    w.tick("consent")
    w.submit_and_wait(w.button("生成申请草稿"))
    w.check(re.search(r"/assistance/applications/\d+/$", w.driver.current_url) is not None,
            "the application draft opens")
    page = w.text()
    w.check("草稿" in page and "走访发现" in page, "draft pre-filled from the visit")
    w.look("application-draft")


def step5_glance(w: Walk) -> None:
    print("== 5. dashboard, archive list, watch lists, ledgers (station cadre)")
    w.login("station_cadre")
    w.go("/visits/campaigns/")
    w.click(w.link("进万家"))
    w.wait(ec.url_matches(r"/visits/campaigns/\d+/$"))
    w.look("campaign-dashboard")
    for path, name in (("/archive/", "archive-list"), ("/archive/watch/", "watch-lists"),
                       ("/archive/recheck/", "recheck-due"), ("/archive/ledgers/", "ledgers")):
        w.go(path)
        w.look(name)
    downloads = w.out / "downloads"
    downloads.mkdir(exist_ok=True)
    w.driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                             {"behavior": "allow", "downloadPath": str(downloads)})
    before = set(downloads.iterdir())
    w.click(w.button("导出"))
    try:
        WebDriverWait(w.driver, 20).until(
            lambda d: any(p.suffix == ".xlsx" for p in set(downloads.iterdir()) - before))
        w.check(True, "archive ledger exported (.xlsx)")
    except TimeoutException:
        w.check(False, "archive ledger exported (.xlsx)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the running server")
    parser.add_argument("--out", required=True,
                        help="folder for the screenshots and summary.md (outside the repo)")
    parser.add_argument("--unionaid", help="the unionaid command, for the notice move and OTP")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--show", action="store_true", help="a visible window, not headless")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for flag in ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 f"--window-size={WIDTH},{HEIGHT}", "--lang=zh-CN"):
        options.add_argument(flag)
    if not args.show:
        options.add_argument("--headless=new")
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": True})
    walk = Walk(base=args.base_url.rstrip("/"), out=out, unionaid=args.unionaid, driver=driver)
    stamp = f"{random.randint(1, 12):02d}{random.randint(10, 28)}{random.randint(100, 999)}"  # noqa: S311
    try:
        found = step1_visit(walk, stamp)
        record_url = step2_enrol(walk, found)
        step3_approvals(walk, record_url)
        step4_application(walk, record_url)
        step5_glance(walk)
    except Exception as exc:  # keep what was seen so far
        walk.look("stopped-here")
        walk.problems.append(f"stopped: {type(exc).__name__}: {exc}".splitlines()[0])
        raise
    finally:
        summary = ["# issue 4 walkthrough", *walk.notes, "", "## problems",
                   *(walk.problems or ["none"])]
        (out / "summary.md").write_text("\n".join(summary) + "\n", encoding="utf-8")
        print("\n".join(summary))
        driver.quit()
    return 1 if walk.problems else 0


if __name__ == "__main__":
    sys.exit(main())
