"""Once the security admin links a staff login to its member record (``portal.links``), the
rule "never decide your own household's case" applies to it; unlinked, nothing ties the login
to the person, so the same approver would decide."""

from __future__ import annotations

import pytest

from unionaid.approvals import services as approvals
from unionaid.approvals.models import TaskStatus
from unionaid.core.errors import PermissionDenied
from unionaid.members import services as member_services
from unionaid.portal import links


def pending(case):
    return case.tasks.get(status=TaskStatus.PENDING)


@pytest.fixture
def approvers_spouse(chain, make_member, registrar, union):
    """The approver's own member record, listed as the applicant's spouse."""
    approver_member = make_member(union.station_a)
    member_services.household_member_add(
        actor=registrar, member=chain.applicant, name=approver_member.name, relation="spouse",
        id_number=approver_member.id_number,
    )
    return approver_member


def test_a_linked_staff_approver_cannot_decide_a_household_members_case(
        chain, personas, approvers_spouse):
    links.login_link_member(actor=personas.security_admin, user=chain.station_officer,
                            member=approvers_spouse)
    chain.station_officer.refresh_from_db()
    case = chain.start()
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    assert exc.value.code == "self_approval"
    assert pending(case).order == 1


def test_the_same_approver_unlinked_would_decide(chain, approvers_spouse):
    case = chain.start()
    approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    assert pending(case).order == 2
