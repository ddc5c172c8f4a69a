"""Subjects that go through approval flows register a handler here (assistance applications now,
hardship-archive enrolment and exit next). The engine calls the handler inside its own
transaction at each outcome, so the subject's state changes with the decision."""

from __future__ import annotations

from typing import Any, Protocol


class ApprovalSubject(Protocol):
    kind: str  # e.g. "assistance.application"

    def label(self, subject_id: int) -> str:
        """A short human label for to-do lists and the audit journal."""

    def on_step_started(self, *, case, task) -> None:
        """A new task became pending (notify, …)."""

    def on_approved(self, *, case, actor) -> None:
        """The last step approved: the subject becomes effective (e.g. reserve the money)."""

    def on_rejected(self, *, case, actor) -> None: ...

    def on_returned(self, *, case, actor) -> None:
        """Sent back for more material; the subject may be resubmitted (a new case)."""

    # Optional attributes the engine uses when present (getattr with a default):
    #   flow_permission: str   permission needed to save flows (default "assistance.catalog")
    #   view_permission: str   permission whose scope lets a user view tasks (default
    #                          "assistance.view")
    #   fact_names(subject_key) -> set[str] | None   names a skip condition may use
    #   link(subject_id) -> str                      where notifications point
    #   before_approve(*, case, task) -> None        raise (Conflict …) to refuse an approval,
    #                                                e.g. unresolved public-notice objections
    #   fact_rows(case) -> list[tuple[str, str]]     the case's facts as (Chinese label,
    #                                                display value) for the task page


_SUBJECTS: dict[str, Any] = {}


def register_subject(handler: ApprovalSubject) -> None:
    _SUBJECTS[handler.kind] = handler


def subject_handler(kind: str) -> ApprovalSubject:
    return _SUBJECTS[kind]


def has_subject(kind: str) -> bool:
    return kind in _SUBJECTS


def unregister_subject(kind: str) -> None:
    """For tests that register a throwaway kind."""
    _SUBJECTS.pop(kind, None)
