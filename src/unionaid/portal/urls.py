from django.urls import path

from unionaid.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("applications/", views.application_list, name="application-list"),
    path("apply/<int:item_pk>/", views.apply, name="apply"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application-edit"),
    path("applications/<int:pk>/materials/", views.attachment_upload, name="attachment-upload"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application-submit"),
    path("applications/<int:pk>/resubmit/", views.application_resubmit,
         name="application-resubmit"),
    path("applications/<int:pk>/withdraw/", views.application_withdraw,
         name="application-withdraw"),
    path("attachments/<int:pk>/", views.attachment_file, name="attachment-file"),
    path("attachments/<int:pk>/thumbnail/", views.attachment_thumbnail,
         name="attachment-thumbnail"),
    path("attachments/<int:pk>/remove/", views.attachment_remove, name="attachment-remove"),
]
