from django.urls import path

from unionaid.funds import views

app_name = "funds"
urlpatterns = [
    path("", views.budget_list, name="budget-list"),
    path("budgets/allocate/", views.budget_allocate, name="budget-allocate"),
    path("budgets/<int:pk>/", views.budget_detail, name="budget-detail"),
    path("budgets/<int:pk>/allocate-down/", views.budget_allocate_down,
         name="budget-allocate-down"),
    path("sources/", views.source_list, name="source-list"),
    path("disbursements/", views.disbursement_list, name="disbursement-list"),
    path("disbursements/<int:pk>/release/", views.disbursement_release,
         name="disbursement-release"),
    path("disbursements/<int:pk>/reverse/", views.disbursement_reverse,
         name="disbursement-reverse"),
    path("disbursements/<int:pk>/repay/", views.disbursement_repay, name="disbursement-repay"),
    path("disbursements/<int:pk>/close/", views.disbursement_close, name="disbursement-close"),
    path("batches/", views.batch_list, name="batch-list"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/export/<str:fmt>/", views.batch_export, name="batch-export"),
    path("batches/<int:pk>/confirm/", views.batch_confirm, name="batch-confirm"),
    path("batches/<int:pk>/void/", views.batch_void, name="batch-void"),
    path("trace/", views.trace_search, name="trace-search"),
    path("trace/<int:pk>/", views.trace_detail, name="trace-detail"),
]
