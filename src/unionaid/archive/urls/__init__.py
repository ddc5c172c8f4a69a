from django.urls import include, path

app_name = "archive"
# Records, enrolment, exit and configuration (urls/records.py); watch lists and ledgers
# (urls/lists.py).
urlpatterns = [
    path("", include("unionaid.archive.urls.records")),
    path("", include("unionaid.archive.urls.lists")),
]
