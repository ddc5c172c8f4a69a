"""/api/v1/notifications: my own inbox only; marking read."""

from __future__ import annotations

from unionaid.notifications.models import Notification
from unionaid.notifications.services import notify


def test_the_inbox_lists_only_my_notifications_newest_first(worker, staff, as_token):
    older = notify(recipient=worker, title="帮扶申请已提交", body="正在审批")
    newer = notify(recipient=worker, title="帮扶申请已核准", link="/me/applications/1/")
    notify(recipient=staff.apply_cadre, title="新的待办")
    response = as_token(worker).get("/notifications")
    assert response.status_code == 200
    body = response.json()
    assert [n["id"] for n in body["items"]] == [newer.pk, older.pk]
    assert body["unread_count"] == 2
    assert body["items"][0]["link"] == "/me/applications/1/"
    assert response["Cache-Control"] == "no-store"


def test_marking_read_changes_only_my_own(worker, staff, as_session):
    mine = notify(recipient=worker, title="帮扶申请已提交")
    theirs = notify(recipient=staff.apply_cadre, title="新的待办")
    api = as_session(worker)
    response = api.post(f"/notifications/{mine.pk}/read")
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert api.get("/notifications").json()["unread_count"] == 0
    assert api.get("/notifications?unread=true").json()["items"] == []
    other = api.post(f"/notifications/{theirs.pk}/read")
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_worker_is_notified_through_the_chain(worker, submitted, as_token):
    submitted(worker, worker.member)
    titles = [n["title"] for n in as_token(worker).get("/notifications").json()["items"]]
    assert titles == ["帮扶申请已提交"]
