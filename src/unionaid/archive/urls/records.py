"""Record and configuration pages of the archive (mounted at /archive/, namespace "archive")."""

from django.urls import path

from unionaid.archive.views import config, records

urlpatterns = [
    path("", records.record_list_view, name="record-list"),
    path("<int:pk>/", records.record_detail, name="record-detail"),
    path("enrol/", records.record_enrol_search, name="enrol-search"),
    path("enrol/<int:member_pk>/", records.record_enrol_view, name="record-enrol"),
    path("<int:pk>/resubmit/", records.record_resubmit_view, name="record-resubmit"),
    path("<int:pk>/withdraw/", records.record_withdraw_view, name="record-withdraw"),
    path("<int:pk>/exit/", records.record_exit_view, name="record-exit"),
    path("<int:pk>/close/", records.record_close_view, name="record-close"),
    path("<int:pk>/recheck/", records.record_recheck_view, name="record-recheck"),
    path("<int:pk>/objections/", records.objection_create, name="objection-create"),
    path("objections/<int:pk>/resolve/", records.objection_resolve, name="objection-resolve"),
    path("config/", config.config_home, name="config"),
    path("config/dibao/new/", config.dibao_edit, name="dibao-create"),
    path("config/dibao/<int:pk>/", config.dibao_edit, name="dibao-edit"),
    path("config/dibao/<int:pk>/delete/", config.dibao_delete, name="dibao-delete"),
    path("config/rules/", config.rules_edit, name="rules-edit"),
    path("config/rules/<int:pk>/delete/", config.rules_delete, name="rules-delete"),
    path("config/flows/", config.flows_ensure, name="flows-ensure"),
    path("config/calendar/", config.calendar_view, name="calendar"),
    path("config/calendar/<int:pk>/delete/", config.workday_delete, name="workday-delete"),
]
