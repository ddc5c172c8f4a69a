from django.urls import path

from unionaid.members.views import io as io_views

app_name = "members_io"
urlpatterns = [
    path("imports/", io_views.imports, name="imports"),
    path("imports/<int:pk>/", io_views.job_detail, name="job"),
    path("imports/<int:pk>/status/", io_views.job_status, name="job-status"),
    path("imports/<int:pk>/confirm/", io_views.job_confirm, name="job-confirm"),
    path("export/", io_views.export, name="export"),
]
