from django.urls import path

from unionaid.stats import views

app_name = "stats"

urlpatterns = [
    path("", views.statistic_page, name="statistic"),
    path("export.xlsx", views.statistic_export, name="statistic-export"),
]
