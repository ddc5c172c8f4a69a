from django.urls import path

from unionaid.approvals.views import delegations, flows, tasks

app_name = "approvals"
urlpatterns = [
    path("todo/", tasks.todo, name="todo"),
    path("todo/batch/", tasks.todo_batch, name="todo-batch"),
    path("tasks/<int:pk>/", tasks.task_detail, name="task-detail"),
    path("cases/<int:pk>/review/", tasks.fast_track_review, name="fast-track-review"),
    path("delegations/", delegations.delegation_list, name="delegations"),
    path("delegations/<int:pk>/end/", delegations.delegation_end, name="delegation-end"),
    path("flows/", flows.flow_list, name="flow-list"),
    path("flows/edit/", flows.flow_edit, name="flow-edit"),
    path("flows/preview/", flows.flow_preview, name="flow-preview"),
    path("flows/user-posts/", flows.user_posts, name="user-posts"),
]
