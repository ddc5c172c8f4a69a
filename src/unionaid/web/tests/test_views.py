"""The back-office shell: home dashboard, language switch, CSP-friendly pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from conftest import verified_login
from unionaid.members.models import EmploymentForm
from unionaid.web import selectors as web_selectors


def test_it_shows_posts_scope_counts_and_links_by_permission(
    client, personas, union, make_member
):
    make_member(union.team_a)
    make_member(union.team_a, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    make_member(union.team_b)  # outside the team cadre's scope
    client.force_login(personas.team_cadre)
    response = client.get(reverse("web:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "甲一班组·team_cadre-post" in html
    counts = {c.label: c.value for c in response.context["dashboard"]["counts"]}
    assert counts == {"可见职工": 2, "在籍会员": 2, "新就业形态劳动者": 1}
    assert 'href="/members/new/"' in html
    assert 'href="/audit/"' not in html
    assert 'href="/accounts/admin/users/"' not in html


def test_it_caps_the_dashboard_counts(client, personas, union, make_member, monkeypatch):
    monkeypatch.setattr(web_selectors, "COUNT_CAP", 2)
    for _ in range(3):
        make_member(union.team_a)
    client.force_login(personas.team_cadre)
    html = client.get(reverse("web:home")).content.decode()
    counts = web_selectors.dashboard_for(user=personas.team_cadre)["counts"]
    assert counts[0].value == 2
    assert counts[0].capped
    assert "2+" in html


def test_it_shows_the_audit_link_only_to_the_audit_admin(client, personas):
    verified_login(client, personas.audit_admin)
    html = client.get(reverse("web:home")).content.decode()
    assert 'href="/audit/"' in html
    assert 'href="/members/new/"' not in html
    assert "可见职工" not in html


def test_it_redirects_anonymous_visitors_to_login(client, db):
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_switches_the_language_to_english_and_back(client, personas, union, make_member):
    member = make_member(union.team_a)
    client.force_login(personas.team_cadre)
    url = reverse("members:member-detail", args=[member.pk])
    assert '<html lang="zh-hans">' in client.get(url).content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": url}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1] == (url, 302)
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert member.id_number_masked in html

    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": url}, follow=True)
    assert '<html lang="zh-hans">' in response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_switcher_names_each_language_in_its_own_tongue(client, personas, language):
    client.force_login(personas.team_cadre)
    client.cookies["django_language"] = language
    html = client.get(reverse("web:home")).content.decode()
    buttons = dict(re.findall(r'name="language" value="([^"]+)"[^>]*>([^<]+)</button>', html))
    assert buttons == {"zh-hans": "简体中文", "en": "English"}  # never 英语, never "Simplified Chinese"
    assert "英语" not in html


def test_every_page_names_the_favicon(client, db):
    html = client.get(reverse("accounts:login")).content.decode()
    assert re.search(r'<link rel="icon" href="/static/img/favicon\.svg"', html)
    assert re.search(r'<link rel="icon" href="/static/img/favicon\.ico"', html)


def test_favicon_ico_answers_with_the_icon(client):
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (302, "/static/img/favicon.ico")
    icon = Path(finders.find("img/favicon.ico")).read_bytes()
    assert icon[:4] == b"\x00\x00\x01\x00"  # an ICO file (the browser suite loads it)


@pytest.mark.parametrize("name", ["web:home", "org:tree", "members:member-list",
                                  "members:member-create"])
def test_it_renders_pages_without_inline_scripts_or_styles(client, personas, name):
    client.force_login(personas.station_cadre)
    html = client.get(reverse(name)).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_it_renders_the_member_detail_without_inline_scripts(client, personas, union, make_member):
    member = make_member(union.team_a)
    client.force_login(personas.station_cadre)
    html = client.get(reverse("members:member-detail", args=[member.pk])).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    assert 'hx-post="/members/' in html


def test_it_links_a_worker_to_their_own_record(client, worker):
    client.force_login(worker)
    html = client.get(reverse("web:home"), follow=True).content.decode()  # → portal:home
    assert reverse("members:member-detail", args=[worker.member_id]) in html
    assert 'href="/members/new/"' not in html


def test_the_switcher_returns_to_the_page_without_identifier_like_values(client, personas):
    """The switcher's ``next`` keeps the path and harmless filters but never a value shaped like
    an ID number or phone (issue 10, item 4: those never travel in URLs)."""
    client.force_login(personas.team_cadre)
    html = client.get(reverse("web:home"), {"status": "submitted",
                                            "q": "13800001111"}).content.decode()
    nexts = re.findall(r'name="next" type="hidden" value="([^"]*)"', html)
    assert nexts == [reverse("web:home") + "?status=submitted"]
