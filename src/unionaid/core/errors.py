"""Errors that services raise and edges (views, API, commands) turn into answers.

Each carries a stable ``code`` for the API and a Simplified-Chinese ``message`` for people.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    status = 400
    default_code = "invalid"
    default_message = _("请求无效。")

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None):
        self.message = str(message or self.default_message)
        self.code = code or self.default_code
        self.fields = fields or {}
        super().__init__(self.message)


class NotFound(ServiceError):
    status = 404
    default_code = "not_found"
    default_message = _("记录不存在或无权查看。")


class PermissionDenied(ServiceError):
    status = 403
    default_code = "permission_denied"
    default_message = _("您没有执行此操作的权限。")


class Conflict(ServiceError):
    status = 409
    default_code = "conflict"
    default_message = _("操作与当前状态冲突。")
