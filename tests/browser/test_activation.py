"""Workers get in: a worker of the demo roster activates their own login on a phone (name, ID
number, roster phone, the SMS code, a password) and lands on /me/; a 班组 cadre prints
activation codes for workers without a phone of their own. Every page is checked."""

from __future__ import annotations

import re

import pytest

from unionaid.accounts.models import User
from unionaid.members.models import Member, MembershipStatus
from unionaid.notifications.deliveries import deliveries_send_due
from unionaid.portal.activation import login_codes_send_queued

PASSWORD = "Worker-pass-2026"


def _a_member_with_an_own_phone_and_no_login() -> Member:
    candidates = (Member.objects.filter(membership_status=MembershipStatus.ACTIVE,
                                        user__isnull=True).exclude(phone_hash="")
                  .order_by("pk"))
    for member in candidates:
        if Member.objects.filter(phone_hash=member.phone_hash).count() == 1:
            return member
    raise AssertionError("the demo roster has no member with a phone of their own")


def _submit(session):
    session.click("main form button[type=submit]")


@pytest.mark.parametrize("size", ["phone"])
def test_a_worker_activates_their_login_on_a_phone_and_reaches_me(browse, sms_gateway):
    member = _a_member_with_an_own_phone_and_no_login()
    me = browse(None)
    me.go("/accounts/login/")
    me.click("#link-activate")
    assert me.path == "/logins/activate/"
    me.page.fill("#id_name", member.name)
    me.page.fill("#id_id_number", member.id_number)
    me.page.fill("#id_phone", member.phone)
    _submit(me)
    assert me.path == "/logins/activate/code/", me.text()[:300]
    # The code row's task hands the code to a queued delivery; both run here as the task
    # worker would, and the text reaches the local SMS gateway fake, where the worker's phone
    # would get it.
    login_codes_send_queued()
    deliveries_send_due()
    assert len(sms_gateway.messages_for(member.phone)) == 1
    code = sms_gateway.last_code_for(member.phone)
    me.page.fill("#id_code", code)
    _submit(me)
    assert me.path == "/logins/activate/password/", me.text()[:300]
    me.page.fill("#id_username", "phone_worker")
    me.page.fill("#id_password1", PASSWORD)
    me.page.fill("#id_password2", PASSWORD)
    _submit(me)
    assert me.path == "/me/", me.text()[:300]
    assert member.name in me.text()
    assert User.objects.get(username="phone_worker").member_id == member.pk


def test_a_team_cadre_prints_activation_codes(browse):
    cadre = browse("team_cadre")
    cadre.go("/logins/print/")
    links = cadre.page.locator("main .list-group a")
    assert links.count() >= 1, "the team cadre sees their 班组"
    unit_pk = int(re.search(r"/logins/print/(\d+)/", links.first.get_attribute("href")).group(1))
    # Two workers of the 班组 share a phone (a household's one phone): both need a code.
    first, second = Member.objects.filter(user__isnull=True,
                                          membership_status=MembershipStatus.ACTIVE)[:2]
    Member.objects.filter(pk__in=[first.pk, second.pk]).update(org_unit_id=unit_pk)
    second.phone, second.phone_hash = first.phone, first.phone_hash
    second.save(update_fields=["phone", "phone_hash"])
    cadre.click(f"main a[href='/logins/print/{unit_pk}/']")
    assert cadre.path == f"/logins/print/{unit_pk}/"
    assert second.name in cadre.text()
    cadre.click("main form button[type=submit]")
    assert "职工激活码" in cadre.text()
    assert cadre.page.locator(".activation-card img.activation-qr").count() >= 2


@pytest.mark.parametrize("size", ["phone"])
def test_a_worker_activates_with_a_printed_qr_code(browse):
    cadre = browse("team_cadre")
    cadre.go("/logins/print/")
    link = cadre.page.locator("main .list-group a").first
    unit_pk = int(re.search(r"/logins/print/(\d+)/", link.get_attribute("href")).group(1))
    member = Member.objects.filter(user__isnull=True,
                                   membership_status=MembershipStatus.ACTIVE).first()
    Member.objects.filter(pk=member.pk).update(org_unit_id=unit_pk, phone_hash="")
    cadre.click(link)
    cadre.click("main form button[type=submit]")
    card = cadre.page.locator(".activation-card", has_text=member.name)
    code = card.locator("[data-code]").inner_text().strip()
    # The QR code's address: the activation page with the code in the fragment.
    worker = browse(None)
    worker.go(f"/logins/activate/printed/#code={code}")
    assert worker.page.input_value("#id_code") == code, "the page fills the code in"
    assert "#" not in worker.page.url, "and drops it from the address bar"
    worker.page.fill("#id_name", member.name)
    worker.page.fill("#id_id_number", member.id_number)
    _submit(worker)
    assert worker.path == "/logins/activate/password/", worker.text()[:300]
    worker.page.fill("#id_username", "qr_worker")
    worker.page.fill("#id_password1", PASSWORD)
    worker.page.fill("#id_password2", PASSWORD)
    _submit(worker)
    assert worker.path == "/me/", worker.text()[:300]
    assert User.objects.get(username="qr_worker").member_id == member.pk


def test_the_security_admin_links_a_staff_login_to_its_member(browse):
    admin = browse(None)
    admin.login_with_code("secadmin")
    admin.go("/accounts/admin/users/")
    admin.click(admin.page.locator("main .nav a[href='/logins/links/']"))
    member = Member.objects.filter(user__isnull=True).first()
    admin.page.fill("#id_username", "team_cadre")
    admin.page.fill("#id_id_number", member.id_number)
    _submit(admin)
    assert admin.path == "/logins/links/"
    assert "team_cadre" in admin.text()
    assert User.objects.get(username="team_cadre").member_id == member.pk
