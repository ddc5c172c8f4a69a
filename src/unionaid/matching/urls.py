"""The matching pages, mounted at /matching/ with the ``matching`` namespace."""

from django.urls import path

from unionaid.matching.views import datasets, leads, runs

app_name = "matching"
urlpatterns = [
    path("", datasets.dataset_list, name="dataset-list"),
    path("sources/", datasets.source_list, name="source-list"),
    path("sources/new/", datasets.source_edit, name="source-create"),
    path("sources/<int:pk>/", datasets.source_edit, name="source-edit"),
    path("datasets/<int:pk>/", datasets.dataset_detail, name="dataset-detail"),
    path("datasets/<int:pk>/status/", datasets.dataset_status, name="dataset-status"),
    path("datasets/<int:pk>/confirm/", datasets.dataset_confirm, name="dataset-confirm"),
    path("datasets/<int:pk>/retry/", datasets.dataset_retry, name="dataset-retry"),
    path("datasets/<int:pk>/cancel/", datasets.dataset_cancel, name="dataset-cancel"),
    path("datasets/<int:pk>/purge/", datasets.dataset_purge, name="dataset-purge"),
    path("datasets/<int:pk>/run/", datasets.run_start, name="run-start"),
    path("runs/<int:pk>/", runs.run_detail, name="run-detail"),
    path("runs/<int:pk>/status/", runs.run_status, name="run-status"),
    path("runs/<int:pk>/cancel/", runs.run_cancel, name="run-cancel"),
    path("runs/<int:pk>/retry/", runs.run_retry, name="run-retry"),
    path("review/", runs.review_queue, name="review"),
    path("matches/<int:pk>/decide/", runs.match_decide, name="match-decide"),
    path("leads/", leads.lead_list, name="lead-list"),
    path("leads/<int:pk>/", leads.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/accept/", leads.lead_accept, name="lead-accept"),
    path("leads/<int:pk>/dismiss/", leads.lead_dismiss, name="lead-dismiss"),
    path("lead-rules/", leads.rule_list, name="lead-rule-list"),
    path("lead-rules/new/", leads.rule_edit, name="lead-rule-create"),
    path("lead-rules/<int:pk>/", leads.rule_edit, name="lead-rule-edit"),
]
