"""The files of first-run set-up: the org tree and the staff, as .xlsx or .csv with Chinese
headers, read into the rows ``org.importing`` and ``accounts.staff_import`` check and write;
their .xlsx templates; the one-time password sheet of a staff import.

Reading reuses the roster reader (``members.roster_files``: encodings, cells, the size guard of
``core.spreadsheets``), which is why this sits in the edge layer, above both services.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from unionaid.accounts.staff_import import Credential, StaffRow
from unionaid.core.errors import ServiceError
from unionaid.core.spreadsheets import ReadLimits, RowProblem, safe_row
from unionaid.members import roster_files
from unionaid.org.importing import UnitRow
from unionaid.org.models import OrgLevel, OrgUnit

HEADER_SEARCH_ROWS = 10
MAX_ROWS = 50_000
MAX_UNPACKED_MB = 50

# field -> accepted header texts (compared after roster_files.normalise_header, lower-cased)
ORG_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("单位编码", "组织编码", "单位代码", "机构编码", "编码", "code"),
    "name": ("单位名称", "组织名称", "机构名称", "单位", "名称", "name"),
    "parent_code": ("上级单位编码", "上级编码", "上级组织编码", "上级单位代码", "上级机构编码",
                    "父单位编码", "parentcode", "parent"),
    "level": ("层级", "层级名称", "级别", "level"),
}
ORG_REQUIRED = ("code", "name", "parent_code", "level")

STAFF_HEADERS: dict[str, tuple[str, ...]] = {
    "username": ("登录名", "用户名", "账号", "帐号", "username", "login"),
    "full_name": ("姓名", "名字", "name"),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "电话", "phone"),
    "unit_code": ("单位编码", "组织编码", "单位代码", "unitcode"),
    "post": ("岗位", "岗位名称", "职务", "post"),
    "role": ("角色", "角色名称", "role"),
    "email": ("电子邮箱", "邮箱", "电子邮件", "email", "e-mail"),
}
STAFF_REQUIRED = ("username", "full_name", "unit_code", "post")


class SetupFileError(ServiceError):
    default_code = "bad_file"


def read_limits() -> ReadLimits:
    return ReadLimits(max_rows=MAX_ROWS, max_columns=int(settings.IMPORT_MAX_COLUMNS),
                      max_bytes=MAX_UNPACKED_MB << 20)


def _header_map(headers: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {text.lower(): name for name, texts in headers.items() for text in texts}


def read_table(path, headers: dict[str, tuple[str, ...]], required: tuple[str, ...],
               limits: ReadLimits | None = None):
    """(rows as (row number, {field: text}), problems). A file that can't be read raises a
    ServiceError with a message for people; a missing column is a problem of the header row."""
    path = Path(path)
    problem = roster_files.check_content(path, limits or read_limits())
    if problem:
        raise SetupFileError(problem)
    table = roster_files.open_roster(path, limits or read_limits())
    lookup = _header_map(headers)
    try:
        rows = table.rows(0)
        columns: dict[str, int] = {}
        header_row = 0
        for row_number, values in rows:
            found = {}
            for index, value in enumerate(values):
                name = lookup.get(roster_files.normalise_header(value).lower())
                if name is not None and name not in found:
                    found[name] = index
            if sum(1 for name in required if name in found) >= 2:
                columns, header_row = found, row_number
                break
            if row_number >= HEADER_SEARCH_ROWS:
                break
        if not header_row:
            labels = "”“".join(headers[name][0] for name in required)
            return [], [RowProblem(1, "", _("没有找到表头：第一行应为列名，包含“%(labels)s”。")
                                    % {"labels": labels})]
        missing = [headers[name][0] for name in required if name not in columns]
        if missing:
            return [], [RowProblem(header_row, label, _("缺少必填列“%(label)s”。")
                                    % {"label": label}) for label in missing]
        result = []
        for row_number, values in roster_files.data_rows(rows, header_row):
            cells = {}
            for name, index in columns.items():
                raw = values[index] if index < len(values) else ""
                cells[name] = roster_files.cell_text(raw)[0]
            result.append((row_number, cells))
        return result, []
    finally:
        table.close()


def read_org_file(path, limits: ReadLimits | None = None):
    rows, problems = read_table(path, ORG_HEADERS, ORG_REQUIRED, limits)
    return [UnitRow(row_number=n, code=c["code"], name=c["name"],
                    parent_code=c["parent_code"], level=c["level"]) for n, c in rows], problems


def read_staff_file(path, limits: ReadLimits | None = None):
    rows, problems = read_table(path, STAFF_HEADERS, STAFF_REQUIRED, limits)
    return [StaffRow(row_number=n, username=c["username"], full_name=c["full_name"],
                     unit_code=c["unit_code"], post=c["post"], role=c.get("role", ""),
                     phone=c.get("phone", ""), email=c.get("email", ""))
            for n, c in rows], problems


def with_upload(upload, reader: Callable):
    """Run ``reader(path)`` on an uploaded file saved to a private temporary file, removed
    afterwards whatever happens."""
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in roster_files.EXTENSIONS:
        raise SetupFileError(_("只支持 .xlsx 和 .csv 文件。"))
    folder = Path(tempfile.mkdtemp(prefix="ua-setup-"))
    try:
        path = folder / f"upload{suffix}"
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        return reader(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- templates and the password sheet --------------------------------------------------------

def _workbook(title: str, header: list[str], rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(safe_row(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(safe_row(row))
    for index in range(1, len(header) + 1):
        column = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[column].width = 18
        for cells in sheet.iter_cols(min_col=index, max_col=index):
            for cell in cells:
                cell.number_format = "@"  # codes and phones stay text
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def org_template() -> bytes:
    """Headers and two example rows under the root (the levels just below it)."""
    levels = dict(OrgLevel.objects.values_list("depth", "name"))
    root = OrgUnit.objects.get_first_root_node()
    code = root.code if root else "ROOT"
    second, third = levels.get(2, _("第二级")), levels.get(3, _("第三级"))
    return _workbook(_("组织机构"), [h[0] for h in ORG_HEADERS.values()], [
        [f"{code}-01", _("示例%(level)s") % {"level": second}, code, second],
        [f"{code}-01-01", _("示例%(level)s") % {"level": third}, f"{code}-01", third],
    ])


def staff_template() -> bytes:
    root = OrgUnit.objects.get_first_root_node()
    code = root.code if root else "ROOT"
    header = [STAFF_HEADERS[name][0] for name in
              ("username", "full_name", "phone", "unit_code", "post", "role", "email")]
    return _workbook(_("人员"), header, [
        ["sysadmin", _("示例姓名"), "", code, _("系统管理员"), "", ""],
    ])


def credentials_sheet(credentials: list[Credential]) -> bytes:
    return _workbook(_("初始密码"), [_("登录名"), _("姓名"), _("单位"), _("岗位"), _("初始密码")], [
        [c.username, c.full_name, c.unit, c.posts, c.password] for c in credentials
    ])
