"""The worker lands on their own pages, which work on a phone under the strict CSP; the back
office does not exist for them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from unionaid.assistance.models import ApplicationStatus
from unionaid.notifications.services import notify

from .helpers import draft


def test_a_worker_without_posts_lands_on_their_own_page(client, worker):
    client.force_login(worker)
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_staff_still_get_the_back_office_home(client, personas):
    client.force_login(personas.team_cadre)
    assert client.get(reverse("web:home")).status_code == 200


def test_home_shows_my_applications_unread_count_and_items_by_category(
        client, worker, illness, make_item):
    make_item(code="kn-shjz", name="困难职工生活救助", category="zhukun")
    make_item(code="xx-old", name="停办的助学项目", category="zhuxue", is_active=False)
    application = draft(worker, illness)
    for n in range(3):
        notify(recipient=worker, title=f"消息{n}")
    client.force_login(worker)
    response = client.get(reverse("portal:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("portal:application-detail", args=[application.pk]) in html
    assert "草稿" in html
    assert "text-bg-secondary" in html
    assert response.context["unread"] == 3
    assert re.search(r'id="portal-unread">3<', html)
    categories = re.findall(r"<summary class=\"h6 py-2\">(\S+)", html)
    assert categories == ["助困", "助医"]  # catalog order; no category without an open item
    assert reverse("portal:apply", args=[illness.pk]) in html
    assert "停办的助学项目" not in html


def test_the_unread_badge_is_in_the_navigation(client, worker):
    notify(recipient=worker, title="帮扶申请已提交")
    client.force_login(worker)
    html = client.get(reverse("portal:home")).content.decode()
    bell = re.search(r'<a[^>]*id="nav-notifications".*?</a>', html, re.S).group(0)
    assert 'href="/notifications/"' in bell
    assert re.search(r'class="[^"]*badge[^"]*">1<', bell)


@pytest.mark.parametrize("url", ["/members/io/imports/", "/audit/", "/funds/", "/funds/trace/",
                                 "/funds/batches/", "/accounts/admin/users/"])
def test_back_office_urls_do_not_exist_for_a_worker(client, worker, url):
    client.force_login(worker)
    assert client.get(url).status_code == 404


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_the_pages_fit_a_phone_and_have_no_inline_script_or_style(
        client, worker, illness, flow):
    application = draft(worker, illness)
    notify(recipient=worker, title="测试", link="/me/")
    client.force_login(worker)
    pages = [reverse("portal:home"), reverse("portal:apply", args=[illness.pk]),
             reverse("portal:application-detail", args=[application.pk]),
             reverse("portal:application-edit", args=[application.pk]),
             reverse("portal:application-list"), reverse("notifications:inbox")]
    for url in pages:
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_HANDLER.search(html), url
        assert "style=" not in html, url
        assert "portal.css" in html, url
        assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_upload_form_opens_the_phone_camera(client, worker, illness):
    application = draft(worker, illness)
    client.force_login(worker)
    html = client.get(reverse("portal:application-detail", args=[application.pk])).content.decode()
    camera = re.search(r'<input type="file" name="camera"[^>]*>', html).group(0)
    assert 'accept="image/*,application/pdf"' in camera
    assert 'capture="environment"' in camera
    assert "multiple" in camera
    assert 'hx-encoding="multipart/form-data"' in html
    assert 'data-progress="upload-progress"' in html
    assert "js/portal.js" in html


def test_a_closed_application_offers_no_upload_or_withdraw(client, worker, illness):
    application = draft(worker, illness)
    application.status = ApplicationStatus.REJECTED
    application.save(update_fields=["status"])
    client.force_login(worker)
    html = client.get(reverse("portal:application-detail", args=[application.pk])).content.decode()
    assert 'name="camera"' not in html
    assert "撤回申请</button>" not in html
    assert client.get(reverse("portal:application-edit", args=[application.pk])).status_code == 404
