"""The JSON API: /api/v1/…, OpenAPI at /api/openapi.json, errors as {code, message}."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from unionaid.accounts.api import router as accounts_router
from unionaid.api.auth import AUTH
from unionaid.approvals.api import router as approvals_router
from unionaid.archive.api import router as archive_router
from unionaid.assistance.api import router as assistance_router
from unionaid.checks.api import router as checks_router
from unionaid.core.errors import ServiceError
from unionaid.exports.api import router as exports_router
from unionaid.funds.api import router as funds_router
from unionaid.matching.api import router as matching_router
from unionaid.members.api import router as members_router
from unionaid.notifications.api import router as notifications_router
from unionaid.org.api import router as org_router
from unionaid.schedules.api import router as schedules_router
from unionaid.stats.api import router as stats_router
from unionaid.visits.api import router as visits_router

api = NinjaAPI(
    title="unionaid API",
    version="1",
    description="工会精准帮扶系统接口 / unionaid back-office API",
    auth=AUTH,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def _field_message(value) -> str:
    """One message per field, as ErrorOut declares (a service may give a list of them)."""
    if isinstance(value, (list, tuple)):
        return "；".join(str(v).rstrip("。；") for v in value) + ("。" if value else "")
    return str(value)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = {str(k): _field_message(v) for k, v in fields.items()}
    return body


def api_not_found(request, *args, **kwargs):
    """Any /api/ address that names no operation (an unknown path, or an id the URL pattern
    does not take, such as ``/api/v1/members/abc``): the API's JSON 404, not the HTML page."""
    return api.create_response(request, error_body("not_found", _("接口地址不存在。")),
                               status=404)


@api.exception_handler(ServiceError)
def _service_error(request, exc: ServiceError):
    # Invalid input is 422 whether the schema or the service found it.
    status = 422 if exc.code == "validation_error" else exc.status
    return api.create_response(request, error_body(exc.code, exc.message, exc.fields),
                               status=status)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, error_body("not_found", _("记录不存在或无权查看。")),
                               status=404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(request, error_body("unauthenticated", _("请先登录或提供有效令牌。")),
                               status=401)


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    fields = {}
    for err in exc.errors:
        loc = list(err.get("loc", []))
        # ("body", "<parameter>", "field", …): name the field as the caller sent it
        parts = loc[2:] if loc[:1] == ["body"] else loc[1:]
        fields[".".join(str(p) for p in parts) or "body"] = err.get("msg", "")
    return api.create_response(
        request, error_body("validation_error", _("提交的数据格式不正确。"), fields), status=422
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return api.create_response(request, error_body("http_error", str(exc)), status=exc.status_code)


def _register_routers() -> None:
    api.add_router("/v1/auth", accounts_router)
    api.add_router("/v1/org", org_router)
    api.add_router("/v1/members", members_router)
    api.add_router("/v1/assistance", assistance_router)
    api.add_router("/v1/approvals", approvals_router)
    api.add_router("/v1/funds", funds_router)
    api.add_router("/v1/visits", visits_router)
    api.add_router("/v1/archive", archive_router)
    api.add_router("/v1/matching", matching_router)
    api.add_router("/v1/notifications", notifications_router)
    api.add_router("/v1/exports", exports_router)
    api.add_router("/v1/schedules", schedules_router)
    api.add_router("/v1/checks", checks_router)
    api.add_router("/v1/stats", stats_router)


_register_routers()
