"""The security admin links a staff login to its member record (and unlinks it), journaled;
a member already linked is refused, and so is linking oneself."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import verified_login
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, PermissionDenied
from unionaid.portal import links


@pytest.fixture
def cadre_member(union, make_member):
    return make_member(union.team_a)


def test_the_security_admin_links_a_staff_login_to_its_member(client, personas, cadre_member):
    verified_login(client, personas.security_admin)
    response = client.post(reverse("activation:links"), {
        "action": "link", "username": "team_cadre", "id_number": cadre_member.id_number})
    assert response["Location"] == reverse("activation:links")
    personas.team_cadre.refresh_from_db()
    assert personas.team_cadre.member == cadre_member
    event = AuditEvent.objects.get(action="member.login_link")
    assert event.actor == personas.security_admin
    assert event.changes["member"] == cadre_member.pk
    assert cadre_member.id_number not in str(event.changes)
    page = client.get(reverse("activation:links")).content.decode()
    assert "team_cadre" in page
    assert cadre_member.id_number not in page


def test_unlinking_is_journaled(client, personas, cadre_member):
    links.login_link_member(actor=personas.security_admin, user=personas.team_cadre,
                            member=cadre_member)
    verified_login(client, personas.security_admin)
    client.post(reverse("activation:links"), {"action": "unlink",
                                               "user": personas.team_cadre.pk})
    personas.team_cadre.refresh_from_db()
    assert personas.team_cadre.member is None
    assert AuditEvent.objects.filter(action="member.login_unlink").exists()


def test_a_member_already_linked_is_refused(personas, worker):
    with pytest.raises(Conflict) as exc:
        links.login_link_member(actor=personas.security_admin, user=personas.team_cadre,
                                member=worker.member)
    assert exc.value.code == "member_already_linked"
    personas.team_cadre.refresh_from_db()
    assert personas.team_cadre.member is None
    assert AuditEvent.objects.filter(action="member.login_link", outcome="denied",
                                     changes__reason="member_already_linked").exists()


def test_a_login_already_linked_must_be_unlinked_first(personas, union, make_member,
                                                       cadre_member):
    links.login_link_member(actor=personas.security_admin, user=personas.team_cadre,
                            member=cadre_member)
    with pytest.raises(Conflict) as exc:
        links.login_link_member(actor=personas.security_admin, user=personas.team_cadre,
                                member=make_member(union.team_a))
    assert exc.value.code == "user_already_linked"


def test_nobody_links_or_unlinks_their_own_login(personas, cadre_member):
    with pytest.raises(Conflict) as exc:
        links.login_link_member(actor=personas.security_admin, user=personas.security_admin,
                                member=cadre_member)
    assert exc.value.code == "self_link"
    with pytest.raises(Conflict):
        links.login_unlink_member(actor=personas.security_admin, user=personas.security_admin)


def test_only_the_security_admin_links(personas, cadre_member):
    with pytest.raises(PermissionDenied):
        links.login_link_member(actor=personas.station_cadre, user=personas.team_cadre,
                                member=cadre_member)


def test_a_member_outside_the_admins_scope_is_not_found(union, roles, people, make_member):
    from conftest import make_role, make_staff

    station_security = make_staff("station_sec", union.station_a, [
        make_role("station_security", ["security.manage", "org.view"])])
    outsider = make_member(union.team_b)
    with pytest.raises(NotFound):
        links.member_find_by_id_number(actor=station_security, id_number=outsider.id_number)


def test_the_page_needs_the_security_duty(client, personas):
    client.force_login(personas.team_cadre)
    assert client.get(reverse("activation:links")).status_code == 404


def test_an_unknown_user_name_is_a_form_error(client, personas, cadre_member):
    verified_login(client, personas.security_admin)
    response = client.post(reverse("activation:links"), {
        "action": "link", "username": "nobody", "id_number": cadre_member.id_number})
    assert response.status_code == 200
    assert "没有这个用户名" in response.content.decode()
