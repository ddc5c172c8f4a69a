from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """In-app notifications, plus SMS/WeChat senders behind one interface (console backend)."""

    name = "unionaid.notifications"
    label = "notifications"
