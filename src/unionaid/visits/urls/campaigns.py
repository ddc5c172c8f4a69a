"""/visits/campaigns/…: campaigns and their pairings (included under app_name "visits")."""

from django.urls import path

from unionaid.visits.views import campaigns

urlpatterns = [
    path("", campaigns.campaign_list, name="campaign-list"),
    path("new/", campaigns.campaign_create, name="campaign-create"),
    path("<int:pk>/", campaigns.campaign_detail, name="campaign-detail"),
    path("<int:pk>/edit/", campaigns.campaign_edit, name="campaign-edit"),
    path("<int:pk>/close/", campaigns.campaign_close, name="campaign-close"),
    path("<int:pk>/pairings/new/", campaigns.pairing_add, name="pairing-add"),
    path("<int:pk>/pairings/<int:pairing_pk>/remove/", campaigns.pairing_remove,
         name="pairing-remove"),
]
