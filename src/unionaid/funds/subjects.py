"""Disbursement subjects: what money is paid *for*. The funds engine knows no domain; a domain
whose decisions reserve money (assistance applications today) registers one subject per kind in
its ``AppConfig.ready()``, and the engine calls it at each money event and for the auditor's
payment trace.

Every method is required (no defaults that grant or skip anything). The engine's rules for a
kind nobody registered:

- ``reserve`` refuses it (Conflict ``unknown_subject``): no money is committed for something no
  domain answers for;
- a paid, reversed, re-paid, released or closed event of such a kind refuses the same way, so the
  money movement is undone rather than left without its subject's side of the story;
- the payment trace still shows the money (the auditor needs it most then) and says the subject
  was not found (``subject_known`` is False).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from unionaid.core.errors import Conflict


@dataclass(frozen=True)
class TraceSummary:
    """What the auditor's payment trace shows about a subject.

    ``record``     the subject's own record (e.g. the application), for ``template``;
    ``template``   the fragment the trace page includes as its first section (it gets ``summary``,
                   ``trace`` and ``d``, the disbursement, in its context);
    ``api``        the same section for the API, a JSON-ready dict;
    ``materials``  the supporting documents: objects with ``material``, ``original_name``,
                   ``content_type``, ``size``, ``sha256``, ``uploaded_by``, ``uploaded_at``;
    ``decisions``  the approval decisions, rows as the approvals engine's case timeline gives them;
    ``links``      (label, url) pairs to the subject's own pages.
    """

    record: Any
    template: Any  # a template name, or a compiled Template
    api: dict[str, Any]
    materials: list[Any] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)


class DisbursementSubject(ABC):
    """One kind of thing money is paid for. Hooks run inside the funds service's transaction;
    raising (a ``Conflict`` …) undoes the whole money movement."""

    kind: str  # e.g. "assistance.application"
    # The trace search form's "by number" choice for this kind, e.g. ("application", "申请编号");
    # an empty key leaves the kind out of the form.
    search_key: str = ""
    search_label: str = ""

    @abstractmethod
    def on_paid(self, *, disbursement, actor) -> None:
        """The disbursement's batch was confirmed: the money left."""

    @abstractmethod
    def on_reversed(self, *, disbursement, actor) -> None:
        """The payment was undone (冲正)."""

    @abstractmethod
    def on_repaid(self, *, disbursement, actor) -> None:
        """A reversed payment is paid again (重新发放): ``disbursement`` is the new row (its
        ``repays`` is the reversed one)."""

    @abstractmethod
    def on_released(self, *, disbursement, actor, reason: str) -> None:
        """An unpaid reservation was cancelled (释放预留): the money is available again."""

    @abstractmethod
    def on_closed(self, *, disbursement, actor, reason: str) -> None:
        """A reversed payment will never be paid again (终止发放)."""

    @abstractmethod
    def item_labels(self, *, subject_ids: list[int]) -> dict[int, str]:
        """What each subject is for, in a few words (e.g. the assistance item's name), by id, in
        one query; ids it does not know are left out."""

    @abstractmethod
    def trace_summary(self, *, disbursement, user) -> TraceSummary | None:
        """What the trace shows about the subject, or None when its record is gone. ``user``
        already passed the trace's scope check for this disbursement."""


_SUBJECTS: dict[str, DisbursementSubject] = {}


def register(subject: DisbursementSubject) -> None:
    """Register ``subject`` for its kind. Registering another object for a taken kind is a
    programming error (two domains claiming one kind)."""
    current = _SUBJECTS.get(subject.kind)
    if current is not None and current is not subject:
        raise ValueError(f"disbursement subject {subject.kind!r} is already registered")
    _SUBJECTS[subject.kind] = subject


def unregister(kind: str) -> None:
    """For tests that register a throwaway kind."""
    _SUBJECTS.pop(kind, None)


def subject_or_none(kind: str) -> DisbursementSubject | None:
    return _SUBJECTS.get(kind)


def subject_for(kind: str) -> DisbursementSubject:
    """The registered subject of ``kind``; an unknown kind is refused (Conflict
    ``unknown_subject``)."""
    subject = _SUBJECTS.get(kind)
    if subject is None:
        raise Conflict(_("发放事项的业务类型“%(kind)s”未登记，已拒绝。") % {"kind": kind},
                       code="unknown_subject")
    return subject


def subjects() -> list[DisbursementSubject]:
    """Every registered subject, by kind."""
    return [_SUBJECTS[kind] for kind in sorted(_SUBJECTS)]
