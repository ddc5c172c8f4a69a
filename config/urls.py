from django.urls import include, path, re_path

from unionaid.api.api import api, api_not_found
from unionaid.web.views import healthz

urlpatterns = [
    path("", include("unionaid.web.urls")),
    path("accounts/", include("unionaid.accounts.urls")),
    path("org/", include("unionaid.members.urls.org")),  # the tree pages count members
    path("members/io/", include("unionaid.members.urls.io")),
    path("members/", include("unionaid.members.urls.members")),
    path("audit/", include("unionaid.audit.urls")),
    path("funds/", include("unionaid.funds.urls")),
    path("assistance/", include("unionaid.assistance.urls")),
    path("approvals/", include("unionaid.approvals.urls")),
    path("visits/", include("unionaid.visits.urls")),
    path("archive/", include("unionaid.archive.urls")),
    path("matching/", include("unionaid.matching.urls")),
    path("exports/", include("unionaid.exports.urls")),
    path("schedules/", include("unionaid.schedules.urls")),
    path("checks/", include("unionaid.checks.urls")),
    path("stats/", include("unionaid.stats.urls")),
    path("me/", include("unionaid.portal.urls")),
    path("logins/", include("unionaid.portal.activation_urls")),  # how workers get in
    path("notifications/", include("unionaid.notifications.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The API answers JSON everywhere under /api/: its bare root and any address that names no
    # operation (an unknown path, an id its URL converter refuses) get the API's 404 body.
    re_path(r"^api/\Z", api_not_found),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("healthz", healthz),
]
