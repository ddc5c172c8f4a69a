"""What every page a journey reaches must satisfy, and the small browsing helper that checks it.

- no console error and no uncaught script error (a 404 for a page's asset is a console error);
- no sideways scroll: ``document.documentElement.scrollWidth <= clientWidth``;
- no raw template syntax in the page text (``{%``, ``{{``, ``{#``: an unclosed or multi-line
  Django comment is printed as text);
- no tab of a one-line tab bar (``.nav.flex-nowrap``) squeezed until its name breaks over two
  lines (the bar scrolls sideways instead);
- on a Chinese page, no English phrase: a visible text node holding two or more ASCII words in a
  row, unless the phrase is on the allow-list below; and no code shown as text (a rule such as
  ``amount <= 2000``, a journal action code such as ``funds.batch.confirm``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image, ImageDraw

from unionaid.web.demo.staff import DEMO_PASSWORD

# The two sizes every journey runs at (Playwright browser-context options).
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}

# Two or more ASCII words in a row (letters, maybe with an apostrophe or hyphen inside).
ENGLISH_PHRASE = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ \t]+[A-Za-z][A-Za-z'’-]*)+")
# Phrases allowed on a Chinese page. Single words never count (IDs, units, API, PDF, Excel, the
# product name), nor text marked as another language (the switcher's lang="en" "English"); list
# here only a multi-word name that is rightly left in English.
ALLOWED_PHRASES: set[str] = set()
RAW_TEMPLATE = re.compile(r"\{%|\{\{|\{#")
# Code shown as text: a rule such as ``amount <= 2000`` or a journal action code such as
# ``assistance.application.submit`` (internal text that should have been put in words).
# The audit admin's journal is the one place whose subject is the action codes (it filters by
# them): it may show them.
CODE_PAGES = ("/audit/",)
CODE_TEXT = re.compile(r"\b[A-Za-z_][\w.]*\s*(?:<=|>=|==|!=|<|>)\s*[\w.]+"
                       r"|\b[a-z_]+(?:\.[a-z_]+)+\b")

# Visible text nodes (not in script/style/template, rendered, not hidden) and the page's raw text.
PAGE_FACTS_JS = """() => {
  const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TEXTAREA"]);
  const visible = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let raw = "";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || skip.has(parent.tagName) || parent.closest("script,style,template")) continue;
    raw += node.nodeValue + "\\n";
    const text = node.nodeValue.trim();
    if (!text || !parent.checkVisibility({visibilityProperty: true, opacityProperty: false})) continue;
    const marked = parent.closest("[lang]");
    if (marked && !marked.lang.toLowerCase().startsWith("zh")) continue;  // e.g. lang="en"
    visible.push(text);
  }
  const root = document.documentElement;
  const brokenTabs = [];
  for (const link of document.querySelectorAll(".nav.flex-nowrap .nav-link")) {
    const texts = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      const lines = new Set([...range.getClientRects()].filter(r => r.width > 0)
                            .map(r => Math.round(r.top)));
      if (lines.size > 1) { brokenTabs.push(link.textContent.trim()); break; }
    }
  }
  return {lang: root.lang, raw: raw, visible: visible, brokenTabs: brokenTabs,
          scrollWidth: root.scrollWidth, clientWidth: root.clientWidth};
}"""


def english_phrases(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for match in ENGLISH_PHRASE.finditer(text):
            if match.group(0) not in ALLOWED_PHRASES:
                found.append(match.group(0))
    return found


@dataclass
class Browse:
    """One persona's browser tab. ``go``/``click``/``submit`` wait for the page and check it."""

    context: object
    base_url: str
    size: str

    def __post_init__(self):
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.dialogs: list[str] = []  # the confirm() questions answered, in order
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.console.append(f"uncaught: {exc}"))

    def _on_console(self, message):
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.console.append(f"{message.text} ({where})")

    # --- navigation -------------------------------------------------------------------------

    def go(self, path: str, *, status: int = 200):
        response = self.page.goto(self.base_url + path)
        assert response is not None, f"{path}: no response"
        assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"
        return self.check()

    def login(self, username: str):
        self.go("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        with self.page.expect_navigation():
            self.page.locator("main button[type=submit]").click()
        assert "/accounts/login/" not in self.page.url, f"{username} could not log in"
        return self.check()

    def login_with_code(self, username: str):
        """An admin's login: password, then the current code of their (demo) TOTP device."""
        self.login(username)
        assert self.path.startswith("/accounts/otp/"), f"{username}: no second-factor page"
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.page.fill("input[name=token]", f"{totp.token():0{device.digits}d}")
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").first.click()
        assert not self.path.startswith("/accounts/"), f"{username}: the code was refused"
        return self.check()

    def click(self, selector_or_locator, *, dialog: bool = False):
        """Click a link or button that loads a new page; ``dialog`` accepts a confirm() (its
        message is added to ``dialogs``)."""
        target = self._target(selector_or_locator)
        if dialog:
            self.page.once("dialog", self._answer(accept=True))
        with self.page.expect_navigation():
            target.click()
        return self.check()

    def click_and_dismiss(self, selector_or_locator) -> str:
        """Click a button that asks confirm() and answer 取消: nothing is sent, the page stays.
        Returns the question asked."""
        asked = len(self.dialogs)
        self.page.once("dialog", self._answer(accept=False))
        self._target(selector_or_locator).click()
        assert len(self.dialogs) == asked + 1, "the click asked nothing"
        self.check()
        return self.dialogs[-1]

    def _target(self, selector_or_locator):
        target = (self.page.locator(selector_or_locator)
                  if isinstance(selector_or_locator, str) else selector_or_locator)
        return target.filter(visible=True).first

    def _answer(self, *, accept: bool):
        def answer(dialog):
            self.dialogs.append(dialog.message)
            if accept:
                dialog.accept()
            else:
                dialog.dismiss()
        return answer

    @property
    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)

    # --- the checks -------------------------------------------------------------------------

    def check(self):
        """Check the page as it is now; raise with every problem found (and the page)."""
        self.page.wait_for_load_state("load")
        facts = self.page.evaluate(PAGE_FACTS_JS)
        where = f"[{self.size}] {self.path}"
        problems = [f"console error: {line}" for line in self.console]
        self.console.clear()
        if facts["scrollWidth"] > facts["clientWidth"]:
            wide = self.page.evaluate(WIDEST_JS)
            problems.append(f"sideways scroll: page {facts['scrollWidth']}px wide in a "
                            f"{facts['clientWidth']}px window; widest: {wide}")
        if facts["brokenTabs"]:
            problems.append(f"tab names broken over two lines: {facts['brokenTabs'][:6]}")
        raw = RAW_TEMPLATE.findall(facts["raw"])
        if raw:
            lines = [line.strip() for line in facts["raw"].splitlines()
                     if RAW_TEMPLATE.search(line)]
            problems.append(f"raw template syntax in the page: {lines[:3]}")
        if facts["lang"].lower().startswith("zh"):
            english = english_phrases(facts["visible"])
            if english:
                problems.append(f"English on a Chinese page: {sorted(set(english))[:8]}")
            code = [] if self.path.startswith(CODE_PAGES) else [
                m.group(0) for t in facts["visible"] for m in CODE_TEXT.finditer(t)]
            if code:
                problems.append(f"code shown as text: {sorted(set(code))[:8]}")
        if problems:
            text = " ".join(self.page.locator("body").inner_text().split())[:600]
            raise AssertionError(f"{where}:\n  " + "\n  ".join(problems) + f"\n  page: {text}")
        return self

    def text(self) -> str:
        return self.page.locator("main").inner_text()


# The elements sticking out on the right (for the sideways-scroll message).
WIDEST_JS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 0.5 && r.width > 0) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
               (el.className && typeof el.className === "string" ?
                "." + el.className.trim().split(/\\s+/).join(".") : "") + " → " +
               Math.round(r.right));
    }
  }
  return out.slice(0, 6);
}"""


def png_file(name: str = "材料.png") -> dict:
    """A small synthetic photo of a document, as Playwright's set_input_files takes it."""
    image = Image.new("RGB", (320, 240), "white")
    draw = ImageDraw.Draw(image)
    for y in range(30, 220, 24):
        draw.line([(30, y), (290, y)], fill="gray", width=3)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return {"name": name, "mimeType": "image/png", "buffer": buffer.getvalue()}


def fill_form(form, *, reason: str = "家中老人住院，生活暂时困难，申请帮扶。") -> None:
    """Fill a form's empty visible fields with plausible values, as a person would: the first
    real choice of a select; for the required fields a small number, a date a few days ago, a
    short Chinese text; tick the required boxes; a reason or comment in Chinese."""
    for element in form.locator("input, select, textarea").all():
        if not element.is_visible() or not element.is_enabled():
            continue
        tag = element.evaluate("el => el.tagName.toLowerCase()")
        kind = (element.get_attribute("type") or "").lower()
        name = element.get_attribute("name") or ""
        if tag == "select":
            options = element.locator("option").all()
            if not element.input_value() and len(options) > 1:
                element.select_option(index=1)
        elif kind == "checkbox":
            if element.get_attribute("required") is not None:
                element.check()
        elif (kind in ("hidden", "submit", "button", "file", "radio", "search")
              or element.input_value()):
            continue
        elif tag == "textarea" or "reason" in name or "comment" in name:
            element.fill(reason)
        elif element.get_attribute("required") is None:
            continue  # optional: left empty, as most people would
        elif kind == "number" or element.get_attribute("inputmode") in ("numeric", "decimal"):
            element.fill("3")
        elif kind == "date":
            element.fill((date.today() - timedelta(days=5)).isoformat())
        else:
            element.fill("测试")
