from django.urls import path

from unionaid.schedules import views

app_name = "schedules"
urlpatterns = [
    path("", views.schedule_list, name="list"),
    path("<str:key>/", views.schedule_detail, name="detail"),
    path("<str:key>/enabled/", views.schedule_enabled, name="enabled"),
    path("<str:key>/run/", views.schedule_run, name="run"),
    path("<str:key>/acknowledge/", views.schedule_acknowledge, name="acknowledge"),
]
