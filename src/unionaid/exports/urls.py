from django.urls import path

from unionaid.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("start/<str:kind>/", views.start, name="start"),
    path("<int:pk>/", views.job_detail, name="job"),
    path("<int:pk>/status/", views.job_status, name="job-status"),
    path("<int:pk>/download/", views.job_download, name="download"),
]
