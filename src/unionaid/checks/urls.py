from django.urls import path

from unionaid.checks import views

app_name = "checks"

urlpatterns = [
    path("", views.check_list, name="check-list"),
    path("run/", views.check_run, name="check-run"),
    path("search/", views.search, name="search"),
    path("findings/<int:pk>/", views.finding_detail, name="finding-detail"),
    path("findings/<int:pk>/explain/", views.finding_explain, name="finding-explain"),
    path("findings/<int:pk>/reopen/", views.finding_reopen, name="finding-reopen"),
    path("samples/", views.sample_list, name="sample-list"),
    path("samples/<int:pk>/", views.sample_detail, name="sample-detail"),
    path("cases/<int:pk>/review/", views.case_review, name="case-review"),
    path("<str:key>/", views.check_detail, name="check-detail"),
]
