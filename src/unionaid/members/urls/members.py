from django.urls import path

from unionaid.members.views import members as views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="member-list"),
    path("new/", views.member_create, name="member-create"),
    path("<int:pk>/", views.member_detail, name="member-detail"),
    path("<int:pk>/edit/", views.member_edit, name="member-edit"),
    path("<int:pk>/reveal/<str:field>/", views.member_reveal, name="member-reveal"),
    path("<int:pk>/consent/", views.member_consent, name="member-consent"),
    path("<int:pk>/household/<int:person_pk>/health/", views.household_health_reveal,
         name="household-health-reveal"),
    path("<int:pk>/household/new/", views.household_create, name="household-create"),
]
