from django.urls import include, path

app_name = "visits"
# Campaigns and pairings (urls/campaigns.py) and visit records (urls/records.py) are kept apart.
urlpatterns = [
    path("campaigns/", include("unionaid.visits.urls.campaigns")),
    path("", include("unionaid.visits.urls.records")),
]
