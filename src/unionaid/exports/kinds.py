"""Export kinds: what a background export can be asked for. The exports engine knows no
client; each kind is registered at start-up by the code that owns the data (the archive and
visit ledgers by archive's ``AppConfig.ready()``, the member roster by the web shell's, see
``unionaid.web.export_kinds``).

A kind brings everything that differs between exports; the engine keeps the jobs, the scope
roots, the download checks, the files and their lifetime. Nothing has a default: a kind states
its right and its reveal right. A kind nobody registered is refused when asked for
(``unknown_kind``), and a job whose kind is no longer registered is not found when downloaded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.core.errors import ServiceError
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import unit_get_for_user


@dataclass(frozen=True)
class ExportKind:
    """One kind of export.

    ``kind``        the value stored on the job, e.g. "members" (at most 20 characters);
    ``title``       for people, e.g. "职工名册";
    ``permission``  the right the export function checks; the download requires it still;
    ``reveal_permission``  the right a file with full numbers requires at download ("" for a
                    kind that never writes full numbers: such a file is then refused);
    ``clean(*, actor, params) -> (params, unit)``  check a request as the direct export would
                    (the right, the unit in scope → NotFound, the period …) and return the
                    params to store (JSON, with "unit", "unit_name" and "reveal" keys; never an
                    ID number or phone) and the chosen unit or None;
    ``write(*, actor, unit, params, path, progress)``  write the file at ``path`` as ``actor``
                    (the same function a direct download calls: it keeps the scope, masking
                    and its own audit event) and return an object with ``count``,
                    ``revealed_count`` and ``download_name``; ``progress(done, total=0)``;
    ``describe(params) -> [(label, value)]``  the job's conditions for people, after the unit.
    """

    kind: str
    title: Any
    permission: str
    reveal_permission: str
    clean: Callable[..., tuple[dict, Any]]
    write: Callable[..., Any]
    describe: Callable[[dict], list[tuple[str, str]]]


class UnknownKind(ServiceError):
    status = 422  # invalid input, like a schema error
    default_code = "unknown_kind"
    default_message = _("不支持的导出内容。")

    def __init__(self):
        super().__init__(fields={"kind": str(self.default_message)})


_KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> None:
    """Register ``kind``. Another kind under a taken name is a programming error."""
    if len(kind.kind) > 20:
        raise ValueError(f"export kind {kind.kind!r} is longer than 20 characters")
    current = _KINDS.get(kind.kind)
    if current is not None and current is not kind:
        raise ValueError(f"export kind {kind.kind!r} is already registered")
    _KINDS[kind.kind] = kind


def unregister(kind: str) -> None:
    """For tests that register a throwaway kind."""
    _KINDS.pop(kind, None)


def kind_or_none(kind: str) -> ExportKind | None:
    return _KINDS.get(kind)


def kind_for(kind: str) -> ExportKind:
    """The registered kind; an unknown one is refused (``unknown_kind``)."""
    found = _KINDS.get(kind)
    if found is None:
        raise UnknownKind()
    return found


def kinds() -> list[ExportKind]:
    return [_KINDS[name] for name in sorted(_KINDS)]


# -- helpers for the kinds' ``clean`` and ``describe`` -----------------------------------------

def unit_param(actor, perm: str, unit_id):
    """The chosen unit (an id or a unit) within ``actor``'s ``perm`` scope, None for none;
    out of scope → NotFound."""
    if unit_id in (None, ""):
        return None
    if isinstance(unit_id, OrgUnit):
        unit_id = unit_id.pk
    return unit_get_for_user(user=actor, pk=unit_id, perm=perm)  # out of scope: NotFound


def date_param(params: dict, key: str) -> dt.date:
    value = params.get(key)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        message = gettext("请填写开始日期和结束日期。")
        raise ServiceError(message, code="invalid_period", fields={key: message}) from None


def reveal_line(params: dict) -> tuple[str, str]:
    return (gettext("身份证号和电话"),
            gettext("完整（记入审计）") if params.get("reveal") else gettext("打码"))
