"""Member back-office pages, through the HTTP client: scope (404), masking, reveal, forms."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import make_staff
from unionaid.accounts import services as account_services
from unionaid.accounts.models import Assignment
from unionaid.audit.models import AuditEvent
from unionaid.members.models import Consent, EmploymentForm, HouseholdMember, Member

BANK_ACCOUNT = "6222021234567890123"


@pytest.fixture
def member_a(union, make_member):
    """A member of team A (inside the team cadre's and station A cadre's scope)."""
    return make_member(union.team_a, bank_account=BANK_ACCOUNT)


@pytest.fixture
def member_b(union, make_member):
    """A member of station B's team (outside team A / station A)."""
    return make_member(union.team_b)


def member_urls(member):
    return {
        "detail": ("get", reverse("members:member-detail", args=[member.pk])),
        "edit": ("get", reverse("members:member-edit", args=[member.pk])),
        "edit-post": ("post", reverse("members:member-edit", args=[member.pk])),
        "reveal": ("post", reverse("members:member-reveal", args=[member.pk, "id_number"])),
        "consent": ("post", reverse("members:member-consent", args=[member.pk])),
        "household": ("get", reverse("members:household-create", args=[member.pk])),
    }


# -- scope --------------------------------------------------------------------------------------

def test_it_returns_404_on_every_member_url_for_a_member_of_another_station(
    client, personas, member_b
):
    client.force_login(personas.team_cadre)
    for name, (method, url) in member_urls(member_b).items():
        data = {"kind": "health", "action": "grant", "name": "x"} if method == "post" else None
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, name
        assert member_b.id_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="member.reveal").exists()
    assert not Consent.objects.filter(member=member_b).exists()
    denials = AuditEvent.objects.filter(action="access.denied", target_id=str(member_b.pk))
    assert denials.count() == len(member_urls(member_b))


def test_it_returns_404_for_a_member_that_does_not_exist(client, personas):
    client.force_login(personas.team_cadre)
    assert client.get(reverse("members:member-detail", args=[999_999])).status_code == 404


# -- masking and reveal -------------------------------------------------------------------------

def test_it_never_shows_clear_identity_values_on_the_detail_page(client, personas, member_a):
    client.force_login(personas.station_cadre)
    response = client.get(reverse("members:member-detail", args=[member_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert member_a.id_number_masked in html
    assert member_a.phone_masked in html
    assert member_a.bank_account_masked in html
    assert member_a.id_number not in html
    assert member_a.phone not in html
    assert BANK_ACCOUNT not in html
    # The station cadre may reveal, so each field has its own "显示" button.
    for field in ("id_number", "phone", "bank_account"):
        assert reverse("members:member-reveal", args=[member_a.pk, field]) in html


def test_it_reveals_the_clear_id_number_and_journals_the_reveal(client, personas, member_a):
    client.force_login(personas.station_cadre)
    response = client.post(
        reverse("members:member-reveal", args=[member_a.pk, "id_number"]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert member_a.id_number in response.content.decode()
    assert "<html" not in response.content.decode()  # an htmx fragment, not a page
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="member.reveal")
    assert event.outcome == "ok"
    assert event.actor_id == personas.station_cadre.pk
    assert event.target_id == str(member_a.pk)
    assert event.changes == {"field": "id_number"}


def test_it_reveals_the_bank_account_in_a_full_page_without_htmx(client, personas, member_a):
    client.force_login(personas.station_cadre)
    response = client.post(reverse("members:member-reveal", args=[member_a.pk, "bank_account"]))
    assert response.status_code == 200
    assert BANK_ACCOUNT in response.content.decode()
    assert "<html" in response.content.decode()
    assert AuditEvent.objects.filter(action="member.reveal", outcome="ok").count() == 1


def test_it_refuses_to_reveal_to_a_cadre_without_the_reveal_permission(
    client, personas, member_a
):
    client.force_login(personas.team_cadre)
    detail = client.get(reverse("members:member-detail", args=[member_a.pk])).content.decode()
    assert reverse("members:member-reveal", args=[member_a.pk, "id_number"]) not in detail

    response = client.post(
        reverse("members:member-reveal", args=[member_a.pk, "id_number"]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert "您无权查看完整信息" in html
    assert member_a.id_number not in html
    assert member_a.id_number_masked in html
    assert not AuditEvent.objects.filter(action="member.reveal", outcome="ok").exists()


def test_it_rejects_an_unknown_reveal_field(client, personas, member_a):
    client.force_login(personas.station_cadre)
    response = client.post(
        reverse("members:member-reveal", args=[member_a.pk, "name"]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "不支持查看该字段" in response.content.decode()
    assert not AuditEvent.objects.filter(action="member.reveal").exists()


def test_it_does_not_reveal_on_get(client, personas, member_a):
    client.force_login(personas.station_cadre)
    response = client.get(reverse("members:member-reveal", args=[member_a.pk, "id_number"]))
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action="member.reveal").exists()


# -- create and edit ----------------------------------------------------------------------------

def create_data(union, person, **overrides):
    data = {
        "name": person["name"], "id_number": person["id_number"], "phone": person["phone"],
        "bank_account": "", "org_unit": union.team_a.pk,
        "employment_form": EmploymentForm.NEW_EMPLOYMENT_FORM,
        "membership_status": "active", "joined_on": "2024-03-01",
    }
    data.update(overrides)
    return data


def test_it_creates_a_gig_worker_and_journals_it(client, personas, union, people):
    client.force_login(personas.team_cadre)
    person = people.person()
    response = client.post(reverse("members:member-create"), create_data(union, person))
    member = Member.objects.get(name=person["name"])
    assert response.status_code == 302
    assert response["Location"] == reverse("members:member-detail", args=[member.pk])
    assert member.employment_form == EmploymentForm.NEW_EMPLOYMENT_FORM
    assert member.org_unit == union.team_a
    assert member.id_number == person["id_number"]
    event = AuditEvent.objects.get(action="member.create", target_id=str(member.pk))
    assert person["id_number"] not in str(event.changes)


def test_it_keeps_typed_values_and_shows_the_chinese_error_for_a_bad_id_number(
    client, personas, union, people
):
    client.force_login(personas.team_cadre)
    person = people.person()
    bad_id = person["id_number"][:-1] + ("0" if person["id_number"][-1] != "0" else "1")
    response = client.post(
        reverse("members:member-create"), create_data(union, person, id_number=bad_id)
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "身份证号校验位错误" in html
    assert f'value="{person["name"]}"' in html
    assert f'value="{bad_id}"' in html
    assert f'value="{person["phone"]}"' in html
    assert 'value="2024-03-01"' in html
    assert not Member.objects.filter(name=person["name"]).exists()
    assert not AuditEvent.objects.filter(action="member.create").exists()


def test_it_offers_only_units_where_the_user_may_change_members(
    client, personas, union, people
):
    client.force_login(personas.team_cadre)
    form_html = client.get(reverse("members:member-create")).content.decode()
    assert union.team_a.name in form_html
    assert union.team_b.name not in form_html
    assert union.station_a.name not in form_html

    person = people.person()
    response = client.post(
        reverse("members:member-create"), create_data(union, person, org_unit=union.team_b.pk)
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not Member.objects.filter(name=person["name"]).exists()


def test_it_edits_a_member_and_keeps_identity_values_left_blank(client, personas, member_a):
    client.force_login(personas.team_cadre)
    url = reverse("members:member-edit", args=[member_a.pk])
    form_html = client.get(url).content.decode()
    assert member_a.id_number not in form_html
    assert member_a.id_number_masked in form_html  # as a placeholder

    response = client.post(url, {
        "name": member_a.name, "id_number": "", "phone": "", "bank_account": "",
        "clear_bank_account": "on", "org_unit": member_a.org_unit_id,
        "employment_form": EmploymentForm.DISPATCHED, "membership_status": "active",
        "joined_on": "",
    })
    assert response.status_code == 302
    fresh = Member.objects.get(pk=member_a.pk)
    assert fresh.employment_form == EmploymentForm.DISPATCHED
    assert fresh.id_number == member_a.id_number
    assert fresh.phone == member_a.phone
    assert fresh.bank_account == ""
    event = AuditEvent.objects.get(action="member.update", target_id=str(member_a.pk))
    assert set(event.changes) == {"employment_form", "bank_account"}
    assert BANK_ACCOUNT not in str(event.changes)


def test_it_shows_the_chinese_phone_error_on_edit(client, personas, member_a):
    client.force_login(personas.team_cadre)
    response = client.post(reverse("members:member-edit", args=[member_a.pk]), {
        "name": "改名测试", "id_number": "", "phone": "12345", "bank_account": "",
        "org_unit": member_a.org_unit_id, "employment_form": "regular",
        "membership_status": "active",
    })
    html = response.content.decode()
    assert response.status_code == 200
    assert "手机号格式不正确" in html
    assert 'value="改名测试"' in html
    assert Member.objects.get(pk=member_a.pk).name == member_a.name


# -- search and paging --------------------------------------------------------------------------

@pytest.fixture
def roll(union, make_member, member_a, member_b):
    other = make_member(union.workshop_a)
    return {"a": member_a, "b": member_b, "other": other}


def listed(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_it_finds_a_member_by_full_id_number(client, personas, roll):
    client.force_login(personas.station_cadre)
    html = listed(client.post(reverse("members:member-list"), {"q": roll["a"].id_number}))
    assert reverse("members:member-detail", args=[roll["a"].pk]) in html
    assert reverse("members:member-detail", args=[roll["other"].pk]) not in html
    # Only the search box echoes what the user typed; the result row shows the masked number.
    assert html.count(roll["a"].id_number) == 1
    assert roll["a"].id_number_masked in html


def test_it_finds_a_member_by_phone(client, personas, roll):
    client.force_login(personas.station_cadre)
    html = listed(client.post(reverse("members:member-list"), {"q": roll["other"].phone}))
    assert reverse("members:member-detail", args=[roll["other"].pk]) in html
    assert reverse("members:member-detail", args=[roll["a"].pk]) not in html


def test_it_finds_members_by_name_prefix_within_scope_only(client, personas, union, make_member):
    inside = make_member(union.team_a, name="欧阳测试甲")
    outside = make_member(union.team_b, name="欧阳测试乙")
    client.force_login(personas.station_cadre)
    html = listed(client.get(reverse("members:member-list"), {"q": "欧阳测"}))
    assert reverse("members:member-detail", args=[inside.pk]) in html
    assert reverse("members:member-detail", args=[outside.pk]) not in html


def test_it_does_not_find_an_out_of_scope_member_by_id_number(client, personas, roll):
    client.force_login(personas.team_cadre)
    html = listed(client.post(reverse("members:member-list"), {"q": roll["b"].id_number}))
    assert reverse("members:member-detail", args=[roll["b"].pk]) not in html
    assert "没有找到职工" in html


def test_it_filters_by_unit_subtree(client, personas, union, roll):
    client.force_login(personas.station_cadre)
    html = listed(client.get(reverse("members:member-list"), {"unit": union.team_a.pk}))
    assert reverse("members:member-detail", args=[roll["a"].pk]) in html
    assert reverse("members:member-detail", args=[roll["other"].pk]) not in html


def test_it_pages_with_a_next_link_instead_of_counting(client, personas, union, make_member):
    for _ in range(51):
        make_member(union.team_a)
    client.force_login(personas.team_cadre)
    first = listed(client.get(reverse("members:member-list")))
    assert first.count("/members/") >= 50
    assert "page=2" in first
    second = listed(client.get(reverse("members:member-list"), {"page": 2}))
    rows = [m.pk for m in Member.objects.all() if f'href="/members/{m.pk}/"' in second]
    assert len(rows) == 1
    assert "page=3" not in second
    assert "page=1" in second


def test_it_keeps_id_numbers_out_of_paging_links(client, personas, union, make_member):
    members = [make_member(union.team_a, phone="13900001111") for _ in range(51)]
    client.force_login(personas.team_cadre)
    response = client.post(reverse("members:member-list"), {"q": "139 0000 1111"})
    html = listed(response)
    assert "no-store" in response["Cache-Control"]
    assert sum(f'href="/members/{m.pk}/"' in html for m in members) == 50
    # The next page is a POST carrying the query, never a link with the phone in it.
    assert "q=" not in html
    assert 'name="page" value="2"' in html
    second = listed(client.post(reverse("members:member-list"),
                                {"q": "139 0000 1111", "page": "2"}))
    assert sum(f'href="/members/{m.pk}/"' in second for m in members) == 1


# -- household and consent ----------------------------------------------------------------------

def test_it_shows_a_health_note_only_while_consent_is_in_force(client, personas, member_a):
    client.force_login(personas.team_cadre)
    consent_url = reverse("members:member-consent", args=[member_a.pk])
    detail_url = reverse("members:member-detail", args=[member_a.pk])

    response = client.post(consent_url, {"kind": "health", "action": "grant"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="consent.grant", target_id=str(member_a.pk)).exists()

    response = client.post(reverse("members:household-create", args=[member_a.pk]), {
        "name": "测试家属", "relation": "spouse", "health_note": "慢性肾病，需长期透析",
    })
    assert response.status_code == 302
    assert HouseholdMember.objects.filter(member=member_a, name="测试家属").exists()
    # The page says a note is on file but never shows it in clear.
    html = client.get(detail_url).content.decode()
    assert "慢性肾病" not in html
    assert "已登记" in html
    person = HouseholdMember.objects.get(member=member_a, name="测试家属")
    reveal_url = reverse("members:household-health-reveal", args=[member_a.pk, person.pk])
    # The 班组 cadre has no members.reveal: refused and journaled.
    response = client.post(reveal_url, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert "慢性肾病" not in response.content.decode()
    client.force_login(personas.station_cadre)
    response = client.post(reveal_url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "慢性肾病" in response.content.decode()
    outcomes = sorted(AuditEvent.objects.filter(action="household.health_reveal")
                      .values_list("outcome", flat=True))
    assert outcomes == ["denied", "ok"]

    client.force_login(personas.team_cadre)
    client.post(consent_url, {"kind": "health", "action": "withdraw"})
    html = client.get(detail_url).content.decode()
    assert "慢性肾病" not in html
    assert "未取得健康信息同意" in html
    assert AuditEvent.objects.filter(action="consent.withdraw").count() == 1
    # Withdrawn consent blocks processing even for someone who may reveal.
    client.force_login(personas.station_cadre)
    assert client.post(reveal_url, headers={"HX-Request": "true"}).status_code == 403


def test_the_detail_page_shows_only_the_birth_year(client, personas, member_a):
    # The masked ID hides exactly the birth date, so the page must not show it beside it.
    client.force_login(personas.station_cadre)
    html = client.get(reverse("members:member-detail", args=[member_a.pk])).content.decode()
    assert member_a.birth_date.isoformat() not in html
    assert member_a.id_number_masked in html


def test_it_refuses_a_health_note_without_consent_and_keeps_the_form(client, personas, member_a):
    client.force_login(personas.team_cadre)
    response = client.post(reverse("members:household-create", args=[member_a.pk]), {
        "name": "测试家属", "relation": "parent", "health_note": "高血压",
    })
    html = response.content.decode()
    assert response.status_code == 200
    assert "登记健康信息需先取得职工的单独同意" in html
    assert 'value="测试家属"' in html
    assert not HouseholdMember.objects.filter(member=member_a).exists()


# -- assignments end --------------------------------------------------------------------------

def test_it_removes_access_on_the_next_request_when_a_post_ends(
    client, personas, union, roles, member_a
):
    user = personas.team_cadre
    # A second, unrelated post keeps the session alive: only the rights of the ended post go.
    position = account_services.position_create(
        actor=None, org_unit=union.team_b, name="兼职干事", roles=[roles["cadre"]]
    )
    account_services.assignment_grant(actor=None, user=user, position=position)
    client.force_login(user)
    url = reverse("members:member-detail", args=[member_a.pk])
    assert client.get(url).status_code == 200

    team_post = Assignment.objects.get(user=user, position__org_unit=union.team_a)
    account_services.assignment_end(actor=None, assignment=team_post)
    assert client.get(url).status_code == 404


def test_it_logs_the_user_out_when_the_last_post_ends(client, personas, member_a):
    user = personas.team_cadre
    client.force_login(user)
    url = reverse("members:member-detail", args=[member_a.pk])
    assert client.get(url).status_code == 200

    account_services.assignment_end(actor=None, assignment=Assignment.objects.get(user=user))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_lets_a_worker_see_only_their_own_record(client, worker, union, make_member):
    own = worker.member
    other = make_member(union.team_a)
    client.force_login(worker)
    assert client.get(reverse("members:member-detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("members:member-detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("members:member-edit", args=[own.pk])).status_code == 404


def test_it_gives_a_unit_only_cadre_no_access_to_sub_units(client, union, roles, make_member):
    from conftest import make_role

    role = make_role("unit-only-cadre", ["members.view"], "unit")
    user = make_staff("unit_only_cadre", union.workshop_a, [role])
    below = make_member(union.team_a)
    here = make_member(union.workshop_a)
    client.force_login(user)
    assert client.get(reverse("members:member-detail", args=[here.pk])).status_code == 200
    assert client.get(reverse("members:member-detail", args=[below.pk])).status_code == 404


def test_a_duplicate_id_number_out_of_scope_says_neither_whose_nor_where(
    client, personas, union, people, make_member
):
    existing = make_member(union.team_b)
    client.force_login(personas.team_cadre)
    response = client.post(reverse("members:member-create"),
                           create_data(union, people.person(), id_number=existing.id_number))
    html = response.content.decode()
    assert response.status_code == 200
    assert "该身份证号已登记，请联系上级工会核实。" in html
    for secret in (existing.name, union.team_b.name, union.station_b.name,
                   reverse("members:member-detail", args=[existing.pk])):
        assert secret not in html
    assert AuditEvent.objects.filter(action="member.duplicate_id_number", outcome="denied",
                                     target_id=str(existing.pk)).count() == 1
    assert Member.objects.count() == 1


def test_a_duplicate_id_number_in_scope_keeps_the_plain_answer(
    client, personas, union, people, make_member
):
    existing = make_member(union.team_a)
    client.force_login(personas.team_cadre)
    response = client.post(reverse("members:member-create"),
                           create_data(union, people.person(), id_number=existing.id_number))
    assert "该身份证号已登记为职工。" in response.content.decode()
    assert not AuditEvent.objects.filter(action="member.duplicate_id_number").exists()


def test_a_get_with_an_id_number_in_the_address_is_refused_and_not_run(client, personas, roll):
    """A bookmarked or typed /members/?q=<ID> is not executed: the page says to use the form
    (which posts) and lists nobody (issue 10, item 4)."""
    client.force_login(personas.station_cadre)
    for q in (roll["a"].id_number, roll["other"].phone):
        response = client.get(reverse("members:member-list"), {"q": q})
        assert response.status_code == 400
        html = response.content.decode()
        assert "身份证号、手机号不能放在网址中" in html
        assert reverse("members:member-detail", args=[roll["a"].pk]) not in html
        assert reverse("members:member-detail", args=[roll["other"].pk]) not in html
        assert f'value="{q}"' not in html  # not echoed back into the search box
        assert q not in html  # nor into the language switcher's return address
    # the form itself posts, and the POST search works
    page = listed(client.get(reverse("members:member-list")))
    assert 'method="post"' in page
    html = listed(client.post(reverse("members:member-list"), {"q": roll["a"].id_number}))
    assert reverse("members:member-detail", args=[roll["a"].pk]) in html
