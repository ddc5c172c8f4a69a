"""One rule for every cell unionaid writes into a spreadsheet (.xlsx or .csv).

A text value that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is
read by Excel and WPS as a formula when the file is opened, re-saved or imported as CSV: a
member named ``=HYPERLINK("http://…","点击")`` would become a live link in an auditor's copy of
the journal (CSV / formula injection, OWASP). Every writer passes its text cells through
``safe_cell``, which prefixes such a value with an apostrophe so it stays text. Numbers and dates
are written as numbers and dates and are not touched.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet may hold it: text that could start a formula gets a leading
    apostrophe; anything that is not text is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(value) for value in values]
