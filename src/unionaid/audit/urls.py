from django.urls import path

from unionaid.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event-list"),
    path("export/", views.event_export, name="event-export"),
    path("reads/", views.read_list, name="read-list"),
    path("<int:pk>/", views.event_detail, name="event-detail"),
]
