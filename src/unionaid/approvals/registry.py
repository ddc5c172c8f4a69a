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


_SUBJECTS: dict[str, Any] = {}


def register_subject(handler: ApprovalSubject) -> None:
    _SUBJECTS[handler.kind] = handler


def subject_handler(kind: str) -> ApprovalSubject:
    return _SUBJECTS[kind]
