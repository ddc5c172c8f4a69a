"""Visit records under /visits/ (URL names ``visits:…``)."""

from django.urls import path

from unionaid.visits.views import photos, records

urlpatterns = [
    path("", records.visit_list, name="visit-list"),
    path("new/", records.visit_create, name="visit-create"),
    path("<int:pk>/", records.visit_detail, name="visit-detail"),
    path("<int:pk>/photos/", photos.photo_upload, name="photo-upload"),
    path("photos/<int:pk>/", photos.photo_view, name="photo"),
    path("profiles/<int:pk>/health/", records.profile_health_reveal,
         name="profile-health-reveal"),
    path("members/<int:member_pk>/profiles/", records.profile_history, name="profile-history"),
    path("needs/<int:pk>/application/", records.need_to_application,
         name="need-to-application"),
    path("needs/<int:pk>/follow-up/", records.need_to_follow_up, name="need-to-follow-up"),
    path("needs/<int:pk>/close/", records.need_close, name="need-close"),
    path("follow-ups/", records.follow_up_list, name="follow-up-list"),
    path("follow-ups/<int:pk>/done/", records.follow_up_done, name="follow-up-done"),
]
