"""The archive's part of the member page (members/panels.py): the current record and watch lists
in 帮扶概况, and the 困难建档 button in the page head."""

from __future__ import annotations

from unionaid.archive.models import RecordStatus
from unionaid.archive.selectors.records import member_summary_for_user
from unionaid.members.panels import MemberAction, MemberPanel


def member_part(user, member) -> dict | None:
    part = member_summary_for_user(user=user, member=member)
    if part is not None:
        # 困难建档 only while the worker has no open file (one household, one file): an
        # enrolment in progress, returned or active, or an exit in progress, is reached from the
        # panel instead.
        record = part["record"]
        part["has_open_file"] = record is not None and record.status not in (
            RecordStatus.EXITED, RecordStatus.CLOSED)
    return part


PANEL = MemberPanel(key="archive", order=10, permission="archive.view", context=member_part,
                    template="archive/_member_panel.html", stylesheet="css/archive.css")
ACTION = MemberAction(key="archive", order=20, template="archive/_member_actions.html")
