"""The page checks themselves, on pages made here: each defect they exist for makes them fail,
and a clean Chinese page passes (no server, no data: a blank tab and set_content)."""

from __future__ import annotations

import pytest

from tests.browser.checks import VIEWPORTS, Browse, english_phrases


@pytest.fixture
def tab(chromium, size):
    context = chromium.new_context(**VIEWPORTS[size])
    session = Browse(context, "about:blank", size)
    yield session
    context.close()


def _page(tab, body: str, *, lang: str = "zh-hans") -> None:
    tab.page.set_content(f'<!doctype html><html lang="{lang}"><head><meta name="viewport" '
                         'content="width=device-width, initial-scale=1"></head>'
                         f"<body><main>{body}</main></body></html>")


def test_a_clean_chinese_page_passes(tab):
    _page(tab, "<h1>我的帮扶</h1><p>共 3 笔，合计 1,200 元（API 编号 A-17）。</p>"
               '<button lang="en">English</button><span>unionaid</span>')
    tab.check()


@pytest.mark.parametrize(("body", "problem"), [
    ("<p>{# a note for developers\n that Django printed #}</p>", "raw template syntax"),
    ("<p>{{ application.amount }}</p>", "raw template syntax"),
    ("<p>状态：Approved by the station</p>", "English on a Chinese page"),
    ("<p>跳过原因：amount <= 2000</p>", "code shown as text"),
    ("<td>funds.batch.confirm</td>", "code shown as text"),
    ('<div style="width: 2000px">宽</div>', "sideways scroll"),
    ("<script>console.error('boom')</script>", "console error"),
    ("<script>undefinedFunction()</script>", "console error"),
])
def test_each_defect_fails_the_page(tab, body, problem):
    _page(tab, body)
    with pytest.raises(AssertionError, match=problem):
        tab.check()


def test_english_on_an_english_page_is_fine(tab):
    _page(tab, "<p>Approved by the station</p>", lang="en")
    tab.check()


def test_english_phrases_are_runs_of_two_ascii_words():
    assert english_phrases(["同意 Approve", "共 3 笔", "PDF 文件", "see the rules"]) == [
        "see the rules"]
