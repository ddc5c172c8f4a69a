from django.urls import include, path

app_name = "archive"
# Records, enrolment, exit and configuration (urls_records); watch lists and ledgers
# (urls_lists).
urlpatterns = [
    path("", include("unionaid.archive.urls_records")),
    path("", include("unionaid.archive.urls_lists")),
]
