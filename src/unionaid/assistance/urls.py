from django.urls import path

from unionaid.assistance.views import applications, attachments, catalog, ledgers

app_name = "assistance"
urlpatterns = [
    path("applications/", applications.application_list, name="application-list"),
    path("applications/new/", applications.application_create, name="application-create"),
    path("applications/<int:pk>/", applications.application_detail,
         name="application-detail"),
    path("applications/<int:pk>/edit/", applications.application_edit, name="application-edit"),
    path("applications/<int:pk>/attachments/", applications.attachment_upload,
         name="attachment-upload"),
    path("applications/<int:pk>/attachments/<int:attachment_pk>/remove/",
         applications.attachment_remove, name="attachment-remove"),
    path("applications/<int:pk>/submit/", applications.application_submit,
         name="application-submit"),
    path("applications/<int:pk>/withdraw/", applications.application_withdraw,
         name="application-withdraw"),
    path("applications/<int:pk>/resubmit/", applications.application_resubmit,
         name="application-resubmit"),
    path("attachments/<int:pk>/", attachments.attachment_view, name="attachment"),
    path("catalog/", catalog.catalog_list, name="catalog"),
    path("catalog/caps/", catalog.annual_caps, name="annual-caps"),
    path("catalog/new/", catalog.item_edit, name="item-create"),
    path("catalog/<int:pk>/", catalog.item_edit, name="item-edit"),
    path("catalog/<int:pk>/trial/", catalog.item_trial, name="item-trial"),
    path("ledgers/", ledgers.ledgers, name="ledgers"),
    path("ledgers/export/", ledgers.ledger_export, name="ledger-export"),
]
