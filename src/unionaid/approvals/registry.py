"""Approval subjects: what a domain registers (in its ``AppConfig.ready()``) so that its records
go through approval flows. The engine knows no domain: its pages, API and services ask the
subject registered for a case's ``subject_kind`` for permissions, labels, the task page's panel,
the flow editor's texts, and call its hooks inside the engine's own transaction.

Every member of ``ApprovalSubject`` is required; ``register_subject`` refuses a subject missing
one (or with a blank kind, or a permission that is not in the catalogue). Nothing has a default that grants a right: a kind
nobody registered is "not found" everywhere (flow editor, task page, API, services)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from django.core.exceptions import ImproperlyConfigured

from unionaid.accounts.permissions import PERMISSIONS
from unionaid.core.errors import NotFound


@dataclass(frozen=True)
class FlowEditor:
    """What the flow editor (审批流程) shows for one kind, beside the subject's ``title``.

    ``home_url``/``home_label``: the page the editor's breadcrumb leads back to (a URL name).
    ``list_help``: how flows of the kind are set up (under the list's title).
    ``fact_help``/``fact_example``: the names a skip condition may use, and one condition.
    ``preview_help``/``edit_preview_help``: the lead of the preview page and of the editor's
    preview card. ``preview_amount``: the preview form asks for an amount.
    ``preview_facts_help``: help of the preview's "其他情况" field ("" = the form's own)."""

    home_url: str
    home_label: str
    list_help: str
    fact_help: str
    fact_example: str
    preview_help: str
    edit_preview_help: str
    preview_amount: bool
    preview_facts_help: str


@dataclass(frozen=True)
class FactLabel:
    """How a fact a skip condition names is said in words (``approvals.conditions``):
    ``label`` ("金额"), the ``unit`` after a number ("元"), and the words for coded values
    (``choices``: (value, label) pairs, e.g. ("relative", "相对困难"))."""

    label: str
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PreviewCase:
    """A sample case for the flow preview: the key its flow is resolved by, every fact its
    skip conditions see, and the facts listed beside the result."""

    subject_key: str
    facts: dict[str, Any]
    shown: dict[str, Any]


@runtime_checkable
class ApprovalSubject(Protocol):
    kind: str  # "<app>.<thing>", the cases' subject_kind
    title: str  # what the kind is called; the flow editor's switch says "<title>审批流程"
    view_permission: str  # its scope lets a user view the kind's cases and tasks
    flow_permission: str  # lets a user maintain the kind's flows (in the units of its scope)
    flow_editor: FlowEditor | None  # None: the kind's flows are not kept in the flow editor
    link_text: str  # the task page's button to ``link(subject_id)``

    def subject_keys(self) -> list[tuple[str, str]] | None:
        """(key, label) a flow may be set up for besides the unit's general flow (the editor's
        choice); None when the kind's flows are per unit only."""

    def key_labels(self) -> dict[str, str]:
        """Labels of every key a flow of this kind may carry (the flow list)."""

    def fact_names(self, subject_key: str) -> set[str] | None:
        """Names a skip condition of a flow for ``subject_key`` may use; None: any name."""

    def fact_labels(self, subject_key: str) -> dict[str, FactLabel]:
        """Words for the facts a skip condition of a flow for ``subject_key`` may name, so the
        condition is shown in words ("金额不超过 2000 元"); a fact left out is shown by its
        name ({} is allowed: every name as written)."""

    def preview_case(self, *, subject_key: str, facts: dict[str, Any]) -> PreviewCase:
        """A typical case for the preview, completed from the form's ``facts`` (which win)."""

    def label(self, subject_id: int) -> str:
        """A short human label for notifications, the API and the audit journal."""

    def labels(self, subject_ids: Iterable[int]) -> dict[int, str]:
        """Labels for the to-do list and the task page's heading, in one query for all."""

    def subject_ids_for_keys(self, keys: Iterable[str]) -> Any:
        """The ids of the subjects whose key (as their cases were started with) is one of
        ``keys``, as a queryset of ids (the to-do list filters by item with it, in SQL)."""

    def link(self, subject_id: int) -> str:
        """The subject's own page (notifications point there)."""

    def fact_rows(self, case) -> list[tuple[str, str]]:
        """The case's facts as (label, value in words) for the task page."""

    def task_panel(self, *, user, case) -> tuple[str, dict[str, Any]] | None:
        """(template, context) shown on the task page instead of the fact rows, or None."""

    def notification_text(self, *, case, task) -> tuple[str, str]:
        """(title, body) of the notice the engine sends the holders of a started task."""

    def before_approve(self, *, case, task) -> None:
        """Raise (Conflict …) to refuse an approval, e.g. unresolved objections."""

    def on_step_started(self, *, case, task) -> None:
        """A new task became pending (the engine has notified whoever must decide it)."""

    def on_approved(self, *, case, actor) -> None:
        """The last step approved: the subject becomes effective (e.g. reserve the money)."""

    def on_rejected(self, *, case, actor) -> None: ...

    def on_returned(self, *, case, actor) -> None:
        """Sent back for more material; the subject may be resubmitted (a new case)."""


ATTRIBUTES = ("kind", "title", "view_permission", "flow_permission", "flow_editor",
              "link_text")
NONBLANK = ("kind", "title", "view_permission", "flow_permission")
METHODS = ("subject_keys", "key_labels", "fact_names", "fact_labels", "preview_case", "label",
           "labels", "subject_ids_for_keys", "link", "fact_rows", "task_panel", "notification_text",
           "before_approve", "on_step_started",
           "on_approved", "on_rejected", "on_returned")

_SUBJECTS: dict[str, ApprovalSubject] = {}


def register_subject(subject: ApprovalSubject) -> None:
    """Register a domain's subject (from its ``AppConfig.ready()``)."""
    missing = [n for n in ATTRIBUTES if not hasattr(subject, n)]
    missing += [n for n in METHODS if not callable(getattr(subject, n, None))]
    blank = [n for n in NONBLANK if n not in missing and not getattr(subject, n)]
    name = getattr(subject, "kind", None) or type(subject).__name__
    if missing or blank:
        raise ImproperlyConfigured(
            f"Approval subject {name!r} is incomplete: "
            + "; ".join(filter(None, [f"missing {', '.join(missing)}" if missing else "",
                                      f"blank {', '.join(blank)}" if blank else ""])))
    unknown = [getattr(subject, n) for n in ("view_permission", "flow_permission")
               if getattr(subject, n) not in PERMISSIONS]
    if unknown:  # a typo would hide the kind's cases from everyone, silently
        raise ImproperlyConfigured(f"Approval subject {name!r}: unknown permission "
                                   f"{', '.join(unknown)}")
    editor = subject.flow_editor
    if editor is not None and not isinstance(editor, FlowEditor):
        raise ImproperlyConfigured(f"Approval subject {name!r}: flow_editor must be a FlowEditor "
                                   "or None")
    if subject.kind in _SUBJECTS and _SUBJECTS[subject.kind] is not subject:
        raise ImproperlyConfigured(f"Approval subject {subject.kind!r} is registered twice")
    _SUBJECTS[subject.kind] = subject


def subject_for(kind: str) -> ApprovalSubject:
    """The subject registered for ``kind``; an unknown kind is NotFound."""
    try:
        return _SUBJECTS[kind]
    except KeyError:
        raise NotFound() from None


def subject_handler(kind: str) -> ApprovalSubject:
    """Kept for callers that checked ``has_subject`` first (KeyError otherwise)."""
    return _SUBJECTS[kind]


def has_subject(kind: str) -> bool:
    return kind in _SUBJECTS


def subjects() -> list[ApprovalSubject]:
    """Every registered subject, in registration order (the apps' order in settings)."""
    return list(_SUBJECTS.values())


def unregister_subject(kind: str) -> None:
    """For tests that register a throwaway kind."""
    _SUBJECTS.pop(kind, None)
