"""The demo union (``manage.py demo``, ``demo_logins``, ``demo_otp``)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from unionaid.accounts.access import compute_access
from unionaid.accounts.models import Assignment, Position, Role, User
from unionaid.approvals.models import ApprovalFlow
from unionaid.assistance.models import Application, AssistanceItem
from unionaid.audit.models import AuditEvent
from unionaid.audit.services import audit_verify
from unionaid.core import idcard
from unionaid.funds.models import Budget, FundingSource
from unionaid.members.models import Consent, ConsentKind, HouseholdMember, Member, Relation
from unionaid.members.selectors import id_number_hash, members_visible_to
from unionaid.members.services import CHILD_AGE
from unionaid.org.models import OrgLevel, OrgUnit
from unionaid.web.demo import DEMO_PASSWORD, PERSONAS

pytestmark = pytest.mark.django_db

USERNAMES = [p.username for p in PERSONAS]


def _age(birth, today) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, skip_checks=True)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def demo():
    """Tree, staff, members, catalog, flows and budgets; no applications (see test_demo_chain),
    no lists (test_demo_lists)."""
    return run("demo", "--members", "300", "--seed", "7", "--applications", "0", "--visits", "0",
               "--no-lists")


def children(unit):
    return OrgUnit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1)


def test_it_builds_a_four_level_tree(demo):
    assert list(OrgLevel.objects.values_list("name", flat=True)) == ["路局", "站段", "车间", "班组"]
    root = OrgUnit.objects.get(depth=1)
    assert "示例" in root.name
    stations = list(children(root))
    assert len(stations) == 8
    for station in stations:
        workshops = list(children(station))
        assert 3 <= len(workshops) <= 5
        for workshop in workshops:
            assert 3 <= children(workshop).count() <= 5
    assert OrgUnit.objects.filter(depth__gt=4).count() == 0
    assert OrgUnit.objects.filter(depth=4, numchild=0).count() == OrgUnit.objects.filter(
        depth=4).count()


def test_it_stores_members_with_valid_encrypted_ids(demo):
    assert Member.objects.count() == 300
    assert set(Member.objects.values_list("org_unit__depth", flat=True)) == {4}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, id_number_enc, phone_enc FROM members_member")
        raw = {pk: (id_enc, phone_enc) for pk, id_enc, phone_enc in cursor.fetchall()}
    for member in Member.objects.all():
        info = idcard.parse_id_number(member.id_number)  # decrypts to a valid number
        assert (info.birth_date, info.sex) == (member.birth_date, member.sex)
        assert member.id_number_hash == id_number_hash(info.number)
        raw_id, raw_phone = raw[member.pk]
        assert raw_id.startswith("a1:")
        assert info.number not in raw_id
        if member.phone:
            assert member.phone not in raw_phone
    forms = set(Member.objects.values_list("employment_form", flat=True))
    assert {"regular", "dispatched", "new_employment_form"} <= forms
    assert Member.objects.exclude(bank_account="").exists()
    assert Member.objects.filter(bank_account="").exists()


def test_it_keeps_household_data_within_consent(demo):
    assert HouseholdMember.objects.filter(relation=Relation.SPOUSE).exists()
    assert HouseholdMember.objects.filter(relation=Relation.CHILD).exists()
    with_id = HouseholdMember.objects.exclude(id_number="")
    assert with_id.exists()
    for person in with_id:
        info = idcard.parse_id_number(person.id_number)
        assert info.birth_date == person.birth_date
        assert person.id_number_hash == id_number_hash(info.number)
    with_health = HouseholdMember.objects.exclude(health_note="")
    assert with_health.exists()
    for person in with_health.select_related("member"):
        assert Consent.objects.filter(member=person.member, kind=ConsentKind.HEALTH).exists()
    today = timezone.localdate()
    minors = [p for p in HouseholdMember.objects.filter(relation=Relation.CHILD)
              if _age(p.birth_date, today) < CHILD_AGE]
    assert minors
    for person in minors:
        assert Consent.objects.filter(member_id=person.member_id,
                                      kind=ConsentKind.CHILDREN).exists()


def test_it_creates_the_personas_with_the_demo_password(demo):
    request = RequestFactory().post("/accounts/login/")
    for username in USERNAMES:
        user = authenticate(request, username=username, password=DEMO_PASSWORD)
        assert user is not None, username
    assert Role.objects.count() == 11
    duties = {u: compute_access(User.objects.get(username=u)).duties
              for u in ("sysadmin", "secadmin", "auditadmin", "bureau_cadre", "finance",
                        "auditor")}
    assert duties == {"sysadmin": {"system"}, "secadmin": {"security"},
                      "auditadmin": {"audit"}, "bureau_cadre": set(), "finance": set(),
                      "auditor": set()}
    # A post in every unit below the root, plus a 代办员 post in every 站段.
    stations = OrgUnit.objects.filter(depth=2).count()
    workshops = OrgUnit.objects.filter(depth=3).count()
    assert Position.objects.filter(org_unit__depth__gt=1).count() == OrgUnit.objects.filter(
        depth__gt=1).count() + stations
    # 10 staff personas; the 车间 and 站段 posts the personas don't hold, and every 代办员 post,
    # have a generated holder.
    assert Assignment.objects.count() == 10 + (workshops - 1) + (stations - 1) + stations
    for unit in OrgUnit.objects.filter(depth__in=[2, 3]):
        assert Assignment.objects.filter(position__org_unit=unit).exists(), unit.name
    assert not Assignment.objects.filter(position__org_unit__depth=4).exclude(
        user__username="team_cadre").exists()
    cashier = compute_access(User.objects.get(username="cashier"))  # the four-eyes checker
    assert cashier.has_perm("funds.confirm")
    assert not cashier.has_perm("funds.manage")
    auditor = compute_access(User.objects.get(username="auditor"))
    assert auditor.has_perm("trace.view")
    assert not auditor.has_perm("funds.manage")
    worker = User.objects.get(username="worker")
    assert worker.member is not None
    assert not worker.assignments.exists()


def test_it_journals_the_bulk_load_once_and_keeps_the_chain_intact(demo):
    events = AuditEvent.objects.filter(action="demo.build")
    assert events.count() == 1
    assert events.get().changes["members"] == 300
    assert not AuditEvent.objects.filter(action="member.create").exists()
    assert AuditEvent.objects.filter(action="org.create").count() == OrgUnit.objects.count()
    assert list(audit_verify()) == []


def test_team_cadre_sees_only_their_team(demo):
    team_cadre = User.objects.get(username="team_cadre")
    team = team_cadre.assignments.get().position.org_unit
    assert team.depth == 4
    visible = set(members_visible_to(user=team_cadre).values_list("pk", flat=True))
    assert visible == set(Member.objects.filter(org_unit=team).values_list("pk", flat=True))
    assert visible
    assert len(visible) < Member.objects.count()
    worker = User.objects.get(username="worker")
    assert worker.member_id in visible


def test_station_cadre_sees_their_subtree_and_worker_only_themself(demo):
    station_cadre = User.objects.get(username="station_cadre")
    station = station_cadre.assignments.get().position.org_unit
    visible = members_visible_to(user=station_cadre)
    assert visible.count() == Member.objects.filter(org_unit__path__startswith=station.path).count()
    assert visible.count() < Member.objects.count()
    worker = User.objects.get(username="worker")
    assert list(members_visible_to(user=worker).values_list("pk", flat=True)) == [worker.member_id]
    sysadmin = User.objects.get(username="sysadmin")
    assert not members_visible_to(user=sysadmin).exists()


def test_a_second_run_with_if_empty_does_nothing(demo):
    counts = (OrgUnit.objects.count(), Member.objects.count(), User.objects.count(),
              AuditEvent.objects.count())
    out = run("demo", "--if-empty", "--members", "50")
    assert "跳过" in out
    with pytest.raises(CommandError, match="空库"):
        run("demo", "--members", "50")
    assert counts == (OrgUnit.objects.count(), Member.objects.count(), User.objects.count(),
                      AuditEvent.objects.count())


def test_demo_otp_prints_a_code_the_admin_device_accepts(demo):
    code = run("demo_otp", "auditadmin").strip()
    assert len(code) == 6
    assert code.isdigit()
    device = TOTPDevice.objects.get(user__username="auditadmin")
    assert device.verify_token(code)
    with pytest.raises(CommandError):
        run("demo_otp", "team_cadre")


def test_demo_otp_refuses_a_device_the_demo_did_not_create(demo):
    device = TOTPDevice.objects.get(user__username="secadmin")
    device.key = "00" * 20
    device.save()
    with pytest.raises(CommandError):
        run("demo_otp", "secadmin")


def test_demo_logins_lists_every_persona_with_their_post(demo):
    out = run("demo_logins")
    for username in USERNAMES:
        assert username in out
    assert DEMO_PASSWORD in out
    assert "太原车务段·站段工会帮扶干事" in out
    assert "路局工会财务" in out
    assert "路局工会出纳" in out
    assert "demo_otp sysadmin" in out
    assert "demo_otp finance" not in out
    assert "intake_" in out


def test_demo_logins_says_so_on_an_empty_database():
    assert "unionaid demo" in run("demo_logins")


def test_it_builds_the_tree_without_members():
    run("demo", "--members", "0")
    assert OrgUnit.objects.filter(depth=4).exists()
    assert not Member.objects.exists()
    assert not User.objects.filter(username="worker").exists()
    assert User.objects.filter(username="station_cadre").exists()
    # the chain is set up even without members: catalog, flows, budgets; nothing filed
    assert AssistanceItem.objects.count() >= 30
    assert ApprovalFlow.objects.count() == 2
    assert Budget.objects.filter(org_unit__depth=2).count() == 8 * FundingSource.objects.count()
    assert not Application.objects.exists()
