"""A statistic as an .xlsx workbook with a native Excel chart (XlsxWriter): a title row, the
scope and filters, the table with its totals, and a column chart of the first measure by the
first dimension (one series per value of the second dimension, when there is one)."""

from __future__ import annotations

import io

import xlsxwriter
from django.utils.translation import gettext as _

from unionaid.core.spreadsheets import safe_cell
from unionaid.stats.selectors import Statistic

MAX_SERIES = 12


def statistic_xlsx(stat: Statistic, *, title: str, scope_label: str) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(_("统计表"))
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    head = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    sheet.write(0, 0, safe_cell(title), book.add_format({"bold": True, "font_size": 14}))
    sheet.write(1, 0, safe_cell(_("范围：%(s)s") % {"s": scope_label}))
    columns = [stat.fact.dimensions[d] for d in stat.dims] + [str(m.label) for m in stat.measures]
    top = 3
    for c, name in enumerate(columns):
        sheet.write(top, c, safe_cell(name), head)
    n_dims = len(stat.dims)
    for r, row in enumerate(stat.rows, start=top + 1):
        for c, d in enumerate(stat.dims):
            sheet.write(r, c, safe_cell(row.labels[d]))
        for c, m in enumerate(stat.measures, start=n_dims):
            value = row.values[m.key]
            if value is None:
                sheet.write_blank(r, c, None)
            else:
                sheet.write_number(r, c, float(value), money if m.money else None)
    total_row = top + 1 + len(stat.rows)
    sheet.write(total_row, 0, _("合计"), bold)
    for c, m in enumerate(stat.measures, start=n_dims):
        value = stat.totals.get(m.key)
        if value is not None:
            sheet.write_number(total_row, c, float(value), money if m.money else bold)
    sheet.set_column(0, max(n_dims - 1, 0), 18)
    sheet.set_column(n_dims, n_dims + len(stat.measures), 14)
    if stat.rows and stat.measures:
        _chart(book, sheet, stat, top, n_dims)
    book.close()
    return out.getvalue()


def _chart(book, sheet, stat: Statistic, top: int, n_dims: int) -> None:
    """A native column chart of the first measure: categories = the first dimension's labels
    (or one bar when there is no dimension)."""
    measure_col = n_dims
    chart = book.add_chart({"type": "column"})
    sheet_name = sheet.get_name()
    first, last = top + 1, top + len(stat.rows)
    if n_dims == 0:
        chart.add_series({"name": str(stat.measures[0].label),
                          "values": [sheet_name, first, measure_col, last, measure_col]})
    else:
        chart.add_series({"name": str(stat.measures[0].label),
                          "categories": [sheet_name, first, 0, last, n_dims - 1],
                          "values": [sheet_name, first, measure_col, last, measure_col]})
    chart.set_title({"name": f"{stat.fact.label} · {stat.measures[0].label}"})
    chart.set_legend({"position": "bottom"})
    sheet.insert_chart(top, n_dims + len(stat.measures) + 1, chart,
                       {"x_scale": 1.4, "y_scale": 1.3})
