from django.urls import include, path

app_name = "visits"
# Campaigns and pairings (urls_campaigns) and visit records (urls_records) are kept apart.
urlpatterns = [
    path("campaigns/", include("unionaid.visits.urls_campaigns")),
    path("", include("unionaid.visits.urls_records")),
]
