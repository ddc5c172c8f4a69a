"""Template source checks that no page test would notice until a person looked at the page."""

from __future__ import annotations

import re
from pathlib import Path

import unionaid

PACKAGE = Path(unionaid.__file__).parent
TEMPLATES = PACKAGE / "templates"


def _unclosed_one_line_comments(text: str) -> list[int]:
    """Line numbers of ``{#`` comments that don't close on their own line: Django's ``{# #}``
    is single-line only, so such a comment is printed on the page."""
    lines = []
    for match in re.finditer(r"\{#", text):
        end = text.find("#}", match.start())
        newline = text.find("\n", match.start())
        if end == -1 or (newline != -1 and newline < end):
            lines.append(text.count("\n", 0, match.start()) + 1)
    return lines


def test_the_checker_finds_a_two_line_comment():
    assert _unclosed_one_line_comments("<p>{# one\n two #}</p>") == [1]
    assert _unclosed_one_line_comments("{# one line #}\n{% comment %}a\nb{% endcomment %}") == []


def test_no_template_has_a_multi_line_hash_comment():
    # every template of the package: the project's and any app's own templates/ folder
    paths = [p for p in PACKAGE.rglob("*.html") if "templates" in p.relative_to(PACKAGE).parts]
    assert len(paths) > 100
    assert TEMPLATES / "base.html" in paths
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in paths
        if (lines := _unclosed_one_line_comments(path.read_text(encoding="utf-8")))
    }
    assert found == {}
