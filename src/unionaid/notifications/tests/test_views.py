"""The in-app inbox: a user sees only their own notifications, marks them read (one, htmx, or
all), opens the page one is about; the nav badge counts what is unread."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from unionaid.notifications.models import Notification
from unionaid.notifications.services import notify


def nav_badge(html: str) -> str | None:
    """The number on the bell in the navigation bar, or None without a badge."""
    bell = re.search(r'<a[^>]*id="nav-notifications".*?</a>', html, re.S).group(0)
    found = re.search(r'class="[^"]*badge[^"]*">([^<]*)<', bell)
    return found.group(1) if found else None


@pytest.fixture
def inbox(worker, personas):
    old = notify(recipient=worker, title="帮扶申请已提交", body="您的申请已提交。",
                 link="/me/applications/1/")
    new = notify(recipient=worker, title="帮扶申请已核准", body="金额 5,000.00 元。")
    other = notify(recipient=personas.team_cadre, title="新的待办：别人的消息")
    return old, new, other


def test_it_lists_only_my_notifications_newest_first(client, worker, inbox):
    client.force_login(worker)
    response = client.get(reverse("notifications:inbox"))
    html = response.content.decode()
    assert response.status_code == 200
    assert [n.pk for n in response.context["page"].rows] == [inbox[1].pk, inbox[0].pk]
    assert html.index("帮扶申请已核准") < html.index("帮扶申请已提交")
    assert "别人的消息" not in html
    assert html.count("notification-unread") == 2


def test_it_marks_one_read_and_htmx_gets_the_row_back(client, worker, inbox):
    client.force_login(worker)
    response = client.post(reverse("notifications:read", args=[inbox[0].pk]),
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<li class="list-group-item py-3 notification" '
                           f'id="notification-{inbox[0].pk}">')
    assert "标为已读" not in html
    inbox[0].refresh_from_db()
    inbox[1].refresh_from_db()
    assert inbox[0].read_at is not None
    assert inbox[1].read_at is None


def test_someone_elses_notification_is_not_found(client, worker, inbox):
    client.force_login(worker)
    assert client.post(reverse("notifications:read", args=[inbox[2].pk])).status_code == 404
    assert client.post(reverse("notifications:open", args=[inbox[2].pk])).status_code == 404
    inbox[2].refresh_from_db()
    assert inbox[2].read_at is None


def test_it_marks_all_mine_read(client, worker, inbox):
    client.force_login(worker)
    response = client.post(reverse("notifications:read-all"), follow=True)
    assert "已将 2 条消息标为已读" in response.content.decode()
    assert not Notification.objects.filter(recipient=worker, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=inbox[2].pk).read_at is None


def test_the_unread_filter_and_the_badge_follow_what_is_read(client, worker, inbox):
    client.force_login(worker)
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert nav_badge(html) == "2"
    client.post(reverse("notifications:read", args=[inbox[1].pk]))
    unread = client.get(reverse("notifications:inbox") + "?unread=1")
    assert [n.pk for n in unread.context["page"].rows] == [inbox[0].pk]
    assert nav_badge(unread.content.decode()) == "1"
    client.post(reverse("notifications:read-all"))
    assert nav_badge(client.get(reverse("notifications:inbox")).content.decode()) is None


def test_the_badge_caps_a_long_unread_history(client, worker):
    Notification.objects.bulk_create(
        [Notification(recipient=worker, title=f"消息{n}") for n in range(101)])
    client.force_login(worker)
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert nav_badge(html) == "99+"


def test_opening_marks_read_and_goes_to_the_page(client, worker, inbox):
    client.force_login(worker)
    response = client.post(reverse("notifications:open", args=[inbox[0].pk]))
    assert response.status_code == 302
    assert response["Location"] == "/me/applications/1/"
    inbox[0].refresh_from_db()
    assert inbox[0].read_at is not None


def test_opening_never_leaves_the_site(client, worker):
    note = notify(recipient=worker, title="钓鱼", link="//evil.example/login")
    client.force_login(worker)
    response = client.post(reverse("notifications:open", args=[note.pk]))
    assert response["Location"] == reverse("notifications:inbox")


def test_the_inbox_needs_a_login(client, inbox):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert client.post(reverse("notifications:read-all")).status_code == 302
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_marking_read_needs_post(client, worker, inbox):
    client.force_login(worker)
    assert client.get(reverse("notifications:read", args=[inbox[0].pk])).status_code == 405
    inbox[0].refresh_from_db()
    assert inbox[0].read_at is None
