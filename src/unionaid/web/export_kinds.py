"""The member roster as a background export kind (``exports.kinds``).

Registered here, by the web shell, because of the layers: members sits below the exports
engine and may not import it, and the engine must not know its clients. The shell is above
both, so it wires the roster's public export function (``members.exporting``) into the
engine's registry; nothing of the roster's rules lives here beyond the mapping.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.core.errors import ServiceError
from unionaid.core.masking import looks_like_identifier
from unionaid.exports import kinds
from unionaid.members import exporting

KIND = exporting.EXPORT_KIND
MAX_QUERY = 100


def _identifier_refused() -> ServiceError:
    message = _("后台导出只能按姓名筛选，不能按身份证号或手机号筛选；请改用直接导出。")
    return ServiceError(message, code="identifier_in_query", fields={"q": message})


def clean(*, actor, params: dict):
    query = str(params.get("q") or "").strip()[:MAX_QUERY]
    if looks_like_identifier(query):
        raise _identifier_refused()
    reveal = bool(params.get("reveal"))
    exporting.check_export(actor=actor, reveal=reveal)  # the export's own checks and messages
    unit = kinds.unit_param(actor, exporting.PERM, params.get("unit"))  # out of scope: not found
    return {"unit": unit.pk if unit else None, "unit_name": unit.name if unit else "",
            "q": query, "reveal": reveal}, unit


def write(*, actor, unit, params: dict, path, progress):
    return exporting.export_members(actor=actor, unit=unit, query=params.get("q", ""),
                                    reveal=bool(params.get("reveal")), path=path,
                                    progress=progress)


def describe(params: dict) -> list[tuple[str, str]]:
    lines = [(_("姓名"), params["q"])] if params.get("q") else []
    return [*lines, kinds.reveal_line(params)]


ROSTER = kinds.ExportKind(
    kind=KIND, title=gettext_lazy("职工名册"), permission=exporting.PERM,
    reveal_permission=exporting.REVEAL, clean=clean, write=write, describe=describe,
)


def register() -> None:
    kinds.register(ROSTER)
